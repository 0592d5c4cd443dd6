"""The outside mail host: an SMTP server for exterieur.test that judges what it gets.

It runs inside the peer's network namespace (`python -m maillab.peer serve`),
accepts mail for @exterieur.test only (it is no open relay), and keeps each
message with its report: <dir>/inbox/<n>.eml and <n>.json.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from maillab.peer.judge import judge
from maillab.peer.network import ADDRESS, DOMAIN

log = logging.getLogger(__name__)


class Inbox:
    """Where received messages and their reports go."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / "inbox"
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def keep(self, raw: bytes, report: dict[str, object]) -> Path:
        with self._lock:
            stem = f"{time.time_ns()}"
            (self.directory / f"{stem}.eml").write_bytes(raw)
            path = self.directory / f"{stem}.json"
            path.with_suffix(".tmp").write_text(json.dumps(report, indent=2))
            path.with_suffix(".tmp").replace(path)  # readers see whole reports only
            return path


class Handler:
    """aiosmtpd's handler: refuse foreign recipients, judge and keep the rest."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(
        self,
        server: Any,
        session: Any,
        envelope: Any,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not address.lower().endswith("@" + DOMAIN):
            return "550 5.7.1 relay access denied: this host only takes @" + DOMAIN
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        report = judge(
            raw,
            client_address=session.peer[0],
            helo=session.host_name or "",
            mail_from=envelope.mail_from or "",
            recipients=list(envelope.rcpt_tos),
        )
        path = self.inbox.keep(raw, report.to_dict())
        log.info("kept %s from %s (score %s)", path.name, session.peer[0], report.score)
        return "250 2.0.0 OK: judged and kept"


def serve(directory: Path, *, address: str = ADDRESS, port: int = 25) -> None:
    """Serve until SIGTERM or SIGINT."""
    controller = Controller(
        Handler(Inbox(directory)),
        hostname=address,
        port=port,
        server_hostname=f"mx.{DOMAIN}",
    )
    controller.start()
    log.info("listening on %s:%s", address, port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()
