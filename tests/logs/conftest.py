"""Fixtures of tests/logs: the real mail.log fixture, and a fresh provisioned box."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from maillab.box import Box
from maillab.logs import parse_mail_log

FIXTURES = Path(__file__).parents[1] / "fixtures" / "logs"


@pytest.fixture(scope="session")
def mail_log_text() -> str:
    return (FIXTURES / "mail.log").read_text()


@pytest.fixture(scope="session")
def pflogsumm_report() -> str:
    return (FIXTURES / "pflogsumm.txt").read_text()


@pytest.fixture(scope="session")
def log_frame(mail_log_text: str) -> pd.DataFrame:
    return parse_mail_log(mail_log_text)


@pytest.fixture(scope="session")
def provisioned(lab_box: Box, provision_box):
    """A fresh box (l-<pid>) with the whole chapter applied, destroyed after the run."""
    with provision_box("l") as lab:
        yield lab
