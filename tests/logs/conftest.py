"""Fixtures of tests/logs: the real mail.log fixture, and a fresh provisioned box."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pytest

from maillab.box import Box
from maillab.course import provision
from maillab.course.lab import read_passwords
from maillab.logs import parse_mail_log
from maillab.remote.host import Host

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


@dataclass
class Provisioned:
    box: Box
    host: Host
    # Secrets: kept out of repr, so out of pytest's failure reports.
    passwords: dict[str, str] = field(repr=False)

    @property
    def address(self) -> str:
        return self.box.address

    def tls(self) -> ssl.SSLContext:
        """Trust the lab's own certificate."""
        context = ssl.create_default_context(
            cadata=self.host.read("/etc/ssl/certs/postfix.pem")
        )
        context.check_hostname = False
        return context


@pytest.fixture(scope="session")
def provisioned(lab_box: Box) -> Iterator[Provisioned]:
    """A fresh box with the whole chapter applied, destroyed after the run."""
    box = Box(f"l-{os.getpid() % 100000}")
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
