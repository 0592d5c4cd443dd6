"""SMTP probes: what Postfix says on 25, 587 and 465 to a client from outside.

Every probe opens its own connection, records the dialogue (AUTH masked) and
ends with QUIT.  None of them sends a message: relay and size checks stop at
RCPT TO and MAIL FROM.
"""

from __future__ import annotations

import contextlib
import ipaddress
import smtplib
import socket
import ssl
from collections.abc import Iterator, Sequence
from typing import Any

from maillab.probes.result import ProbeResult, Session, Transcript, attempt
from maillab.probes.tls import client_context, describe_tls

OUTSIDE_HELO = "mx.exterieur.test"
OUTSIDE_SENDER = "alice@exterieur.test"
OUTSIDE_RECIPIENT = "bob@exterieur.test"
LOCAL_USER = "jean"
DEFAULT_TIMEOUT = 5.0


class RecordingSMTP(smtplib.SMTP):
    """smtplib's client, writing every line sent and received to a transcript."""

    _in_data = False

    def __init__(self, session: Session, **kwargs: Any) -> None:
        self.session = session
        self.transcript: Transcript = session.transcript
        # With host= and port=, smtplib connects and reads the banner here.
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]
        self.session.connected(sock.getsockname())  # before the banner can time out
        return sock

    # smtplib's send takes str or bytes; typeshed says str or Buffer.
    def send(self, s: str | bytes) -> None:  # type: ignore[override]
        text = s if isinstance(s, str) else s.decode("utf-8", "replace")
        if self._in_data:
            self.transcript.client(f"<message, {len(s)} bytes>")
        else:
            self.transcript.client(text)
        super().send(s)

    def getreply(self) -> tuple[int, bytes]:
        code, message = super().getreply()
        lines = message.decode("utf-8", "replace").split("\n")
        for i, line in enumerate(lines):
            dash = "-" if i < len(lines) - 1 else " "
            self.transcript.server(f"{code}{dash}{line}")
        self._in_data = code == 354
        return code, message


class RecordingSMTPS(RecordingSMTP, smtplib.SMTP_SSL):
    """The same, with TLS from the first byte (port 465)."""


