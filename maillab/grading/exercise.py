"""Exercise files: YAML, one per chapter section, naming registered checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from maillab.errors import MaillabError
from maillab.grading.registry import lookup

EXERCISES_DIR = Path(__file__).resolve().parents[2] / "exercises"


class ExerciseError(MaillabError):
    """An exercise file that cannot be used as it is."""


@dataclass(frozen=True)
class Feedback:
    fr: str
    en: str = ""


@dataclass(frozen=True)
class CheckSpec:
    """One check of an exercise: a registered function, its arguments, its feedback."""

    id: str  # qualified: "7.3.1/mydestination"
    title: str
    points: float
    function: str
    args: dict[str, Any]
    feedback: Feedback
    hidden: bool = False
    requires: tuple[str, ...] = ()  # qualified check ids


@dataclass(frozen=True)
class Exercise:
    id: str
    section: str
    title: str
    points: float
    reread: str  # the chapter section to reread
    hint: str
    checks: tuple[CheckSpec, ...] = field(default_factory=tuple)
    prerequisites: tuple[str, ...] = ()  # qualified check ids of other exercises


def _qualify(exercise: str, ref: str) -> str:
    return ref if "/" in ref else f"{exercise}/{ref}"


def _check(
    exercise: str, data: dict[str, Any], inherited: tuple[str, ...]
) -> CheckSpec:
    feedback = data.get("feedback") or {}
    if not feedback.get("fr"):
        raise ExerciseError(f"{exercise}/{data.get('id')}: feedback.fr is missing")
    lookup(data["check"])  # an unknown function is an error at load time
    requires = tuple(_qualify(exercise, r) for r in data.get("requires", []))
    return CheckSpec(
        id=f"{exercise}/{data['id']}",
        title=str(data["title"]),
        points=float(data["points"]),
        function=str(data["check"]),
        args=dict(data.get("args") or {}),
        feedback=Feedback(feedback["fr"], feedback.get("en", "")),
        hidden=bool(data.get("hidden", False)),
        requires=inherited + requires,
    )


def parse_exercise(data: dict[str, Any], *, source: str = "<exercise>") -> Exercise:
    """An exercise from its YAML mapping; the points must add up."""
    try:
        ident = str(data["id"])
        prerequisites = tuple(data.get("prerequisites", []))
        checks = tuple(_check(ident, c, prerequisites) for c in data["checks"])
        exercise = Exercise(
            id=ident,
            section=str(data["section"]),
            title=str(data["title"]),
            points=float(data["points"]),
            reread=str(data["reread"]),
            hint=str(data["hint"]),
            checks=checks,
            prerequisites=prerequisites,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ExerciseError(f"{source}: missing or wrong field {exc}") from None
    total = sum(c.points for c in checks)
    if abs(total - exercise.points) > 1e-9:
        raise ExerciseError(
            f"{source}: checks add up to {total}, not {exercise.points}"
        )
    return exercise


def load_exercises(folder: Path | None = None) -> list[Exercise]:
    """Every exercise file of a folder (exercises/ by default), in section order."""
    folder = folder or EXERCISES_DIR
    exercises = [
        parse_exercise(read_yaml(path), source=str(path))
        for path in sorted(folder.glob("*.yaml"))
    ]
    _check_references(exercises)
    return exercises


# libyaml's loader when PyYAML has it (its wheels do): ten times faster than
# the pure-Python one, which took most of the grader's own CPU time.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path, error: type[MaillabError] = ExerciseError) -> Any:
    """A YAML file's data; a syntax error names the file and the line."""
    try:
        return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a safe loader
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise error(
            f"{path}{line}: not valid YAML ({exc.problem}); check the indentation "
            "and quote values that contain ': ' or start with '*', '&' or '{'"
        ) from None
    except yaml.YAMLError as exc:
        raise error(f"{path}: not valid YAML ({exc})") from None


def _check_references(exercises: Iterable[Exercise]) -> None:
    known = {c.id for e in exercises for c in e.checks}
    for exercise in exercises:
        for spec in exercise.checks:
            unknown = [r for r in spec.requires if r not in known]
            if unknown:
                raise ExerciseError(f"{spec.id}: requires unknown {', '.join(unknown)}")


def select(exercises: list[Exercise], wanted: str | None) -> list[Exercise]:
    """The exercises of one section or one exercise id ("7.3.2", "drill-dkim")."""
    if not wanted or wanted == "all":
        return exercises
    chosen = [e for e in exercises if wanted in (e.id, e.section)]
    if not chosen:
        names = ", ".join(e.id for e in exercises)
        raise MaillabError(f"no exercise {wanted!r}; choose one of {names}")
    return chosen
