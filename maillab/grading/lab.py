"""Grade one machine: reach it, run the plan, take its fingerprints."""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Sequence

from maillab.errors import HostError
from maillab.grading.context import Context
from maillab.grading.exercise import Exercise, load_exercises, select
from maillab.grading.result import LabReport
from maillab.grading.runner import DEFAULT_JOBS, DEFAULT_TIMEOUT, plan, run_plan
from maillab.remote.host import Host

log = logging.getLogger(__name__)

SSH_HOST_KEY = "/etc/ssh/ssh_host_ed25519_key.pub"
DKIM_PUBLIC = "/etc/opendkim/keys/monentreprise.local/mail.txt"


def grade_lab(
    host: Host,
    address: str,
    *,
    student: str = "",
    exercise: str | None = None,
    exercises: list[Exercise] | None = None,
    checks: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    jobs: int = DEFAULT_JOBS,
    ignore_prerequisites: bool = False,
) -> LabReport:
    """The report of one machine; an unreachable one has no results, and says why.

    `exercise` picks a section or an exercise, `checks` some check ids.
    """
    start = time.monotonic()
    everything = exercises if exercises is not None else load_exercises()
    report = LabReport(student or host.name, address)
    work = plan(everything, select(everything, exercise), only=checks)
    lab = Context(host, address, timeout=timeout, shells=host.shell_pool(jobs))
    try:
        try:
            report.fingerprints = fingerprints(lab)
        except HostError as exc:
            report.unreachable = str(exc)
            log.warning("%s: unreachable: %s", host.name, exc)
            return report
        report.results = run_plan(
            lab,
            work,
            timeout=timeout,
            jobs=jobs,
            ignore_prerequisites=ignore_prerequisites,
        )
    finally:
        lab.close()
    report.duration = round(time.monotonic() - start, 3)
    return report


def fingerprints(lab: Context) -> dict[str, str]:
    """Hashes of the SSH host key and the DKIM public key: clones share them.

    The first command also proves the host is reachable (HostError if not).
    """
    found = {}
    for name, path in (("ssh", SSH_HOST_KEY), ("dkim", DKIM_PUBLIC)):
        text = lab.read(path)
        if text and text.strip():
            key = "".join(text.split()[:2] if name == "ssh" else _dkim_p(text))
            found[name] = hashlib.sha256(key.encode()).hexdigest()[:16]
    return found


def _dkim_p(text: str) -> list[str]:
    """The p= value of a mail.txt record, however it is split into strings."""
    joined = "".join(part for part in text.split('"')[1::2])
    return [joined.partition("p=")[2].strip().rstrip(";")]
