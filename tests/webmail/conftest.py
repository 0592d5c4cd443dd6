"""A provisioned box, the outside mail host and a headless Chromium on Roundcube.

The box comes from tests/conftest.py's provision_box, named w-<pid>,
destroyed after the run.  Without root and the box tools, or without
Chromium and Playwright, the tests skip with the reason; with
MAILLAB_REQUIRE_LAB=1 they fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maillab.box import Box
from maillab.box.tools import require_root, require_tools
from maillab.course.lab import read_passwords
from maillab.errors import MaillabError
from maillab.peer import Peer
from maillab.remote.host import Host

from .browser import Secret, Webmail, missing_browser, open_webmail, spki_pin

if TYPE_CHECKING:
    from playwright.sync_api import Playwright

CERTIFICATE = "/etc/ssl/certs/postfix.pem"


def _no_lab(reason: str) -> None:
    if os.environ.get("MAILLAB_REQUIRE_LAB") == "1":
        pytest.fail(f"MAILLAB_REQUIRE_LAB=1 but {reason}")
    pytest.skip(reason)


@dataclass
class Provisioned:
    box: Box
    host: Host
    # Secrets: each one masked in any repr, so out of pytest's reports.
    passwords: dict[str, Secret] = field(repr=False)

    @property
    def address(self) -> str:
        return self.box.address


@pytest.fixture(scope="session")
def provisioned(provision_box) -> Iterator[Provisioned]:
    # This box serves the browser only: no browser, no box.
    reason = missing_browser()
    if reason is not None:
        _no_lab(f"no browser: {reason}")
    try:
        require_root()
        require_tools()
    except MaillabError as exc:
        _no_lab(f"no lab box: {exc}")
    reuse = os.environ.get("MAILLAB_WEBMAIL_BOX")
    if reuse:
        yield from _reused(Box(reuse))
        return
    with provision_box("w") as lab:
        secrets = {user: Secret(p) for user, p in lab.passwords.items()}
        yield Provisioned(lab.box, lab.host, secrets)


def _reused(box: Box) -> Iterator[Provisioned]:
    """A box you provisioned yourself (MAILLAB_WEBMAIL_BOX=w-dev): kept afterwards.

    For quick runs while writing tests; the box is taken as it is, not
    provisioned again.
    """
    host = box.host(timeout=120)
    try:
        secrets = {user: Secret(p) for user, p in read_passwords(host).items()}
        yield Provisioned(box, host, secrets)
    finally:
        host.close()


@pytest.fixture(scope="session")
def peer(provisioned: Provisioned) -> Peer:
    """The outside mail host, started for the run (shared, and left running)."""
    outside = Peer()
    outside.start()
    return outside


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    reason = missing_browser()
    if reason is not None:
        _no_lab(f"no browser: {reason}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def lab_pin(provisioned: Provisioned) -> str:
    """The pin of the lab's own certificate, the only one Chromium accepts."""
    return spki_pin(provisioned.host.read(CERTIFICATE))


@pytest.fixture
def webmail(
    playwright: Playwright, provisioned: Provisioned, lab_pin: str, tmp_path: Path
) -> Iterator[Webmail]:
    """A fresh browser on Roundcube; a screenshot is taken if the test fails."""
    with open_webmail(playwright, provisioned.address, lab_pin) as page:
        yield page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """On a failed test that used the browser, save the page and name the file."""
    report = yield
    funcargs = getattr(item, "funcargs", {})
    webmail = funcargs.get("webmail")
    if report.when == "call" and report.failed and webmail is not None:
        # The file is named after the test only: no password can reach it.
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", item.name)
        path = funcargs["tmp_path"] / f"failure-{name}.png"
        try:
            text = f"screenshot at failure: {webmail.screenshot(path)}"
        except Exception as exc:  # a dead browser must not hide the failure
            text = f"no screenshot ({type(exc).__name__}: {exc})"
        # Shown under the traceback, so in the failure message itself.
        addsection = getattr(report.longrepr, "addsection", None)
        if addsection is not None:
            addsection("webmail", text)
        else:
            report.sections.append(("webmail", text))
    return report
