"""What a probe reports: a status, a one-line summary and the transcript.

A probe never raises.  A lab that answers wrongly is a `FAIL`; a host that
does not answer, a timeout or a protocol the client cannot speak is an
`ERROR`, never a `FAIL`.  Secrets never reach the evidence: an AUTH or LOGIN
line, and any client line that answers a `334` (SMTP) or `+` (IMAP, POP3)
challenge, is kept as `****`.
"""

from __future__ import annotations

import imaplib
import logging
import poplib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

log = logging.getLogger(__name__)

MASK = "****"

# Client commands whose arguments are secrets (the verb and mechanism stay).
_SECRET_COMMAND = re.compile(
    r"^(?P<keep>(?:\S+ )?(?:AUTH(?:ENTICATE)? \S+|LOGIN|PASS|APOP \S+))\b.*",
    re.IGNORECASE,
)

# What "the host or the tool broke" looks like, as opposed to a wrong answer.
PROBE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # refused, unreachable, timeout, TLS failure, SMTP disconnect
    EOFError,
    imaplib.IMAP4.error,
    poplib.error_proto,
    UnicodeDecodeError,
)


class LabRefused(Exception):  # noqa: N818 - a finding, not a malfunction
    """Raised inside a probe when the lab's answer settles it as a FAIL."""


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"  # the lab answered, and the answer is wrong
    ERROR = "error"  # no answer to judge: unreachable, timeout, broken tool


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe, with where it went and what was said."""

    name: str
    status: Status
    summary: str
    evidence: tuple[str, ...]
    source: str | None  # the local address of the socket, None if none opened
    destination: str  # address:port

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.status} - {self.summary} "
            f"({self.source or '?'} -> {self.destination})"
        )


@dataclass
class Transcript:
    """The protocol lines of one probe, client lines as `C:`, server lines as `S:`."""

    lines: list[str] = field(default_factory=list)
    challenge: tuple[str, ...] = ("334",)  # server replies that ask for a secret
    _secret_next: bool = False

    def client(self, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.lines.append("C: " + self._masked(line))

    def server(self, text: str) -> None:
        for line in text.splitlines():
            self.lines.append("S: " + line)
            self._secret_next = line.startswith(self.challenge)

    def note(self, text: str) -> None:
        """A line of the probe's own (a TLS handshake, a finding)."""
        self.lines.append("-- " + text)

    def _masked(self, line: str) -> str:
        if self._secret_next:
            self._secret_next = False
            return MASK
        match = _SECRET_COMMAND.match(line)
        return f"{match['keep']} {MASK}" if match else line


@dataclass
class Session:
    """One probe in progress: its name, destination, transcript and source."""

    name: str
    address: str
    port: int
    transcript: Transcript = field(default_factory=Transcript)
    source: str | None = None

    @property
    def destination(self) -> str:
        return f"{self.address}:{self.port}"

    def connected(self, sockname: tuple[object, ...]) -> None:
        """Record the local address of the socket that the probe opened."""
        self.source = str(sockname[0])

    def passed(self, summary: str) -> ProbeResult:
        return self._result(Status.PASS, summary)

    def failed(self, summary: str) -> ProbeResult:
        return self._result(Status.FAIL, summary)

    def errored(self, summary: str) -> ProbeResult:
        return self._result(Status.ERROR, summary)

    def _result(self, status: Status, summary: str) -> ProbeResult:
        log.debug("%s %s: %s %s", self.name, self.destination, status, summary)
        return ProbeResult(
            self.name,
            status,
            summary,
            tuple(self.transcript.lines),
            self.source,
            self.destination,
        )


def attempt(session: Session, body: Callable[[Session], ProbeResult]) -> ProbeResult:
    """Run a probe's body; a network or protocol breakage becomes an ERROR."""
    try:
        return body(session)
    except LabRefused as exc:
        session.transcript.note(str(exc))
        return session.failed(str(exc))
    except PROBE_ERRORS as exc:
        session.transcript.note(f"{type(exc).__name__}: {exc}")
        return session.errored(describe_error(exc))


def describe_error(exc: BaseException) -> str:
    """A short, plain reason for an ERROR result."""
    # smtplib hides a timeout inside SMTPServerDisconnected: look at the cause too.
    if any(isinstance(e, TimeoutError) for e in (exc, exc.__cause__, exc.__context__)):
        return "no answer before the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused: nothing listens on that port"
    return f"{type(exc).__name__}: {exc}"
