"""Start, stop and use the outside mail host from this machine.

from maillab.peer import Peer
peer = Peer()
peer.start()                       # netns, route from every box, server
peer.send("192.168.56.10", "alice@exterieur.test", ["jean@monentreprise.local"], raw)
peer.messages()                    # what the lab sent out, with reports
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from maillab.box import layout
from maillab.box.tools import find_process, require_root
from maillab.errors import MaillabError
from maillab.peer import network


@dataclass(frozen=True)
class Received:
    """One message the outside host got, and its report."""

    path: Path
    report: dict[str, object]

    @property
    def raw(self) -> bytes:
        return self.path.with_suffix(".eml").read_bytes()

    @property
    def subject(self) -> str:
        return str(self.report.get("subject", ""))


class Peer:
    """The outside mail host (198.51.100.25, mx.exterieur.test)."""

    def __init__(self, *, home: Path | None = None) -> None:
        self.directory = (home or layout.home()) / "peer"

    @property
    def log(self) -> Path:
        return self.directory / "peer.log"

    @property
    def pid(self) -> int | None:
        return find_process(lambda argv: b"maillab.peer" in argv and b"serve" in argv)

    def start(self, *, timeout: float = 15) -> None:
        """The namespace, the routes and the server, unless they are up already."""
        require_root()
        network.ensure_network()
        if self.pid is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        argv = [
            "ip",
            "netns",
            "exec",
            network.NETNS,
            sys.executable,
            "-m",
            "maillab.peer",
            "serve",
            "--dir",
            str(self.directory),
        ]
        with self.log.open("ab") as out:
            subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_listening(timeout)

    def stop(self, *, timeout: float = 10) -> None:
        pid = self.pid
        if pid is None:
            return
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.pid is not None and time.monotonic() < deadline:
            time.sleep(0.1)

    def messages(self) -> list[Received]:
        inbox = self.directory / "inbox"
        return [
            Received(p, json.loads(p.read_text())) for p in sorted(inbox.glob("*.json"))
        ]

    def wait_for(self, subject: str, *, timeout: float = 60) -> Received:
        """The first message whose Subject contains `subject`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for received in self.messages():
                if subject in received.subject:
                    return received
            time.sleep(0.5)
        raise MaillabError(
            f"the outside host got no message about {subject!r} "
            f"within {timeout:g} s; see the box's mail.log"
        )

    def send(
        self,
        address: str,
        mail_from: str,
        recipients: list[str],
        raw: bytes,
        *,
        helo: str = f"mx.{network.DOMAIN}",
        timeout: float = 30,
    ) -> dict:
        """Send a message to a box from 198.51.100.25, as a stranger's server would."""
        argv = [
            "ip",
            "netns",
            "exec",
            network.NETNS,
            sys.executable,
            "-m",
            "maillab.peer",
            "send",
            "--to",
            address,
            "--from",
            mail_from,
            "--helo",
            helo,
            *(a for r in recipients for a in ("--rcpt", r)),
        ]
        proc = subprocess.run(
            argv, input=raw, capture_output=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise MaillabError(
                f"the outside host could not send to {address}: "
                f"{proc.stderr.decode(errors='replace').strip()}"
            )
        return json.loads(proc.stdout)

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = [
            "ip",
            "netns",
            "exec",
            network.NETNS,
            sys.executable,
            "-c",
            "import socket,sys; socket.create_connection((sys.argv[1], 25), 1)",
            network.ADDRESS,
        ]
        while time.monotonic() < deadline:
            if subprocess.run(probe, capture_output=True, check=False).returncode == 0:
                return
            time.sleep(0.3)
        raise MaillabError(f"the outside host did not start; see {self.log}")


def smtp_send(
    address: str,
    mail_from: str,
    recipients: list[str],
    raw: bytes,
    *,
    helo: str,
    timeout: float = 20,
) -> dict:
    """One SMTP transaction; the replies, for the caller's evidence."""
    import smtplib

    with smtplib.SMTP(address, 25, local_hostname=helo, timeout=timeout) as smtp:
        refused = smtp.sendmail(mail_from, recipients, raw)
        source = smtp.sock.getsockname()[0] if smtp.sock else ""
    return {
        "source": source,
        "refused": {k: [v[0], v[1].decode()] for k, v in refused.items()},
    }
