"""Grade a class: machines in parallel, progress with an ETA, merged regrades."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from maillab.grading.exercise import Exercise, load_exercises
from maillab.grading.lab import grade_lab
from maillab.grading.result import LabReport
from maillab.grading.roster import Student
from maillab.grading.runner import DEFAULT_TIMEOUT

log = logging.getLogger(__name__)

Progress = Callable[[int, int, float | None, str], None]


def _quiet(done: int, total: int, eta: float | None, last: str) -> None:
    pass


def grade_student(
    student: Student,
    exercises: list[Exercise],
    *,
    exercise: str | None,
    timeout: float,
) -> LabReport:
    """One machine; an unreachable one comes back with `unreachable` set."""
    host = student.connect(timeout=timeout)
    try:
        return grade_lab(
            host,
            student.host,
            student=student.id,
            exercise=exercise,
            exercises=exercises,
            timeout=timeout,
        )
    finally:
        host.close()


def grade_class(
    students: list[Student],
    *,
    jobs: int = 4,
    timeout: float = DEFAULT_TIMEOUT,
    exercise: str | None = None,
    progress: Progress = _quiet,
) -> list[LabReport]:
    """Every student's report, in roster order; machines graded `jobs` at a time."""
    exercises = load_exercises()
    start = time.monotonic()
    reports: dict[str, LabReport] = {}
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {
            pool.submit(
                grade_student, s, exercises, exercise=exercise, timeout=timeout
            ): s
            for s in students
        }
        for future in cf.as_completed(futures):
            student = futures[future]
            reports[student.id] = future.result()
            done = len(reports)
            rate = (time.monotonic() - start) / done
            eta = rate * (len(students) - done) / max(1, min(jobs, len(students)))
            progress(
                done, len(students), eta if done < len(students) else 0.0, student.id
            )
    return [reports[s.id] for s in students]


def merge(previous: list[LabReport], fresh: list[LabReport]) -> list[LabReport]:
    """Earlier results with a regrade laid over them, student by student.

    A regrade of one exercise replaces that exercise's records only; a
    machine unreachable this time keeps its earlier results (and says so).
    """
    merged = {r.student: r for r in previous}
    for new in fresh:
        old = merged.get(new.student)
        if old is None or (new.unreachable is None and _covers_all(new, old)):
            merged[new.student] = new
        elif new.unreachable is not None:
            merged[new.student] = replace(old, unreachable=new.unreachable)
        else:
            merged[new.student] = _overlay(old, new)
    order = [r.student for r in previous] + [
        r.student for r in fresh if r.student not in {p.student for p in previous}
    ]
    return [merged[s] for s in order]


def _covers_all(new: LabReport, old: LabReport) -> bool:
    return {r.exercise for r in old.results} <= {r.exercise for r in new.results}


def _overlay(old: LabReport, new: LabReport) -> LabReport:
    redone = {r.exercise for r in new.results}
    kept = [r for r in old.results if r.exercise not in redone]
    results = kept + new.results
    order = {r.id: i for i, r in enumerate(old.results)}
    results.sort(key=lambda r: order.get(r.id, len(order)))
    return replace(
        old,
        results=results,
        unreachable=None,
        fingerprints=new.fingerprints or old.fingerprints,
    )


@dataclass(frozen=True)
class Clone:
    """Machines that share a key: a copied lab."""

    kind: str  # "ssh" host key or "dkim" key
    fingerprint: str
    students: tuple[str, ...]


def find_clones(reports: list[LabReport]) -> list[Clone]:
    """Groups of students whose machines share an SSH host key or a DKIM key."""
    seen: dict[tuple[str, str], list[str]] = {}
    for report in reports:
        for kind, fingerprint in report.fingerprints.items():
            seen.setdefault((kind, fingerprint), []).append(report.student)
    return [
        Clone(kind, fingerprint, tuple(students))
        for (kind, fingerprint), students in sorted(seen.items())
        if len(students) > 1
    ]
