"""IMAP probes (imapclient): capabilities, clear-text login, TLS login, folders.

The clear-text check never sends a real password: it offers a made-up one
and judges by Dovecot's answer (`[PRIVACYREQUIRED]` means refused before
the credentials were even looked at; `[AUTHENTICATIONFAILED]` means they were).
"""

from __future__ import annotations

import contextlib
import re
import ssl
from collections.abc import Callable, Iterator, Sequence

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from maillab.probes.result import ProbeResult, Session, Transcript, attempt
from maillab.probes.tls import client_context, describe_tls

DEFAULT_TIMEOUT = 5.0
# Dovecot delays an answer to a failed login (its auth penalty grows to 15 s).
LOGIN_TIMEOUT = 20.0
IMPLICIT_TLS_PORT = 993
SPECIAL_USE = ("\\Drafts", "\\Junk", "\\Sent", "\\Trash")
_DUMMY_USER = "maillab-probe@invalid"
_DUMMY_PASSWORD = "not-a-password"
_LIST_LINE = re.compile(r'^\((?P<flags>[^)]*)\) (?:"[^"]*"|NIL) (?P<name>.+)$')


def _record(client: IMAPClient, transcript: Transcript) -> None:
    """Copy every line imaplib sends and reads into the transcript."""
    imap = client._imap  # imapclient gives no hook of its own for this
    transcript.server(client.welcome.decode("utf-8", "replace"))
    send: Callable[[bytes], None] = imap.send
    readline: Callable[[], bytes] = imap.readline

    def recording_send(data: bytes) -> None:
        if data.strip():  # imaplib sends the final CRLF on its own
            transcript.client(data.decode("utf-8", "replace"))
        send(data)

    def recording_readline() -> bytes:
        line = readline()
        transcript.server(line.decode("utf-8", "replace"))
        return line

    imap.send = recording_send
    imap.readline = recording_readline


