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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maillab.errors import MaillabError
from maillab.grading.exercise import EXERCISES_DIR, load_exercises, read_yaml
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


NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def load_drills(folder: Path | None = None) -> list[Drill]:
    """Every drill file of a folder (exercises/drills by default), by id."""
    folder = folder or DRILLS_DIR
    return [_parse(path, _known_checks()) for path in sorted(folder.glob("*.yaml"))]


def find_drill(name: str, folder: Path | None = None) -> Drill:
    """One drill, read from its own file (a broken other file does not matter)."""
    folder = folder or DRILLS_DIR
    path = folder / f"{name}.yaml"
    if not NAME.match(name) or not path.is_file():
        names = ", ".join(p.stem for p in sorted(folder.glob("*.yaml")))
        raise DrillError(f"no drill {name!r}; choose one of {names}")
    return _parse(path, _known_checks())


def _known_checks() -> set[str]:
    return {c.id for e in load_exercises() for c in e.checks}


def _parse(path: Path, known: set[str]) -> Drill:
    data = read_yaml(path, DrillError)
    if not isinstance(data, dict):
        raise DrillError(f"{path}: a drill file is a mapping (id:, title:, ...)")
    field = _Fields(path, data)
    drill = Drill(
        id=field.text("id"),
        section=field.text("section"),
        title=field.text("title"),
        symptom=field.text("symptom").strip(),
        hint=field.text("hint", required=False).strip(),
        edits=tuple(_edit(path, i, e) for i, e in enumerate(field.items("edits"))),
        commands=tuple(field.texts("commands")),
        undo_commands=tuple(field.texts("undo")),
        targets=tuple(field.texts("targets")),
    )
    if drill.id != path.stem or not NAME.match(drill.id):
        raise DrillError(
            f"{path}: id {drill.id!r} must be the file's name ({path.stem}), "
            "in lower case letters, digits and dashes"
        )
    if not drill.targets:
        raise DrillError(f"{path}: targets: name the checks the fault makes fail")
    unknown = [t for t in drill.targets if t not in known]
    if unknown:
        raise DrillError(
            f"{path}: drill {drill.id}: unknown check {', '.join(unknown)} "
            "(check ids are section/id, as in exercises/*.yaml)"
        )
    return drill


def _edit(path: Path, index: int, data: Any) -> Edit:
    where = f"{path}: edits[{index}]"
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) for k in ("path", "replace", "with")
    ):
        raise DrillError(f"{where}: give path:, replace: (a regex) and with: (text)")
    if not data["path"].startswith("/"):
        raise DrillError(f"{where}: path {data['path']!r} must be absolute")
    try:
        re.compile(data["replace"], re.MULTILINE)
    except re.error as exc:
        raise DrillError(f"{where}: bad regex {data['replace']!r} ({exc})") from None
    return Edit(data["path"], data["replace"], data["with"])


@dataclass(frozen=True)
class _Fields:
    path: Path
    data: dict[str, Any]

    def text(self, key: str, *, required: bool = True) -> str:
        value = self.data.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str | int | float) or not str(value).strip():
            raise DrillError(f"{self.path}: {key}: missing or not text")
        return str(value)

    def items(self, key: str) -> list[Any]:
        value = self.data.get(key, [])
        if not isinstance(value, list):
            raise DrillError(f"{self.path}: {key}: give a list (- item per line)")
        return value

    def texts(self, key: str) -> list[str]:
        value = self.items(key)
        if not all(isinstance(v, str) and v.strip() for v in value):
            raise DrillError(f"{self.path}: {key}: each item must be text")
        return value


def started(host: Host, drill: Drill) -> bool:
    return host.exists(drill.state_file)


def start(host: Host, drill: Drill, *, again: str = "") -> list[str]:
    """Break the lab as the drill says; what was done, one line each.

    `again` is what the suggested commands need to reach the same machine
    (such as " --name h1").  When a command fails, the lab is put back.
    """
    if started(host, drill):
        raise DrillError(
            f"drill {drill.id} is already started on {host.name}; "
            f"`maillab drill undo {drill.id}{again}` first"
        )
    done = []
    state: list[tuple[str, str]] = []
    for edit in drill.edits:
        text = host.read(edit.path)
        # `with` is literal text: no group references to go wrong at start time
        literal = edit.replacement.replace("\\", "\\\\")
        new, count = re.subn(edit.pattern, literal, text, flags=re.MULTILINE)
        if count == 0:
            _put_back(host, state)
            raise DrillError(
                f"drill {drill.id}: {edit.path} has no line matching "
                f"{edit.pattern!r}; the drill starts from the chapter's "
                f"configuration (`maillab provision{again} --section {drill.section}`)"
            )
        if new == text:
            _put_back(host, state)
            raise DrillError(f"drill {drill.id}: {edit.path} already has the fault")
        written = host.write(edit.path, new)
        state.append((edit.path, written.backup or ""))
        done.append(f"edited {edit.path}")
    _save_state(host, drill, state)
    for command in drill.commands:
        result = host.run(command, sudo=True, timeout=120)
        if not result.ok:
            undo(host, drill)
            said = (result.stderr or result.stdout).strip().splitlines()
            raise DrillError(
                f"drill {drill.id}: `{command}` failed (exit {result.exit_status}"
                f"{': ' + said[-1] if said else ''}); the lab was put back as it was"
            )
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
