"""The chapter as code: the reference solution of each section, applied idempotently.

from maillab.course import provision
for result in provision(lab, until="7.3.2"):
    print(result.step.id, result.changes or "unchanged")
"""

from __future__ import annotations

from collections.abc import Iterator

from maillab.course.lab import Lab, read_lab
from maillab.course.sections import SECTIONS, Section
from maillab.course.step import Step, StepFailed, StepResult, apply_step
from maillab.errors import MaillabError
from maillab.remote.host import Host

__all__ = [
    "SECTIONS",
    "Section",
    "Step",
    "StepFailed",
    "StepResult",
    "apply_step",
    "provision",
    "sections_for",
    "steps_for",
]

SECTION_IDS = tuple(s.id for s in SECTIONS)


def sections_for(until: str | None = None, section: str | None = None) -> list[Section]:
    """The sections `--until` (inclusive, or "all") or `--section` names."""
    wanted = section or until or "all"
    if wanted == "all":
        return list(SECTIONS)
    if wanted not in SECTION_IDS:
        raise MaillabError(
            f"no section {wanted!r}; choose one of {', '.join(SECTION_IDS)} or all"
        )
    index = SECTION_IDS.index(wanted)
    return [SECTIONS[index]] if section else list(SECTIONS[: index + 1])


def steps_for(lab: Lab, sections: list[Section]) -> list[Step]:
    return [step for s in sections for step in s.steps(lab)]


def provision(
    host: Host, *, until: str | None = None, section: str | None = None
) -> Iterator[StepResult]:
    """Apply the reference solution, step by step, yielding what each step did.

    A failing step raises `StepFailed` (its files put back); the steps before
    it stay applied, and running the same provision again picks up from there.
    """
    sections = sections_for(until, section)
    lab = read_lab(host)
    for step in steps_for(lab, sections):
        yield apply_step(host, step)
