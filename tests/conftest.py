"""Shared fixtures: the lab box for tests marked `lab`.

A lab test needs root, systemd-nspawn and mmdebstrap.  Where those are
missing the test is skipped with the reason; with MAILLAB_REQUIRE_LAB=1 (set
by CI) it fails instead, so that a CI run cannot pass on skipped lab tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.box import Box
from maillab.box.tools import require_root, require_tools
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


@pytest.fixture
def fixture_text() -> object:
    def read(*parts: str) -> str:
        return FIXTURES.joinpath(*parts).read_text()

    return read
