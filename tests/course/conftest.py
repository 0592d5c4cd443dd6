"""A box provisioned with the whole chapter, shared by this folder's tests."""

from __future__ import annotations

import pytest

from maillab.box import Box


@pytest.fixture(scope="session")
def provisioned(lab_box: Box, provision_box):
    with provision_box("c") as lab:
        yield lab


@pytest.fixture(scope="session")
def peer(provisioned):
    """The outside mail host, started for the run (it is shared, and left running)."""
    from maillab.peer import Peer

    outside = Peer()
    outside.start()
    return outside
