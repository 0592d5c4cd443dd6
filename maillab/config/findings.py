"""What the linters report, and the one error a parser may raise.

Every `lint_*` and `check_*` returns a list of `Finding` and never raises.
A `parse_*` raises `ConfigSyntaxError` only where the format cannot be read
at all; everything else it can read becomes findings.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from maillab.errors import MaillabError


class Severity(StrEnum):
    ERROR = "error"  # the service refuses to start, or does the wrong thing
    WARNING = "warning"  # it works, but not as the student probably meant
    INFO = "info"  # worth knowing


@dataclass(frozen=True)
class Finding:
    """One problem in a configuration file, with where it is and how to fix it."""

    severity: Severity
    file: str
    line: int | None
    message: str
    fix: str
    code: str  # a stable id, such as "postfix.comment-in-value"

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.severity}: {self.message} (fix: {self.fix})"


class ConfigSyntaxError(MaillabError):
    """A configuration file that cannot be read at all."""

    def __init__(self, file: str, line: int | None, message: str, fix: str) -> None:
        where = f"{file}, line {line}" if line else file
        super().__init__(f"{where}: {message}; {fix}")
        self.file = file
        self.line = line
        self.fix = fix
