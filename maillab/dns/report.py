"""A list of findings about one DNS name, filled by the record checks."""

from __future__ import annotations

from dataclasses import dataclass, field

from maillab.config.findings import Finding, Severity


@dataclass
class Findings:
    name: str  # the DNS name the findings are about (Finding.file)
    items: list[Finding] = field(default_factory=list)

    def add(self, severity: Severity, message: str, fix: str, code: str) -> None:
        self.items.append(Finding(severity, self.name, None, message, fix, code))

    def error(self, message: str, fix: str, code: str) -> None:
        self.add(Severity.ERROR, message, fix, code)

    def warning(self, message: str, fix: str, code: str) -> None:
        self.add(Severity.WARNING, message, fix, code)

    def info(self, message: str, fix: str, code: str) -> None:
        self.add(Severity.INFO, message, fix, code)
