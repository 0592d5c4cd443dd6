"""Time to grade one full lab, then N boxes with --jobs N against --jobs 1.

Usage: python benchmarks/grade.py BOX [BOX...]   (running, provisioned boxes)
Targets: one lab under 20 s; a class of 3 under 1.5 times one lab.

It also prints the CPU time each grading costs, the grader's own and the
boxes' (their daemons answer the checks), and so the least time N labs can
take on this machine's cores: the boxes run on the grader's CPUs here, which
real lab machines do not.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass

from maillab.box import Box, cgroup
from maillab.grading.batch import grade_class
from maillab.grading.roster import Student

RUNS = 5  # single runs vary by a third on a 2-core machine: report medians


@dataclass(frozen=True)
class Run:
    wall: float
    grader_cpu: float
    boxes_cpu: float


def student(name: str) -> Student:
    box = Box(name)
    return Student(
        name,
        box.address,
        key=str(box.files.key),
        known_hosts=str(box.files.known_hosts),
    )


def own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def boxes_cpu(students: list[Student]) -> float:
    return sum(cgroup.cpu_seconds(s.id) or 0.0 for s in students)


def timed(students: list[Student], jobs: int) -> Run:
    grader, boxes = own_cpu(), boxes_cpu(students)
    start = time.monotonic()
    reports = grade_class(students, jobs=jobs)
    wall = time.monotonic() - start
    assert all(r.unreachable is None for r in reports), "a box is unreachable"
    return Run(wall, own_cpu() - grader, boxes_cpu(students) - boxes)


def median_of(students: list[Student], jobs: int) -> tuple[Run, list[float]]:
    runs = [timed(students, jobs) for _ in range(RUNS)]
    return (
        Run(
            statistics.median(r.wall for r in runs),
            statistics.median(r.grader_cpu for r in runs),
            statistics.median(r.boxes_cpu for r in runs),
        ),
        [r.wall for r in runs],
    )


def shown(runs: list[float]) -> str:
    return "[" + " ".join(f"{r:.2f}" for r in runs) + "]"


def cpu(run: Run) -> str:
    return f"CPU {run.grader_cpu:.2f} s grader + {run.boxes_cpu:.2f} s boxes"


def main(names: list[str]) -> None:
    students = [student(n) for n in names]
    cores = os.cpu_count() or 1
    timed(students, len(students))  # connect once: host keys, caches
    one, one_runs = median_of(students[:1], 1)
    print(
        f"one lab ({names[0]}): median {one.wall:.2f} s {shown(one_runs)} "
        f"(target < 20 s); {cpu(one)}"
    )
    serial, serial_runs = median_of(students, 1)
    parallel, parallel_runs = median_of(students, len(students))
    n = len(students)
    print(f"{n} labs, --jobs 1: median {serial.wall:.2f} s {shown(serial_runs)}")
    print(
        f"{n} labs, --jobs {n}: median {parallel.wall:.2f} s {shown(parallel_runs)} = "
        f"{parallel.wall / one.wall:.2f} x one lab (target < 1.5); {cpu(parallel)}"
    )
    floor = (parallel.grader_cpu + parallel.boxes_cpu) / cores
    print(
        f"{n} labs need {floor:.2f} s of this machine's {cores} cores at the least "
        f"= {floor / one.wall:.2f} x one lab; --jobs {n} runs "
        f"{serial.wall / parallel.wall:.2f} x faster than --jobs 1"
    )


if __name__ == "__main__":
    main(sys.argv[1:] or ["g-ref"])
