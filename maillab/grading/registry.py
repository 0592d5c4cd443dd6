"""The registered check functions that exercise files name, and their verdict."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from maillab.errors import MaillabError
from maillab.grading.context import Context
from maillab.probes.result import ProbeResult, Status


@dataclass(frozen=True)
class Verdict:
    """What a check found: passed or not, and what it saw (for the instructor)."""

    passed: bool
    detail: str


class CheckError(MaillabError):
    """A check could not judge: its tool broke or the host did not answer."""


CheckFunction = Callable[..., Verdict]
REGISTRY: dict[str, CheckFunction] = {}


def check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check function under the name exercise files use."""

    def register(func: CheckFunction) -> CheckFunction:
        if name in REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        REGISTRY[name] = func
        return func

    return register


def lookup(name: str) -> CheckFunction:
    load_checks()
    if name not in REGISTRY:
        raise MaillabError(f"unknown check function {name!r}")
    return REGISTRY[name]


def load_checks() -> None:
    """Import the modules that register the checks."""
    from maillab.grading import checks  # noqa: F401


def from_probe(result: ProbeResult) -> Verdict:
    """A probe's result as a verdict; a probe ERROR is a CheckError.

    A refused connection is a failure, not an error: the host answered (it
    is reached over SSH first), and nothing listens where the chapter says.
    """
    where = f"({result.source} -> {result.destination})"
    if result.status is Status.ERROR and "connection refused" not in result.summary:
        raise CheckError(f"{result.summary} {where}")
    return Verdict(result.passed, f"{result.summary} {where}")


def call(name: str, lab: Context, args: dict[str, Any]) -> Verdict:
    return lookup(name)(lab, **args)


@check("all_of")
def check_all_of(lab: Context, *, checks: list[dict[str, Any]]) -> Verdict:
    """Several checks that pass only together (a setting and its behaviour)."""
    details = []
    for part in checks:
        verdict = call(part["check"], lab, dict(part.get("args") or {}))
        details.append(verdict.detail)
        if not verdict.passed:
            return Verdict(False, "; ".join(details))
    return Verdict(True, "; ".join(details))
