"""The host programs the lab box needs, and a clear error when one is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from maillab.errors import BoxError, MissingTool, NotRoot

# program -> the Debian package that installs it
TOOLS = {
    "systemd-nspawn": "systemd-container",
    "mmdebstrap": "mmdebstrap",
    "ip": "iproute2",
    "ssh-keygen": "openssh-client",
    "unshare": "util-linux",
    "mount": "mount",
}


def require_root() -> None:
    if os.geteuid() != 0:
        raise NotRoot()


def require_tools(names: Sequence[str] = tuple(TOOLS)) -> None:
    for name in names:
        if shutil.which(name) is None:
            raise MissingTool(name, TOOLS[name])


def run(argv: Sequence[str], *, input: str | None = None, timeout: float = 60) -> str:
    """Run a host command that must succeed; its failure is a BoxError naming it."""
    try:
        proc = subprocess.run(
            list(argv),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise BoxError(f"`{' '.join(argv)}` took more than {timeout:g} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip()
        raise BoxError(
            f"`{' '.join(argv)}` failed (status {proc.returncode}): {detail}"
        )
    return proc.stdout


def processes() -> Iterator[tuple[int, list[bytes]]]:
    """Every process of this machine with its argv (gone ones skipped)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        yield int(proc.name), argv


def find_process(matches: Callable[[list[bytes]], bool]) -> int | None:
    """The first process whose argv `matches`, if any."""
    return next((pid for pid, argv in processes() if matches(argv)), None)
