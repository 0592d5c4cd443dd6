"""Time to grade one full lab, then N boxes with --jobs N against --jobs 1.

Usage: python benchmarks/grade.py BOX [BOX...]   (running, provisioned boxes)
Targets: one lab under 20 s; a class of 3 under 1.5 times one lab.
"""

from __future__ import annotations

import statistics
import sys
import time

from maillab.box import Box
from maillab.grading.batch import grade_class
from maillab.grading.roster import Student


def student(name: str) -> Student:
    box = Box(name)
    return Student(
        name,
        box.address,
        key=str(box.files.key),
        known_hosts=str(box.files.known_hosts),
    )


def timed(students: list[Student], jobs: int) -> float:
    start = time.monotonic()
    reports = grade_class(students, jobs=jobs)
    assert all(r.unreachable is None for r in reports), "a box is unreachable"
    return time.monotonic() - start


RUNS = 5  # single runs vary by a third on a 2-core machine: report medians


def median_of(students: list[Student], jobs: int) -> tuple[float, list[float]]:
    runs = [timed(students, jobs) for _ in range(RUNS)]
    return statistics.median(runs), runs


def shown(runs: list[float]) -> str:
    return "[" + " ".join(f"{r:.2f}" for r in runs) + "]"


def main(names: list[str]) -> None:
    students = [student(n) for n in names]
    timed(students, len(students))  # connect once: host keys, caches
    one, one_runs = median_of(students[:1], 1)
    print(f"one lab ({names[0]}): median {one:.2f} s {shown(one_runs)} (target < 20 s)")
    serial, serial_runs = median_of(students, 1)
    parallel, parallel_runs = median_of(students, len(students))
    n = len(students)
    print(f"{n} labs, --jobs 1: median {serial:.2f} s {shown(serial_runs)}")
    print(
        f"{n} labs, --jobs {n}: median {parallel:.2f} s {shown(parallel_runs)} = "
        f"{parallel / one:.2f} x one lab (target < 1.5)"
    )


if __name__ == "__main__":
    main(sys.argv[1:] or ["g-ref"])
