"""A box provisioned with the whole chapter, for the probes' lab tests.

From tests/conftest.py's provision_box, on a box named r-<pid>.  The
broken-state tests change this box and put it back; it is destroyed at the
end of the run.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from maillab.box import Box


@dataclass
class Provisioned:
    """The folder's provisioned box, and the faults the probes put in and take out."""

    lab: Any  # tests/conftest.py's ProvisionedBox: box, host, passwords, tls()

    def __getattr__(self, name: str) -> Any:
        if name == "lab":  # not set yet (copy, pickle): no recursion
            raise AttributeError(name)
        return getattr(self.lab, name)

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
def provisioned(lab_box: Box, provision_box) -> Iterator[Provisioned]:
    with provision_box("r") as lab:
        yield Provisioned(lab)
