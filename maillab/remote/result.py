"""What a command run on a host gives back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CommandResult:
    """The outcome of one command on a host."""

    command: str
    exit_status: int
    stdout: str
    stderr: str
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exit_status == 0

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class WriteResult:
    """The outcome of `Host.write`: whether the file changed, and its backup."""

    path: str
    changed: bool
    backup: str | None = None
