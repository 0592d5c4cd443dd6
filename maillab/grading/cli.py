"""`maillab check`, `maillab grade` and `maillab validate`: glue over the library.

maillab/cli.py registers them with one line in `_parser()`:
`add_commands(sub, command)`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maillab.grading.batch import find_clones, grade_class, merge
from maillab.grading.export import from_json, write_outputs
from maillab.grading.lab import grade_lab
from maillab.grading.result import LabReport, Status
from maillab.grading.roster import read_roster
from maillab.grading.runner import DEFAULT_TIMEOUT
from maillab.grading.validate import validate
from maillab.grading.view import ReportView
from maillab.remote.host import Host

Command = Callable[..., argparse.ArgumentParser]


def add_commands(sub: Any, command: Command) -> None:
    """Register check, grade and validate (`sub` and `command` as in maillab.cli)."""
    check = command(
        "check", cmd_check, "am I done? the graded checks of a section", True
    )
    check.add_argument("exercise", nargs="?", help="7.3.2, an exercise id, or all")
    check.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    check.add_argument("--json", action="store_true", help="print JSON")
    grade = command("grade", cmd_grade, "grade a class of lab machines", box=False)
    grade.add_argument("--roster", required=True, help="YAML, CSV or Ansible inventory")
    grade.add_argument("--jobs", type=int, default=4, help="machines at once")
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
    grade.add_argument("--student", help="regrade this student only")
    grade.add_argument("--exercise", help="regrade this exercise only")
    grade.add_argument("--out", help="folder for the results (merged with earlier)")
    val = command("validate", cmd_validate, "check the checks on a lab", True)
    val.add_argument(
        "--invert", action="store_true", help="a fresh lab: every check must fail"
    )
    val.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)


def _target(args: argparse.Namespace) -> Host:
    from maillab.cli import _target as target

    return target(args)


def _address(host: Host, args: argparse.Namespace) -> str:
    """The address the probes go to: the box's, or the SSH host name."""
    settings = getattr(host.backend, "settings", None)
    if settings is not None:
        return str(settings.hostname)
    from maillab.box import Box

    return Box(args.name).address


def cmd_check(args: argparse.Namespace) -> int:
    from maillab.render import console

    with _target(args) as host:
        report = grade_lab(
            host, _address(host, args), exercise=args.exercise, timeout=args.timeout
        )
    if args.json:
        from maillab.grading.export import to_json

        print(to_json([report]))
    else:
        console.print(ReportView(report).render())
    return 0 if report.is_complete else 1


def cmd_validate(args: argparse.Namespace) -> int:
    with _target(args) as host:
        result = validate(
            host, _address(host, args), invert=args.invert, timeout=args.timeout
        )
    print(result.describe())
    return 0 if result.ok else 1


def cmd_grade(args: argparse.Namespace) -> int:
    from maillab.render import console, error_console

    students = read_roster(args.roster)
    if args.student:
        students = [s for s in students if s.id == args.student]
        if not students:
            error_console.print(f"maillab grade: no student {args.student!r}")
            return 2

    def progress(done: int, total: int, eta: float | None, last: str) -> None:
        left = f", about {eta:.0f} s left" if eta else ""
        print(f"graded {done}/{total} ({last}){left}", file=sys.stderr, flush=True)

    reports = grade_class(
        students,
        jobs=args.jobs,
        timeout=args.timeout,
        exercise=args.exercise,
        progress=progress,
    )
    if args.out:
        reports = _merge_into(Path(args.out), reports)
    console.print(class_table(reports))
    for clone in find_clones(reports):
        console.print(
            f"[bold red]same {clone.kind} key[/] ({clone.fingerprint}): "
            + ", ".join(clone.students)
        )
    return 0


def _merge_into(out: Path, reports: list[LabReport]) -> list[LabReport]:
    previous_file = out / "results.json"
    previous = from_json(previous_file.read_text()) if previous_file.exists() else []
    merged = merge(previous, reports)
    write_outputs(merged, out)
    return merged


def class_table(reports: list[LabReport]) -> Any:
    """The terminal table of a class: one row per student, unreachable apart."""
    from rich.table import Table

    table = Table(title="maillab grade")
    for column in ("student", "host", "points", "passed", "failed", "blocked", "error"):
        table.add_column(column)
    for r in reports:
        if r.unreachable:
            continue
        counts = [str(len(r.by_status(s))) for s in Status]
        table.add_row(r.student, r.host, f"{r.points:g}/{r.max_points:g}", *counts)
    unreachable = [r for r in reports if r.unreachable]
    if unreachable:
        table.caption = "unreachable, no score: " + "; ".join(
            f"{r.student} ({r.unreachable})" for r in unreachable
        )
    return table
