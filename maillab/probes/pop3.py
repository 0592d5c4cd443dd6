"""POP3 probes (poplib): capabilities, clear-text login, TLS login.

As for IMAP, the clear-text check offers a made-up user and password only:
Dovecot's `-ERR [AUTH] Plaintext authentication disallowed` is the pass.
"""

from __future__ import annotations

import contextlib
import poplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

from maillab.probes.result import ProbeResult, Session, Transcript, attempt
from maillab.probes.tls import client_context, describe_tls

DEFAULT_TIMEOUT = 5.0
# Dovecot delays an answer to a failed login (its auth penalty grows to 15 s).
LOGIN_TIMEOUT = 20.0
IMPLICIT_TLS_PORT = 995
_DUMMY_USER = "maillab-probe@invalid"
_DUMMY_PASSWORD = "not-a-password"


class RecordingPOP3(poplib.POP3):
    """poplib's client, writing every line sent and received to a transcript."""

    def __init__(self, session: Session, *args: Any, **kwargs: Any) -> None:
        self.session = session
        self.transcript: Transcript = session.transcript
        super().__init__(*args, **kwargs)  # connects and reads the greeting

    def _create_socket(self, timeout: float) -> socket.socket:
        sock: socket.socket = super()._create_socket(timeout)  # type: ignore[misc]
        self.session.connected(sock.getsockname())  # before the greeting can time out
        return sock

    def _putline(self, line: bytes) -> None:
        self.transcript.client(line.decode("utf-8", "replace"))
        super()._putline(line)  # type: ignore[misc]  # private in typeshed

    def _getline(self) -> tuple[bytes, int]:
        line, octets = super()._getline()  # type: ignore[misc]
        self.transcript.server(line.decode("utf-8", "replace"))
        return line, octets


class RecordingPOP3S(RecordingPOP3, poplib.POP3_SSL):
    """The same, with TLS from the first byte (port 995)."""


@contextlib.contextmanager
def open_pop3(
    session: Session,
    *,
    starttls: bool,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[RecordingPOP3]:
    """A recording client; TLS from the start on 995, after STLS if asked."""
    session.transcript.challenge = ("+ ",)
    where = (session.address, session.port)
    if session.port == IMPLICIT_TLS_PORT:
        pop: RecordingPOP3 = RecordingPOP3S(
            session,
            *where,
            context=context or client_context(),
            timeout=timeout,
        )
        session.transcript.note(describe_tls(pop.sock))  # type: ignore[arg-type]
    else:
        pop = RecordingPOP3(session, *where, timeout=timeout)
    try:
        if starttls and session.port != IMPLICIT_TLS_PORT:
            pop.stls(context or client_context())
            session.transcript.note(describe_tls(pop.sock))  # type: ignore[arg-type]
        yield pop
    finally:
        with contextlib.suppress(OSError, EOFError, poplib.error_proto):
            pop.quit()
        pop.close()


def _capabilities(pop: poplib.POP3) -> list[str]:
    return sorted(" ".join([name, *args]) for name, args in pop.capa().items())


def probe_capabilities(
    *,
    address: str,
    port: int = 110,
    required: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """CAPA lists `required` (on 110: STLS, and no USER before TLS)."""
    if required is None:
        required = ("STLS",) if port == 110 else ("USER",)

    def body(session: Session) -> ProbeResult:
        with open_pop3(session, starttls=False, timeout=timeout) as pop:
            offered = _capabilities(pop)
        names = {c.split()[0].upper() for c in offered}
        missing = [c for c in required if c.upper() not in names]
        if missing:
            return session.failed(f"CAPA lacks {', '.join(missing)}")
        if port != IMPLICIT_TLS_PORT and "USER" in names:
            return session.failed("CAPA offers USER before STLS (clear-text login)")
        return session.passed("CAPA " + ", ".join(offered))

    return attempt(Session("pop3.capabilities", address, port), body)


def probe_plaintext_login(
    *, address: str, port: int = 110, timeout: float = LOGIN_TIMEOUT
) -> ProbeResult:
    """Before STLS, USER/PASS is refused before the password is looked at."""

    def body(session: Session) -> ProbeResult:
        with open_pop3(session, starttls=False, timeout=timeout) as pop:
            try:
                pop.user(_DUMMY_USER)
                pop.pass_(_DUMMY_PASSWORD)
            except poplib.error_proto as exc:
                answer = _answer(exc)
            else:
                return session.failed("a made-up login was accepted in clear text")
        if "Plaintext authentication disallowed" not in answer:
            return session.failed(
                f"USER/PASS is read in clear text ({answer}): passwords may cross "
                "the network unencrypted"
            )
        return session.passed(f"login refused before TLS: {answer}")

    return attempt(Session("pop3.plaintext-login", address, port), body)


def _answer(exc: poplib.error_proto) -> str:
    reply = exc.args[0] if exc.args else b""
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def probe_login(
    *,
    address: str,
    port: int = IMPLICIT_TLS_PORT,
    user: str,
    password: str,
    context: ssl.SSLContext | None = None,
    timeout: float = LOGIN_TIMEOUT,
) -> ProbeResult:
    """USER/PASS works inside TLS (STLS on 110, implicit on 995); STAT answers."""

    def body(session: Session) -> ProbeResult:
        with open_pop3(session, starttls=True, context=context, timeout=timeout) as pop:
            try:
                pop.user(user)
                pop.pass_(password)
            except poplib.error_proto as exc:
                return session.failed(f"login as {user} refused: {_answer(exc)}")
            count, size = pop.stat()
        return session.passed(f"logged in as {user} over TLS: {count} message(s)")

    return attempt(Session("pop3.login", address, port), body)