@contextlib.contextmanager
def open_smtp(
    session: Session,
    *,
    implicit_tls: bool = False,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[RecordingSMTP]:
    """A connected, recording client whose banner has been read; QUIT at the end."""
    where = {"host": session.address, "port": session.port, "timeout": timeout}
    if implicit_tls:
        smtp: RecordingSMTP = RecordingSMTPS(
            session, context=context or client_context(), **where
        )
    else:
        smtp = RecordingSMTP(session, **where)
    try:
        yield smtp
    finally:
        _quit(smtp)


def _quit(smtp: smtplib.SMTP) -> None:
    with contextlib.suppress(*_QUIT_ERRORS):
        if smtp.sock is not None:
            smtp.quit()
    smtp.close()


_QUIT_ERRORS = (OSError, smtplib.SMTPException)


def _starttls(smtp: RecordingSMTP, context: ssl.SSLContext | None) -> None:
    smtp.starttls(context=context or client_context())
    smtp.transcript.note(describe_tls(smtp.sock))  # type: ignore[arg-type]
    smtp.ehlo(OUTSIDE_HELO)


def _mechanisms(smtp: smtplib.SMTP) -> str | None:
    """The AUTH mechanisms offered (AUTH= and AUTH lines merged), None if none."""
    offered = smtp.esmtp_features.get("auth")
    return None if offered is None else " ".join(dict.fromkeys(offered.split()))


def _session(name: str, address: str, port: int) -> Session:
    return Session(name, address, port)


def probe_banner(
    *, address: str, port: int = 25, timeout: float = DEFAULT_TIMEOUT
) -> ProbeResult:
    """The server greets with 220 and its name."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, implicit_tls=port == 465, timeout=timeout) as smtp:
            banner = session.transcript.lines[0]
            code, _ = smtp.noop()
        if not banner.startswith("S: 220 "):
            return session.failed(f"the greeting is not 220: {banner[3:]}")
        if code != 250:
            return session.failed(f"NOOP after the greeting got {code}")
        return session.passed(f"greeting: {banner[7:]}")

    return attempt(_session("smtp.banner", address, port), body)


def probe_ehlo(
    *,
    address: str,
    port: int = 25,
    required: Sequence[str] = ("PIPELINING", "SIZE", "STARTTLS", "8BITMIME"),
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """EHLO is answered with 250 and lists the extensions in `required`."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, implicit_tls=port == 465, timeout=timeout) as smtp:
            code, _ = smtp.ehlo(OUTSIDE_HELO)
            offered = sorted(name.upper() for name in smtp.esmtp_features)
        if code != 250:
            return session.failed(f"EHLO got {code}")
        missing = [name for name in required if name.upper() not in offered]
        if missing:
            return session.failed(f"EHLO does not offer {', '.join(missing)}")
        return session.passed("EHLO offers " + " ".join(offered))

    return attempt(_session("smtp.ehlo", address, port), body)


def probe_starttls(
    *,
    address: str,
    port: int = 25,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """STARTTLS is offered, the handshake succeeds and EHLO works inside TLS."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            if not smtp.has_extn("starttls"):
                return session.failed("STARTTLS is not offered")
            code, _ = smtp.docmd("STARTTLS")
            if code != 220:
                return session.failed(f"STARTTLS got {code}")
            assert smtp.sock is not None
            smtp.sock = (context or client_context()).wrap_socket(smtp.sock)
            smtp.file = None
            tls = describe_tls(smtp.sock)
            session.transcript.note(tls)
            code, _ = smtp.ehlo(OUTSIDE_HELO)
        if code != 250:
            return session.failed(f"EHLO inside TLS got {code}")
        return session.passed(tls)

    return attempt(_session("smtp.starttls", address, port), body)


def probe_auth_after_tls(
    *,
    address: str,
    port: int = 587,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """AUTH is not offered in clear text, and is offered once TLS is up."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            before = _mechanisms(smtp)
            if not smtp.has_extn("starttls"):
                return session.failed("STARTTLS is not offered")
            _starttls(smtp, context)
            after = _mechanisms(smtp)
        if before is not None:
            return session.failed(
                f"AUTH {before} is offered before STARTTLS: passwords "
                "may travel in clear text (smtpd_tls_auth_only = yes)"
            )
        if after is None:
            return session.failed("AUTH is not offered even after STARTTLS")
        return session.passed(f"AUTH {after} only after STARTTLS")

    return attempt(_session("smtp.auth-after-tls", address, port), body)


def probe_submission_requires_auth(
    *,
    address: str,
    port: int = 587,
    sender: str = f"{LOCAL_USER}@monentreprise.local",
    recipient: str = OUTSIDE_RECIPIENT,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """Without AUTH, submission refuses a message (at MAIL FROM or RCPT TO)."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, implicit_tls=port == 465, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            if smtp.has_extn("starttls"):
                _starttls(smtp, context)
            code, reply = smtp.mail(sender)
            if code == 250:
                code, reply = smtp.rcpt(recipient)
            smtp.rset()
        text = reply.decode("utf-8", "replace")
        if 200 <= code < 300:
            return session.failed(f"accepted {recipient} without AUTH ({code} {text})")
        return session.passed(f"refused without AUTH: {code} {text}")

    return attempt(_session("smtp.submission-auth", address, port), body)


def probe_smtps(
    *,
    address: str,
    port: int = 465,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """Port 465 speaks TLS from the first byte, then greets and answers EHLO."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(
            session, implicit_tls=True, context=context, timeout=timeout
        ) as smtp:
            tls = describe_tls(smtp.sock)  # type: ignore[arg-type]
            session.transcript.note(tls)
            code, _ = smtp.ehlo(OUTSIDE_HELO)
            auth = _mechanisms(smtp)
        if code != 250:
            return session.failed(f"EHLO over implicit TLS got {code}")
        if auth is None:
            return session.failed("implicit TLS works, but AUTH is not offered")
        return session.passed(f"{tls}; AUTH {auth}")

    return attempt(_session("smtp.smtps", address, port), body)


def probe_relay(
    *,
    address: str,
    port: int = 25,
    sender: str = OUTSIDE_SENDER,
    recipient: str = OUTSIDE_RECIPIENT,
    trusted: Sequence[str] = (),
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """An outsider cannot relay: RCPT TO another outside domain is refused.

    Any 4xx or 5xx (454 and 554 both mean refused) is a pass; 2xx is an open
    relay.  The probe stops at RCPT TO: nothing is ever sent.  `trusted` is
    the lab's mynetworks (`postconf -h mynetworks`): when the probe's own
    address is in it, an accepted relay proves nothing about strangers, and
    the result says so.
    """

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            code, reply = smtp.mail(sender)
            if code != 250:
                return session.errored(f"MAIL FROM <{sender}> got {code}: no test")
            code, reply = smtp.rcpt(recipient)
            smtp.rset()
        text = reply.decode("utf-8", "replace")
        inside = _trusted_network(session.source, trusted)
        if 200 <= code < 300 and inside:
            return session.failed(
                f"relay accepted, but this probe ran from inside the trusted range "
                f"({session.source} is in mynetworks {inside}): anyone on that "
                "network may relay; run it from outside mynetworks"
            )
        if 200 <= code < 300:
            return session.failed(
                f"open relay: {recipient} accepted from {session.source} ({code})"
            )
        return session.passed(f"relay refused: {code} {text}")

    return attempt(_session("smtp.relay", address, port), body)


def _trusted_network(source: str | None, trusted: Sequence[str]) -> str | None:
    """The mynetworks entry that holds `source`, if any."""
    if not source:
        return None
    address = ipaddress.ip_address(source)
    for entry in trusted:
        entry = entry.strip("[]").replace("]/", "/")
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return entry
        except ValueError:
            continue
    return None


def probe_vrfy(
    *,
    address: str,
    port: int = 25,
    user: str = LOCAL_USER,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """VRFY is disabled (502): it must not tell who has a mailbox."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            code, reply = smtp.verify(user)
        text = reply.decode("utf-8", "replace")
        if code == 502:
            return session.passed(f"VRFY disabled: {code} {text}")
        return session.failed(
            f"VRFY answers {code} {text} (disable_vrfy_command = yes)"
        )

    return attempt(_session("smtp.vrfy", address, port), body)


def probe_helo_required(
    *,
    address: str,
    port: int = 25,
    sender: str = OUTSIDE_SENDER,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """MAIL FROM without HELO/EHLO is refused (smtpd_helo_required = yes)."""

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            code, reply = smtp.docmd(f"MAIL FROM:<{sender}>")
            smtp.rset()
        text = reply.decode("utf-8", "replace")
        if 200 <= code < 300:
            return session.failed(
                f"MAIL FROM accepted without HELO ({code}; smtpd_helo_required = yes)"
            )
        return session.passed(f"HELO required: {code} {text}")

    return attempt(_session("smtp.helo-required", address, port), body)


def probe_size_limit(
    *,
    address: str,
    port: int = 25,
    limit: int | None = 52428800,
    sender: str = OUTSIDE_SENDER,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """SIZE is advertised (equal to `limit` if given) and SIZE=limit+1 gets 552.

    The check uses the SIZE parameter of MAIL FROM (RFC 1870): Postfix refuses
    there, so no large message is uploaded.
    """
    # Shortcoming: the limit Postfix enforces at DATA on a client that does
    # not announce SIZE is not tried (it would take a 50 MB upload).

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            advertised = smtp.esmtp_features.get("size", "").strip()
            if not advertised.isdigit() or int(advertised) == 0:
                return session.failed("EHLO does not advertise a SIZE limit")
            if limit is not None and int(advertised) != limit:
                return session.failed(f"SIZE {advertised}, expected {limit}")
            over = int(advertised) + 1
            code, reply = smtp.docmd(f"MAIL FROM:<{sender}> SIZE={over}")
            smtp.rset()
        text = reply.decode("utf-8", "replace")
        if code == 552:
            return session.passed(f"SIZE {advertised}; SIZE={over} refused: {text}")
        return session.failed(f"MAIL FROM with SIZE={over} got {code} {text}")

    return attempt(_session("smtp.size-limit", address, port), body)
