"""One result record per check, and the report of one machine built from them."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the lab answered, and the answer is wrong
    BLOCKED = "blocked"  # a prerequisite did not pass: not a second failure
    ERROR = "error"  # no answer to judge: broken tool, unreachable host, timeout


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check: what the gradebook, JUnit and HTML pages show."""

    exercise: str
    id: str  # "7.3.1/mydestination"
    title: str
    points: float
    max_points: float
    status: Status
    visibility: str  # "visible" or "hidden"
    message: str  # for the student (French), empty when passed
    detail: str  # for the instructor: what the check saw
    duration: float
    section: str = ""
    hint: str = ""
    blocked_by: str | None = None

    @property
    def is_hidden(self) -> bool:
        return self.visibility == "hidden"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{**data, "status": Status(data["status"])})


@dataclass
class LabReport:
    """Every check result of one machine, or why the machine could not be graded."""

    student: str
    host: str
    results: list[CheckResult] = field(default_factory=list)
    unreachable: str | None = None  # the reason; such a machine gets no score
    fingerprints: dict[str, str] = field(default_factory=dict)  # ssh, dkim
    duration: float = 0.0

    @property
    def points(self) -> float:
        return round(sum(r.points for r in self.results), 2)

    @property
    def max_points(self) -> float:
        return round(sum(r.max_points for r in self.results), 2)

    @property
    def is_complete(self) -> bool:
        return self.unreachable is None and all(
            r.status is Status.PASSED for r in self.results
        )

    def by_status(self, status: Status) -> list[CheckResult]:
        return [r for r in self.results if r.status is status]

    def exercise_points(self) -> dict[str, tuple[float, float]]:
        """Exercise id -> (points, max points)."""
        totals: dict[str, tuple[float, float]] = {}
        for r in self.results:
            got, top = totals.get(r.exercise, (0.0, 0.0))
            totals[r.exercise] = (got + r.points, top + r.max_points)
        return totals

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["points"], data["max_points"] = self.points, self.max_points
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabReport:
        return cls(
            student=data["student"],
            host=data["host"],
            results=[CheckResult.from_dict(r) for r in data.get("results", [])],
            unreachable=data.get("unreachable"),
            fingerprints=dict(data.get("fingerprints", {})),
            duration=float(data.get("duration", 0.0)),
        )
