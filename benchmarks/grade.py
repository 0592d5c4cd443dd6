"""Time to grade one full lab, then N boxes with --jobs N against --jobs 1.

Usage: python benchmarks/grade.py BOX [BOX...]   (running, provisioned boxes)
Targets: one lab under 20 s; a class of 3 under 1.5 times one lab.
"""

from __future__ import annotations

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


def main(names: list[str]) -> None:
    students = [student(n) for n in names]
    one = timed(students[:1], 1)
    print(f"one lab ({names[0]}): {one:.2f} s (target < 20 s)")
    serial = timed(students, 1)
    parallel = timed(students, len(students))
    n = len(students)
    print(f"{n} labs, --jobs 1: {serial:.2f} s")
    print(
        f"{n} labs, --jobs {n}: {parallel:.2f} s = {parallel / one:.2f} x one lab "
        "(target < 1.5)"
    )


if __name__ == "__main__":
    main(sys.argv[1:] or ["g-ref"])
