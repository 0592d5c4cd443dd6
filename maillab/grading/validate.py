"""`validate`: every check passes on the reference, and fails on a fresh lab.

A check that passes on a fresh box passes trivially and proves nothing.
With `invert`, prerequisites are ignored so that each check is judged on
its own (a blocked check would hide a trivial one).
"""

from __future__ import annotations

from dataclasses import dataclass

from maillab.grading.lab import grade_lab
from maillab.grading.result import CheckResult, LabReport, Status
from maillab.remote.host import Host


@dataclass(frozen=True)
class Validation:
    report: LabReport
    invert: bool

    @property
    def offenders(self) -> list[CheckResult]:
        """Checks that did not end as expected (errors always count)."""
        wanted = Status.FAILED if self.invert else Status.PASSED
        return [r for r in self.report.results if r.status is not wanted]

    @property
    def ok(self) -> bool:
        return self.report.unreachable is None and not self.offenders

    def describe(self) -> str:
        expected = "fail" if self.invert else "pass"
        if self.report.unreachable:
            return f"cannot validate: {self.report.unreachable}"
        lines = [
            f"{len(self.report.results)} checks, {len(self.offenders)} did not "
            f"{expected}"
        ]
        lines += [f"  {r.status:8} {r.id}: {r.detail}" for r in self.offenders]
        return "\n".join(lines)


def validate(
    host: Host, address: str, *, invert: bool = False, timeout: float = 15.0
) -> Validation:
    report = grade_lab(host, address, timeout=timeout, ignore_prerequisites=invert)
    return Validation(report, invert)
