"""A control group of its own for each box.

systemd-nspawn with --keep-unit (there is no systemd on this machine to ask
for a scope) creates its `supervisor` and `payload` groups under the cgroup
it was started in.  Two boxes started from the same cgroup would share
`/payload`: each container's systemd would then manage the other's units
(seen: `status=219/CGROUP`, and a box refusing logins because
systemd-user-sessions could not start).  So each box's nspawn starts in
`maillab/<name>` of every hierarchy this machine mounts.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def hierarchies(root: Path = ROOT) -> list[Path]:
    """The cgroup trees systemd uses: cgroup v2 (unified) and name=systemd (v1)."""
    found = [root] if (root / "cgroup.controllers").exists() else []
    found += [
        root / name
        for name in ("unified", "systemd")
        if (root / name / "cgroup.procs").exists()
    ]
    return found


def box_groups(name: str, root: Path = ROOT) -> list[Path]:
    return [tree / "maillab" / name for tree in hierarchies(root)]


# Runs as the box's nspawn before it execs: moves itself into the groups.
# (A shell, not Popen's preexec_fn, which is unsafe when the caller has threads.)
_ENTER = (
    'for g in "$@"; do [ "$g" = -- ] && break; echo $$ > "$g/cgroup.procs"; done; '
    'while [ "$1" != -- ]; do shift; done; shift; exec "$@"'
)


def wrapped(name: str, argv: list[str], root: Path = ROOT) -> list[str]:
    """`argv`, started inside the box's own groups (created here if needed)."""
    groups = box_groups(name, root)
    for group in groups:
        group.mkdir(parents=True, exist_ok=True)
    return ["sh", "-c", _ENTER, "sh", *(str(g) for g in groups), "--", *argv]


def remove(name: str, root: Path = ROOT) -> None:
    """The box's groups, deepest first, once their processes are gone.

    A group still in use is left for the next run: removing it is tidiness,
    not correctness.
    """
    for group in box_groups(name, root):
        for folder in _folders(group):
            with contextlib.suppress(OSError):
                folder.rmdir()


def members(name: str, root: Path = ROOT) -> set[int]:
    """Every process in the box's groups (its nspawn, init and daemons)."""
    pids: set[int] = set()
    for group in box_groups(name, root):
        for folder in _folders(group):
            with contextlib.suppress(OSError):
                pids.update(
                    int(p) for p in (folder / "cgroup.procs").read_text().split()
                )
    return pids


def cpu_seconds(name: str, root: Path = ROOT) -> float | None:
    """CPU time the box's processes have used (cgroup v2 `cpu.stat`), if known."""
    for group in box_groups(name, root):
        stat = group / "cpu.stat"
        with contextlib.suppress(OSError):
            for line in stat.read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "usage_usec":
                    return int(value) / 1e6
    return None


def _folders(group: Path) -> list[Path]:
    """The group and its subgroups, deepest first; groups may vanish meanwhile."""
    found = [Path(top) for top, _, _ in os.walk(group, onerror=lambda _: None)]
    return sorted(found, key=lambda p: len(p.parts), reverse=True)


def kill_all(name: str, *, timeout: float = 10, root: Path = ROOT) -> int:
    """Kill every process left in the box's groups; how many there were.

    When only nspawn dies (a SIGKILL to it, or the end of a session), the
    container's init lives on and keeps the box's daemons, locks and
    sockets: a new boot on the same files would meet them ("the Postfix mail
    system is already running").
    """
    left = members(name, root)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + timeout
    while members(name, root) and time.monotonic() < deadline:
        time.sleep(0.05)
    return len(left)
