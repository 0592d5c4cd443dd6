"""Break-fix drills: a fault put into a working lab, for the student to find.

A drill (exercises/drills/*.yaml) says what the student sees (the symptom,
in French), how to break the lab (file edits and commands), and which of the
section checks the fault makes fail: `maillab drill check` runs those, so a
drill is fixed exactly when the chapter's own checks pass again.

Every file a drill changes is backed up first (Host.write); the list of
backups is kept on the machine, root-only, so `maillab drill undo` puts the
files back even from another computer.  A student with root on the machine
can read that list: drills are for practice, not for exams.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from maillab.errors import MaillabError
from maillab.grading.exercise import EXERCISES_DIR, Exercise, load_exercises
from maillab.remote.host import Host

DRILLS_DIR = EXERCISES_DIR / "drills"
STATE_DIR = "/var/backups/maillab/drills"


class DrillError(MaillabError):
    """A drill that cannot be started, checked or undone as asked."""


@dataclass(frozen=True)
class Edit:
    """Replace what a regex matches in a file (each line, re.MULTILINE)."""

    path: str
    pattern: str
    replacement: str


@dataclass(frozen=True)
class Drill:
    id: str
    section: str
    title: str
    symptom: str  # what the student is told, in French
    hint: str
    edits: tuple[Edit, ...]
    commands: tuple[str, ...]  # run as root after the edits (restarts)
    undo_commands: tuple[str, ...]  # run as root after the files are back
    targets: tuple[str, ...]  # qualified check ids the fault makes fail

    @property
    def state_file(self) -> str:
        return f"{STATE_DIR}/{self.id}"


def load_drills(folder: Path | None = None) -> list[Drill]:
    """Every drill file of a folder (exercises/drills by default), by id."""
    folder = folder or DRILLS_DIR
    drills = [_parse(path) for path in sorted(folder.glob("*.yaml"))]
    known = {c.id for e in load_exercises() for c in e.checks}
    for drill in drills:
        unknown = [t for t in drill.targets if t not in known]
        if unknown:
            raise DrillError(f"drill {drill.id}: unknown check {', '.join(unknown)}")
    return drills


def find_drill(name: str, drills: Iterable[Drill] | None = None) -> Drill:
    everything = list(drills if drills is not None else load_drills())
    for drill in everything:
        if drill.id == name:
            return drill
    names = ", ".join(d.id for d in everything)
    raise DrillError(f"no drill {name!r}; choose one of {names}")


def _parse(path: Path) -> Drill:
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise DrillError(f"{path}: not valid YAML ({exc})") from None
    try:
        edits = tuple(
            Edit(e["path"], e["replace"], e["with"]) for e in data.get("edits", [])
        )
        for edit in edits:
            re.compile(edit.pattern)
        return Drill(
            id=str(data["id"]),
            section=str(data["section"]),
            title=str(data["title"]),
            symptom=str(data["symptom"]).strip(),
            hint=str(data.get("hint", "")).strip(),
            edits=edits,
            commands=tuple(data.get("commands", [])),
            undo_commands=tuple(data.get("undo", [])),
            targets=tuple(data["targets"]),
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise DrillError(f"{path}: missing or wrong field {exc}") from None
    except re.error as exc:
        raise DrillError(f"{path}: bad regex in edits ({exc})") from None


def started(host: Host, drill: Drill) -> bool:
    return host.run(["test", "-e", drill.state_file], sudo=True).ok


def start(host: Host, drill: Drill) -> list[str]:
    """Break the lab as the drill says; what was done, one line each."""
    if started(host, drill):
        raise DrillError(
            f"drill {drill.id} is already started on {host.name}; "
            f"`maillab drill undo {drill.id}` first"
        )
    done = []
    state: list[tuple[str, str]] = []
    for edit in drill.edits:
        text = host.read(edit.path)
        new, count = re.subn(edit.pattern, edit.replacement, text, flags=re.MULTILINE)
        if count == 0:
            _put_back(host, state)
            raise DrillError(
                f"drill {drill.id}: {edit.path} has no line matching "
                f"{edit.pattern!r}; the drill starts from the chapter's "
                f"configuration (`maillab provision --section {drill.section}`)"
            )
        if new == text:
            _put_back(host, state)
            raise DrillError(f"drill {drill.id}: {edit.path} already has the fault")
        written = host.write(edit.path, new)
        state.append((edit.path, written.backup or ""))
        done.append(f"edited {edit.path}")
    _save_state(host, drill, state)
    for command in drill.commands:
        host.run(command, sudo=True, check=True, timeout=120)
        done.append(f"ran {command}")
    return done


def undo(host: Host, drill: Drill) -> list[str]:
    """Put back every file the drill changed, then run its undo commands."""
    if not started(host, drill):
        raise DrillError(f"drill {drill.id} is not started on {host.name}")
    lines = host.read(drill.state_file).splitlines()
    pairs = (line.partition("\t") for line in lines)
    done = _put_back(host, [(path, backup) for path, tab, backup in pairs if tab])
    for command in drill.undo_commands:
        host.run(command, sudo=True, check=True, timeout=120)
        done.append(f"ran {command}")
    host.run(["rm", "-f", "--", drill.state_file], sudo=True, check=True)
    return done


def _put_back(host: Host, state: list[tuple[str, str]]) -> list[str]:
    """The files as they were; what is there now is backed up in turn."""
    done = []
    for path, backup in reversed(state):
        host.restore(path, backup)
        done.append(f"put back {path}")
    return done


def _save_state(host: Host, drill: Drill, state: list[tuple[str, str]]) -> None:
    host.run(["mkdir", "-p", "-m", "700", STATE_DIR], sudo=True, check=True)
    text = "".join(f"{path}\t{backup}\n" for path, backup in state)
    host.write(drill.state_file, text, mode=0o600)


def target_exercises(drill: Drill, exercises: list[Exercise]) -> list[Exercise]:
    """The exercises that hold the drill's target checks."""
    return [e for e in exercises if any(c.id in drill.targets for c in e.checks)]


def describe(drill: Drill) -> dict[str, Any]:
    return {
        "id": drill.id,
        "section": drill.section,
        "title": drill.title,
        "symptom": drill.symptom,
        "targets": list(drill.targets),
    }
