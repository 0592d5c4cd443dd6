"""Lab boxes for the grading tests: fresh, full, up to 7.3.2, and one with a fault.

Copied in small from tests/course/conftest.py (importlib mode cannot import
it), with this folder's own box names (prefix g-).
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from maillab.box import Box
from maillab.box.tools import require_root, require_tools
from maillab.course import provision
from maillab.errors import MaillabError
from maillab.remote.host import Host

# OpenDKIM listens elsewhere than where Postfix's smtpd_milters looks.
FAULT_SOCKET = "local:/var/spool/postfix/opendkim/elsewhere.sock"


@dataclass
class LabBox:
    box: Box
    host: Host
    kind: str

    @property
    def address(self) -> str:
        return self.box.address


def _name(kind: str) -> str:
    return f"g-{os.getpid() % 10000:04d}-{kind}"


def _start(kind: str) -> Box:
    box = Box(_name(kind))
    if box.exists:
        box.destroy()
    box.up()
    return box


def _prepare(box: Box, kind: str) -> LabBox:
    host = box.host(timeout=120)
    until = {"full": "all", "half": "7.3.2", "flt": "all"}.get(kind)
    if until:
        list(provision(host, until=until))
    if kind == "flt":
        inject_socket_fault(host)
    return LabBox(box, host, kind)


def inject_socket_fault(host: Host) -> None:
    """Move OpenDKIM's socket: Postfix's milter no longer reaches it."""
    text = host.read("/etc/opendkim.conf")
    lines = [
        f"Socket                  {FAULT_SOCKET}" if line.startswith("Socket") else line
        for line in text.splitlines()
    ]
    host.write("/etc/opendkim.conf", "\n".join(lines) + "\n")
    host.run(["systemctl", "restart", "opendkim"], sudo=True, check=True)


@pytest.fixture(scope="session")
def lab_boxes() -> Iterator[dict[str, LabBox]]:
    """Four boxes, made in parallel and destroyed after the session."""
    try:
        require_root()
        require_tools()
    except MaillabError as exc:
        if os.environ.get("MAILLAB_REQUIRE_LAB") == "1":
            pytest.fail(f"MAILLAB_REQUIRE_LAB=1 but no lab box: {exc}")
        pytest.skip(f"no lab box: {exc}")
    kinds = ("new", "full", "half", "flt")
    made: dict[str, LabBox] = {}
    try:
        boxes = [_start(kind) for kind in kinds]  # one at a time: addresses
        with cf.ThreadPoolExecutor(max_workers=4) as pool:
            for lab in pool.map(_prepare, boxes, kinds):
                made[lab.kind] = lab
        yield made
    finally:
        for kind in kinds:
            box = Box(_name(kind))
            if box.exists:
                box.destroy()
