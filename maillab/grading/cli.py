"""`maillab check`, `maillab grade` and `maillab validate`: glue over the library.

maillab/cli.py registers them with one line in `_parser()`:
`add_commands(sub, command)`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from maillab.errors import MaillabError
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
    check.add_argument(
        "exercise", nargs="?", help="7.3.2 (a section), 7.3.2/auth (one check), or all"
    )
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
    _add_drill(sub)


def _add_drill(sub: Any) -> None:
    """`maillab drill ACTION [NAME]`: one sub-parser per action, so that the
    options may come before or after the drill's name."""
    about = "break-fix drills: break the lab, find and fix it"
    drill = sub.add_parser("drill", help=about, description=about)
    drill.set_defaults(func=lambda _: drill.print_help() or 2)
    actions = drill.add_subparsers(metavar="ACTION")
    for action, help, named, remote in (
        ("list", "the drills: id, section, symptom", False, False),
        ("start", "break the lab; prints the symptom", True, True),
        ("check", "the drill's checks; exit 0 once fixed", True, True),
        ("undo", "put the files back, restart the services", True, True),
        ("show", "what the drill breaks (for instructors: it spoils it)", True, False),
    ):
        p = actions.add_parser(action, help=help, description=help)
        if named:
            p.add_argument("drill", help="the drill's id (see `maillab drill list`)")
        if remote:
            p.add_argument(
                "--name", default="default", help="the lab box (default: default)"
            )
            where = p.add_mutually_exclusive_group()
            where.add_argument("--host", help="a Host entry of ~/.ssh/config")
            where.add_argument("--vagrant", metavar="DIR", help="a Vagrant VM folder")
        if action == "check":
            p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT)
        p.set_defaults(func=cmd_drill, action=action)


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

    exercise, checks = args.exercise, None
    if exercise and "/" in exercise:  # one check, as the report names it
        from maillab.grading.exercise import load_exercises

        known = [c.id for e in load_exercises() for c in e.checks]
        if exercise not in known:
            section = exercise.partition("/")[0]
            near = ", ".join(k for k in known if k.startswith(section + "/"))
            raise MaillabError(f"no check {exercise!r}; {section} has {near or 'none'}")
        exercise, checks = None, [args.exercise]
    with _target(args) as host:
        report = grade_lab(
            host,
            _address(host, args),
            exercise=exercise,
            checks=checks,
            timeout=args.timeout,
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
    graded = {r.student for r in reports}
    if args.out:
        reports = _merge_into(Path(args.out), reports)
        kept = [r.student for r in reports if r.student not in graded]
        if kept:
            error_console.print(
                f"kept the earlier results of {', '.join(kept)} from {args.out} "
                "(not graded in this run)"
            )
    console.print(class_table(reports))
    for clone in find_clones(reports):
        console.print(
            f"[bold red]same {clone.kind} key[/] ({clone.fingerprint}): "
            + ", ".join(clone.students)
        )
    # 1 when a machine of this run could not be graded (listed under the table)
    return 1 if any(r.unreachable for r in reports if r.student in graded) else 0


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


def cmd_drill(args: argparse.Namespace) -> int:
    from maillab.grading import drills
    from maillab.render import console, error_console

    if args.action == "list":
        console.print(drill_table(drills.load_drills()))
        return 0
    drill = drills.find_drill(args.drill)
    if args.action == "show":
        print(drill_fault(drill))
        return 0
    again = _same_target(args)
    with _target(args) as host:
        if args.action == "start":
            drills.start(host, drill, again=again)
            console.print(drill_symptom(drill, again))
            return 0
        if args.action == "undo":
            for line in drills.undo(host, drill):
                console.print(f"  {line}")
            console.print(f"drill {drill.id}: the lab is as it was")
            return 0
        if not drills.started(host, drill):
            error_console.print(
                f"maillab drill check: drill {drill.id} is not started on {host.name}"
                f" (`maillab drill start {drill.id}{again}`)"
            )
            return 2
        report = grade_lab(
            host, _address(host, args), checks=drill.targets, timeout=args.timeout
        )
    console.print(ReportView(report).render())
    if report.is_complete:
        console.print(f"[bold green]Réparé[/] : {drill.title}")
        return 0
    return 1


def drill_table(found: list[Any]) -> Any:
    from rich.table import Table

    table = Table(title="maillab drill")
    for column in ("drill", "section", "symptom"):
        table.add_column(column)
    for drill in found:
        table.add_row(drill.id, drill.section, drill.title)
    return table


def _same_target(args: argparse.Namespace) -> str:
    """The options that reach the same machine again, for suggested commands."""
    if getattr(args, "host", None):
        return f" --host {shlex.quote(args.host)}"
    if getattr(args, "vagrant", None):
        return f" --vagrant {shlex.quote(args.vagrant)}"
    name = getattr(args, "name", "default")
    return "" if name == "default" else f" --name {name}"


def drill_symptom(drill: Any, again: str = "") -> Any:
    from rich.panel import Panel

    text = (
        f"{drill.symptom}\n\n[dim]Relisez {drill.section}. Quand c'est réparé : "
        f"maillab drill check {drill.id}{again}[/]"
    )
    return Panel(text, title=f"{drill.id} : {drill.title}")


def drill_fault(drill: Any) -> Any:
    """What the drill breaks and checks: for instructors (it spoils the drill)."""
    lines = [f"{drill.id} ({drill.section}): {drill.title}"]
    lines += [f"  edit {e.path}: {e.pattern} -> {e.replacement}" for e in drill.edits]
    lines += [f"  run {c}" for c in drill.commands]
    lines += [f"  undo: {c}" for c in drill.undo_commands]
    lines += [f"  checks: {', '.join(drill.targets)}"]
    if drill.hint:
        lines += ["  hint: " + " ".join(drill.hint.split())]
    return "\n".join(lines)
