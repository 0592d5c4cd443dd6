"""A box of our own (prefix n-), provisioned with the whole chapter."""

from __future__ import annotations

import pytest

from maillab.box import Box


@pytest.fixture(scope="session")
def provisioned(lab_box: Box, provision_box):
    with provision_box("n") as lab:
        yield lab
