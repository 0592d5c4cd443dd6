"""A box provisioned with the whole chapter, for the probes' lab tests.

A copy of tests/course/conftest.py's fixture (importlib mode cannot import
it from there), on boxes named r-<pid>.  The broken-state tests change this
box and put it back; it is destroyed at the end of the run.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import time
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

    @property
    def address(self) -> str:
        return self.box.address

    def tls(self) -> ssl.SSLContext:
        """Trust the lab's own certificate (names are checked by the probes)."""
        context = ssl.create_default_context(
            cadata=self.host.read("/etc/ssl/certs/postfix.pem")
        )
        context.check_hostname = False
        return context

    @contextlib.contextmanager
    def postconf(self, **settings: str) -> Iterator[None]:
        """main.cf with `settings` for the duration of the block, then as before."""
        names = list(settings)
        old = self.host.check_output(["postconf", "-h", *names], sudo=True)
        before = dict(zip(names, old.splitlines(), strict=True))
        self._postconf(settings)
        try:
            yield
        finally:
            self._postconf(before)

    def _postconf(self, settings: dict[str, str]) -> None:
        pairs = [f"{k}={v}" for k, v in settings.items()]
        self.host.run(["postconf", "-e", *pairs], sudo=True, check=True)
        # A reload lets idle smtpd processes finish with the old settings: a
        # probe right after it may still meet one.  A restart leaves none.
        self.host.run(["systemctl", "restart", "postfix@-"], sudo=True, check=True)

    @contextlib.contextmanager
    def dovecot(self, text: str) -> Iterator[None]:
        """Dovecot with a last conf.d file holding `text`, then without it."""
        path = "/etc/dovecot/conf.d/99-maillab-probe.conf"
        self.host.write(path, text)
        self._restart_dovecot()
        try:
            yield
        finally:
            self.host.run(["rm", "-f", path], sudo=True, check=True)
            self._restart_dovecot()

    def _restart_dovecot(self) -> None:
        self.host.service("dovecot").restart()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                socket.create_connection((self.address, 143), timeout=2).close()
                return
            time.sleep(0.2)


@pytest.fixture(scope="session")
def provisioned(lab_box: Box) -> Iterator[Provisioned]:
    box = Box(f"r-{os.getpid() % 100000}")
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