@contextlib.contextmanager
def open_imap(
    session: Session,
    *,
    starttls: bool,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Iterator[IMAPClient]:
    """A recording client; TLS from the start on 993, after STARTTLS if asked."""
    session.transcript.challenge = ("+ ",)
    implicit = session.port == IMPLICIT_TLS_PORT
    # Shortcoming: IMAPClient connects and reads the greeting in one call, so a
    # greeting that times out leaves the source unrecorded (None) and the
    # greeting out of the transcript.
    client = IMAPClient(
        session.address,
        port=session.port,
        ssl=implicit,
        ssl_context=context or client_context(),
        timeout=timeout,
    )
    try:
        session.connected(client.socket().getsockname())
        _record(client, session.transcript)
        if implicit:
            session.transcript.note(describe_tls(client.socket()))
        if starttls and not implicit:
            client.starttls(context or client_context())
            session.transcript.note(describe_tls(client.socket()))
        yield client
    finally:
        with contextlib.suppress(OSError, EOFError, *_IMAP_ERRORS):
            client.logout()


_IMAP_ERRORS = (IMAPClient.Error, IMAPClient.AbortError)


def _answer(exc: Exception) -> str:
    """The server's text in an imapclient error (which shows it as a bytes repr)."""
    text = str(exc)
    return text[2:-1] if text.startswith(("b'", 'b"')) else text


def _capabilities(client: IMAPClient) -> list[str]:
    return sorted(c.decode() for c in client.capabilities())


def probe_capabilities(
    *,
    address: str,
    port: int = 143,
    required: Sequence[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """CAPABILITY lists `required` (on 143: STARTTLS and LOGINDISABLED)."""
    if required is None:
        required = (
            ("IMAP4REV1", "STARTTLS", "LOGINDISABLED")
            if port == 143
            else ("IMAP4REV1", "AUTH=PLAIN")
        )

    def body(session: Session) -> ProbeResult:
        with open_imap(session, starttls=False, timeout=timeout) as client:
            offered = _capabilities(client)
        upper = [c.upper() for c in offered]
        missing = [c for c in required if c.upper() not in upper]
        if missing:
            return session.failed(f"CAPABILITY lacks {', '.join(missing)}")
        return session.passed("CAPABILITY " + " ".join(offered))

    return attempt(Session("imap.capabilities", address, port), body)


def probe_plaintext_login(
    *, address: str, port: int = 143, timeout: float = LOGIN_TIMEOUT
) -> ProbeResult:
    """Before STARTTLS, LOGINDISABLED is advertised and LOGIN is refused unread."""

    def body(session: Session) -> ProbeResult:
        with open_imap(session, starttls=False, timeout=timeout) as client:
            disabled = "LOGINDISABLED" in _capabilities(client)
            try:
                client.login(_DUMMY_USER, _DUMMY_PASSWORD)
            except LoginError as exc:
                answer = _answer(exc)
            else:
                return session.failed("a made-up login was accepted in clear text")
        if "AUTHENTICATIONFAILED" in answer:
            return session.failed(
                "LOGIN is read in clear text (answer AUTHENTICATIONFAILED): "
                "passwords may cross the network unencrypted"
            )
        if not disabled:
            return session.failed("LOGIN refused, but LOGINDISABLED is not advertised")
        return session.passed(f"LOGINDISABLED; LOGIN refused before TLS: {answer}")

    return attempt(Session("imap.plaintext-login", address, port), body)


def probe_login(
    *,
    address: str,
    port: int = IMPLICIT_TLS_PORT,
    user: str,
    password: str,
    context: ssl.SSLContext | None = None,
    timeout: float = LOGIN_TIMEOUT,
) -> ProbeResult:
    """LOGIN works inside TLS (STARTTLS on 143, implicit on 993)."""

    def body(session: Session) -> ProbeResult:
        with open_imap(session, starttls=True, context=context, timeout=timeout) as c:
            try:
                c.login(user, password)
            except LoginError as exc:
                return session.failed(f"LOGIN as {user} refused: {_answer(exc)}")
            c.select_folder("INBOX", readonly=True)
        return session.passed(f"logged in as {user} over TLS")

    return attempt(Session("imap.login", address, port), body)


def list_special_use(client: IMAPClient) -> dict[str, str]:
    """Each special-use flag and its folder, from LIST ... RETURN (SPECIAL-USE)."""
    imap = client._imap
    imap.xatom("LIST", '""', '"*"', "RETURN", "(SPECIAL-USE)")
    _, data = imap.response("LIST")
    folders: dict[str, str] = {}
    for item in data or []:
        match = _LIST_LINE.match(item.decode("utf-8", "replace"))
        if match:
            for flag in match["flags"].split():
                folders.setdefault(flag, match["name"].strip('"'))
    return folders


def probe_special_use(
    *,
    address: str,
    port: int = IMPLICIT_TLS_PORT,
    user: str,
    password: str,
    flags: Sequence[str] = SPECIAL_USE,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """The special-use folders (RFC 6154) exist: Drafts, Junk, Sent, Trash."""

    def body(session: Session) -> ProbeResult:
        with open_imap(session, starttls=True, context=context, timeout=timeout) as c:
            c.login(user, password)
            if b"SPECIAL-USE" not in c.capabilities():
                return session.failed("the server does not advertise SPECIAL-USE")
            folders = list_special_use(c)
        missing = [flag for flag in flags if flag not in folders]
        found = ", ".join(
            f"{flag} {folders[flag]}" for flag in flags if flag in folders
        )
        if missing:
            return session.failed(f"no folder for {', '.join(missing)} ({found})")
        return session.passed(found)

    return attempt(Session("imap.special-use", address, port), body)


def find_message(
    client: IMAPClient, folder: str, *, message_id: str | None, subject: str | None
) -> list[int]:
    """The UIDs in `folder` with that Message-ID (or, failing one, subject)."""
    client.select_folder(folder, readonly=True)
    if message_id:
        return list(client.search(["HEADER", "Message-ID", message_id]))
    return list(client.search(["SUBJECT", subject or ""]))


def probe_message(
    *,
    address: str,
    port: int = IMPLICIT_TLS_PORT,
    user: str,
    password: str,
    message_id: str | None = None,
    subject: str | None = None,
    folder: str = "INBOX",
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """A message sent earlier is in `folder` (by Message-ID, else by subject)."""
    wanted = message_id or subject

    def body(session: Session) -> ProbeResult:
        with open_imap(session, starttls=True, context=context, timeout=timeout) as c:
            c.login(user, password)
            uids = find_message(c, folder, message_id=message_id, subject=subject)
        if not uids:
            return session.failed(f"{wanted} is not in {user}'s {folder}")
        return session.passed(f"{wanted} found in {folder} (UID {uids[0]})")

    return attempt(Session("imap.message", address, port), body)
