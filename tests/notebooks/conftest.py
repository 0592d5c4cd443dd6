"""A box of our own (prefix n-), provisioned with the whole chapter."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def provisioned(lab_box: Box) -> Iterator[Provisioned]:
    box = Box(f"n-{os.getpid() % 100000}")
    if box.exists:
        box.destroy()
    box.up()
    host = box.host(timeout=120)
    try:
        list(provision(host, until="all"))
        yield Provisioned(box, host, read_passwords(host))
    finally:
        host.close()
        box.destroy()
