"""Idempotent provisioning steps: what a step manages, and how it is applied.

A step owns some files (written whole, or edited by the real tool), some
commands that run only when their `unless` test fails, a validation command
and the services to reload.  Applying a step twice changes nothing the second
time.  When validation fails, every file the step wrote is put back and
`StepFailed` carries the tool's message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from maillab.errors import MaillabError
from maillab.remote.host import Host
from maillab.remote.result import WriteResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ManagedFile:
    """A file whose whole content the step sets."""

    path: str
    content: str
    owner: str | None = None
    mode: int | None = None


@dataclass(frozen=True)
class Ensure:
    """A command run only when `unless` fails (both as root)."""

    description: str
    command: str
    unless: str


@dataclass(frozen=True)
class Step:
    """One idempotent piece of a chapter section."""

    id: str
    section: str
    title: str
    ensure: Sequence[Ensure] = ()
    files: Sequence[ManagedFile] = ()
    # Files computed from the host's current state (for example main.cf
    # edited by `postconf -e`): called at apply time.
    computed: Sequence[Callable[[Host], ManagedFile]] = ()
    validate: str | None = None
    after_change: Sequence[str] = ()
    services: Sequence[str] = ()
    # Restarted when the step changed something.
    restart: Sequence[str] = ()


@dataclass
class StepResult:
    """What applying a step did."""

    step: Step
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


class StepFailed(MaillabError):
    """A step's validation failed; its files were put back."""

    def __init__(self, step: Step, command: str, output: str) -> None:
        super().__init__(
            f"step {step.id} ({step.title}): `{command}` refused the new "
            f"configuration, so the previous files were put back:\n{output.strip()}"
        )
        self.step = step
        self.command = command
        self.output = output


def apply_step(host: Host, step: Step) -> StepResult:
    """Apply one step; report each thing it changed."""
    result = StepResult(step)
    for item in step.ensure:
        if not host.run(item.unless, sudo=True).ok:
            host.run(item.command, sudo=True, check=True, timeout=300)
            result.changes.append(item.description)
    files = [*step.files, *(compute(host) for compute in step.computed)]
    written = _write_all(host, files)
    result.changes.extend(f"wrote {w.path}" for w in written)
    if result.changed:
        _validate(host, step, written)
        for command in step.after_change:
            host.run(command, sudo=True, check=True, timeout=300)
    result.changes.extend(_ensure_services(host, step, changed=result.changed))
    if result.changed:
        _check_running(host, step, written)
    return result


def _write_all(host: Host, files: Sequence[ManagedFile]) -> list[WriteResult]:
    written = []
    try:
        for f in files:
            w = host.write(f.path, f.content, owner=f.owner, mode=f.mode)
            if w.changed:
                written.append(w)
    except MaillabError:
        _roll_back(host, written)
        raise
    return written


def _validate(host: Host, step: Step, written: list[WriteResult]) -> None:
    if step.validate is None:
        return
    check = host.run(step.validate, sudo=True, timeout=120)
    if check.ok:
        return
    _roll_back(host, written)
    raise StepFailed(step, step.validate, check.stdout + check.stderr)


def _check_running(host: Host, step: Step, written: list[WriteResult]) -> None:
    """A service can accept its files and still die a second later: check."""
    for name in (*step.services, *step.restart):
        if _settles_active(host, name):
            continue
        journal = host.service(name).journal(15)
        _roll_back(host, written)
        if written:
            host.run(["systemctl", "restart", name], sudo=True)
        raise StepFailed(step, f"systemctl restart {name}", journal)


def _settles_active(host: Host, name: str) -> bool:
    # One round trip: wait up to 3 s for the unit to leave "activating" and
    # to stay active for a moment.
    script = (
        'for i in 1 2 3 4 5 6; do s=$(systemctl is-active "$1"); '
        '[ "$s" = activating ] || break; sleep 0.5; done; '
        'sleep 0.5; systemctl is-active --quiet "$1"'
    )
    return host.run(["sh", "-c", script, "sh", name], timeout=30).ok


def _roll_back(host: Host, written: list[WriteResult]) -> None:
    for w in reversed(written):
        if w.backup:
            host.run(["cp", "-p", "--", w.backup, w.path], sudo=True, check=True)
        else:
            host.run(["rm", "-f", "--", w.path], sudo=True, check=True)
        log.warning("%s: put back %s", host.name, w.path)


def _ensure_services(host: Host, step: Step, *, changed: bool) -> list[str]:
    changes = []
    for name in step.services:
        service = host.service(name)
        if not service.is_enabled:
            host.run(["systemctl", "enable", name], sudo=True, check=True)
            changes.append(f"enabled {name}")
        if not service.is_active:
            service.restart()
            changes.append(f"started {name}")
    if changed:
        for name in step.restart:
            host.service(name).restart()
            changes.append(f"restarted {name}")
    return changes
