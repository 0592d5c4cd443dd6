"""Service checks: systemd units and listening ports."""

from __future__ import annotations

import re

from maillab.grading.context import Context
from maillab.grading.registry import CheckError, Verdict, check


@check("service_active")
def check_service_active(lab: Context, *, unit: str) -> Verdict:
    """A systemd unit is active."""
    result = lab.run(["systemctl", "is-active", unit])
    state = result.stdout.strip() or result.stderr.strip()
    return Verdict(state == "active", f"{unit}: {state}")


@check("service_enabled")
def check_service_enabled(lab: Context, *, unit: str) -> Verdict:
    """A systemd unit starts at boot (enabled), not only running now."""
    result = lab.run(["systemctl", "is-enabled", unit])
    state = result.stdout.strip() or result.stderr.strip()
    return Verdict(state == "enabled", f"{unit}: {state}")


def listening_ports(lab: Context) -> dict[int, set[str]]:
    """TCP port -> the names of the processes that hold its socket."""
    result = lab.run(["ss", "-Hlntp"])
    if not result.ok:
        raise CheckError(f"ss failed: {result.stderr.strip()}")
    ports: dict[int, set[str]] = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 4 and words[3].rpartition(":")[2].isdigit():
            port = int(words[3].rpartition(":")[2])
            users = " ".join(words[5:])
            ports.setdefault(port, set()).update(re.findall(r'\("([^"]+)"', users))
    return ports


@check("listening")
def check_listening(lab: Context, *, ports: list[int], process: str) -> Verdict:
    """These TCP ports are open, each by this process (e.g. master, dovecot)."""
    found = listening_ports(lab)
    wrong = [
        f"{p}: {'/'.join(sorted(found[p])) if p in found else 'closed'}"
        for p in ports
        if process not in found.get(p, set())
    ]
    if wrong:
        return Verdict(False, f"expected {process} on {ports}; " + ", ".join(wrong))
    return Verdict(True, f"{process} listens on {', '.join(map(str, ports))}")


@check("in_group")
def check_in_group(lab: Context, *, user: str, group: str) -> Verdict:
    """A system user belongs to a group (postfix in opendkim, for the socket)."""
    result = lab.run(["id", "-nG", user])
    if not result.ok:
        return Verdict(False, f"no user {user}")
    groups = result.stdout.split()
    return Verdict(group in groups, f"{user}: groups {' '.join(groups)}")
