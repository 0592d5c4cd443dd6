"""Run an exercise set on one machine: one CheckResult per check.

Checks run in a small thread pool, each with its own deadline; a check
starts only once its prerequisites are judged, so the statuses do not depend
on the order in which the checks ran.  Every command is a read (see
`context.is_read_only`): grading never changes the machine.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass

from maillab.errors import HostError
from maillab.grading.context import Context
from maillab.grading.exercise import CheckSpec, Exercise
from maillab.grading.registry import call
from maillab.grading.result import CheckResult, Status

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 15.0
DEFAULT_JOBS = 4  # sshd's MaxSessions (10) bounds the channels per connection


@dataclass(frozen=True)
class Plan:
    """Which checks to run, where each comes from, and which to report."""

    specs: dict[str, CheckSpec]
    exercise_of: dict[str, Exercise]
    reported: tuple[str, ...]


def plan(
    exercises: Iterable[Exercise],
    chosen: Iterable[Exercise],
    only: Iterable[str] | None = None,
) -> Plan:
    """The chosen exercises' checks (or `only` these ids) and their prerequisites.

    The prerequisites run but are not reported.
    """
    everything = list(exercises)
    exercise_of = {c.id: e for e in everything for c in e.checks}
    specs = {c.id: c for e in everything for c in e.checks}
    wanted = None if only is None else set(only)
    reported = tuple(
        c.id for e in chosen for c in e.checks if wanted is None or c.id in wanted
    )
    needed: dict[str, CheckSpec] = {}
    todo = list(reported)
    while todo:
        ident = todo.pop()
        if ident not in needed:
            needed[ident] = specs[ident]
            todo.extend(specs[ident].requires)
    return Plan(needed, exercise_of, reported)


def run_plan(
    lab: Context,
    work: Plan,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = DEFAULT_JOBS,
    ignore_prerequisites: bool = False,
) -> list[CheckResult]:
    """Every reported check's result, in the exercise files' order."""
    done: dict[str, CheckResult] = {}
    pool = cf.ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="check")
    running: dict[cf.Future[CheckResult], tuple[str, float]] = {}
    try:
        while len(done) < len(work.specs):
            _start_ready(pool, lab, work, done, running, ignore_prerequisites)
            _collect(running, done, work, timeout)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    return [done[i] for i in work.reported]


def _start_ready(
    pool: cf.ThreadPoolExecutor,
    lab: Context,
    work: Plan,
    done: dict[str, CheckResult],
    running: dict[cf.Future[CheckResult], tuple[str, float]],
    ignore_prerequisites: bool,
) -> None:
    busy = {ident for ident, _ in running.values()}
    for ident, spec in work.specs.items():
        if ident in done or ident in busy:
            continue
        requires = () if ignore_prerequisites else spec.requires
        if any(r not in done for r in requires):
            continue
        blocker = _blocker(requires, done)
        exercise = work.exercise_of[ident]
        if blocker is not None:
            done[ident] = _blocked(spec, exercise, blocker)
            continue
        future = pool.submit(run_check, lab, spec, exercise)
        running[future] = (ident, time.monotonic())


def _blocker(requires: Iterable[str], done: dict[str, CheckResult]) -> str | None:
    """The first prerequisite that did not pass, followed to its root cause."""
    for ident in requires:
        result = done[ident]
        if result.status is Status.BLOCKED:
            return result.blocked_by
        if result.status is not Status.PASSED:
            return ident
    return None


def _collect(
    running: dict[cf.Future[CheckResult], tuple[str, float]],
    done: dict[str, CheckResult],
    work: Plan,
    timeout: float,
) -> None:
    if not running:
        return
    now = time.monotonic()
    wait = max(0.0, min(start + timeout for _, start in running.values()) - now)
    finished, _ = cf.wait(running, timeout=wait, return_when=cf.FIRST_COMPLETED)
    for future in finished:
        ident, _ = running.pop(future)
        done[ident] = future.result()
    now = time.monotonic()
    for future, (ident, start) in list(running.items()):
        if now - start >= timeout:
            running.pop(future)
            future.cancel()
            spec = work.specs[ident]
            log.warning("check %s timed out after %g s", ident, timeout)
            done[ident] = _record(
                spec,
                work.exercise_of[ident],
                Status.ERROR,
                f"la vérification « {spec.title} » a dépassé {timeout:g} s",
                f"{ident}: timed out after {timeout:g} s",
                now - start,
            )


def run_check(lab: Context, spec: CheckSpec, exercise: Exercise) -> CheckResult:
    """One check, judged: passed, failed, or error when nothing could be judged."""
    start = time.monotonic()
    try:
        verdict = call(spec.function, lab, spec.args)
    except Exception as exc:  # noqa: BLE001 - a broken tool is an error, never a crash
        return _errored(spec, exercise, exc, time.monotonic() - start)
    status = Status.PASSED if verdict.passed else Status.FAILED
    message = "" if verdict.passed else spec.feedback.fr
    return _record(
        spec, exercise, status, message, verdict.detail, time.monotonic() - start
    )


def _errored(
    spec: CheckSpec, exercise: Exercise, exc: BaseException, duration: float
) -> CheckResult:
    kind = "host" if isinstance(exc, HostError) else "tool"
    message = (
        "la vérification n'a pas pu être faite (machine ou outil injoignable) ; "
        "ce n'est pas compté comme une erreur de configuration"
    )
    detail = f"{kind} error: {type(exc).__name__}: {exc}"
    return _record(spec, exercise, Status.ERROR, message, detail, duration)


def _blocked(spec: CheckSpec, exercise: Exercise, blocker: str) -> CheckResult:
    message = f"bloqué par {blocker} : corrigez d'abord ce point"
    result = _record(spec, exercise, Status.BLOCKED, message, "not run", 0.0)
    return _with_blocker(result, blocker)


def _with_blocker(result: CheckResult, blocker: str) -> CheckResult:
    from dataclasses import replace

    return replace(result, blocked_by=blocker)


def _record(
    spec: CheckSpec,
    exercise: Exercise,
    status: Status,
    message: str,
    detail: str,
    duration: float,
) -> CheckResult:
    return CheckResult(
        exercise=exercise.id,
        id=spec.id,
        title=spec.title,
        points=spec.points if status is Status.PASSED else 0.0,
        max_points=spec.points,
        status=status,
        visibility="hidden" if spec.hidden else "visible",
        message=message,
        detail=detail,
        duration=round(duration, 3),
        section=exercise.reread,
        hint="" if status is Status.PASSED else exercise.hint,
    )
