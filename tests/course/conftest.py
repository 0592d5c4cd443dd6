"""A box provisioned with the whole chapter, shared by this folder's tests."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from maillab.box import Box
from maillab.course import provision
from maillab.course.lab import read_passwords
from maillab.remote.host import Host


@dataclass
class Provisioned:
    box: Box
    host: Host
    # Secrets: kept out of repr, so out of pytest's failure reports.
    passwords: dict[str, str] = field(repr=False)
    first_run: list = field(repr=False)

    @property
    def address(self) -> str:
        return self.box.address

    def tls(self) -> ssl.SSLContext:
        """Trust the lab's own certificate (names are checked by the tests)."""
        context = ssl.create_default_context(
            cadata=self.host.read("/etc/ssl/certs/postfix.pem")
        )
        context.check_hostname = False
        return context


@pytest.fixture(scope="session")
def provisioned(lab_box: Box) -> Iterator[Provisioned]:
    box = Box(f"c-{os.getpid() % 100000}")
    if box.exists:
        box.destroy()
    box.up()
    host = box.host(timeout=120)
    try:
        results = list(provision(host, until="all"))
        yield Provisioned(box, host, read_passwords(host), results)
    finally:
        host.close()
        box.destroy()


@pytest.fixture(scope="session")
def peer(provisioned):
    """The outside mail host, started for the run (it is shared, and left running)."""
    from maillab.peer import Peer

    outside = Peer()
    outside.start()
    return outside
