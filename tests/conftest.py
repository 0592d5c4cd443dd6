"""Shared fixtures: the lab box for tests marked `lab`, and provisioned boxes.

A lab test needs root, systemd-nspawn and mmdebstrap.  Where those are
missing the test is skipped with the reason; with MAILLAB_REQUIRE_LAB=1 (set
by CI) it fails instead, so that a CI run cannot pass on skipped lab tests.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from maillab.box import Box
from maillab.box.tools import require_root, require_tools
from maillab.course import provision
from maillab.course.lab import read_passwords
from maillab.errors import MaillabError
from maillab.remote.host import Host

FIXTURES = Path(__file__).parent / "fixtures"


def _no_lab(reason: str) -> None:
    if os.environ.get("MAILLAB_REQUIRE_LAB") == "1":
        pytest.fail(f"MAILLAB_REQUIRE_LAB=1 but no lab box: {reason}")
    pytest.skip(f"no lab box: {reason}")


@pytest.fixture(scope="session")
def lab_box() -> Box:
    """The default lab box, brought up if needed (it is left running)."""
    try:
        require_root()
        require_tools()
        box = Box("default")
        box.up()
    except MaillabError as exc:
        _no_lab(str(exc))
    return box


@pytest.fixture
def lab(lab_box: Box) -> Iterator[Host]:
    with lab_box.host() as host:
        yield host


@pytest.fixture(scope="session")
def spare_box(lab_box: Box) -> Iterator[Box]:
    """A second box, for life-cycle tests; destroyed at the end of the run."""
    # Named after this test run, so that two runs on one machine do not clash.
    box = Box(f"t-{os.getpid() % 100000}")
    if box.exists:
        box.destroy()
    box.up()
    yield box
    box.destroy()


@dataclass
class ProvisionedBox:
    """A box of one test folder's own, with the whole chapter applied."""

    box: Box
    host: Host
    # Secrets: kept out of repr, so out of pytest's failure reports.
    passwords: dict[str, str] = field(repr=False)
    first_run: list = field(repr=False)  # the steps of the provisioning

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


@contextlib.contextmanager
def _provisioned_box(prefix: str) -> Iterator[ProvisionedBox]:
    try:
        require_root()
        require_tools()
    except MaillabError as exc:
        _no_lab(str(exc))
    # Named after this test run, so that two runs on one machine do not clash.
    box = Box(f"{prefix}-{os.getpid() % 100000}")
    if box.exists:
        box.destroy()
    box.up()
    host = box.host(timeout=120)
    try:
        steps = list(provision(host, until="all"))
        yield ProvisionedBox(box, host, read_passwords(host), steps)
    finally:
        host.close()
        box.destroy()


Provisioner = Callable[[str], contextlib.AbstractContextManager[ProvisionedBox]]


@pytest.fixture(scope="session")
def provision_box() -> Provisioner:
    """`with provision_box("c") as lab:` a fresh box c-<pid>, the whole chapter
    applied, destroyed afterwards.  Each folder has its own (some tests
    break theirs on purpose and put it back)."""
    return _provisioned_box


@pytest.fixture
def fixture_text() -> object:
    def read(*parts: str) -> str:
        return FIXTURES.joinpath(*parts).read_text()

    return read
