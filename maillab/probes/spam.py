"""The spam probe: GTUBE from outside on port 25, then where it landed.

The message goes in like any Internet mail (EHLO mx.exterieur.test, from
alice@exterieur.test); the probe then logs in over IMAP as the recipient
and looks for it, by Message-ID, in INBOX and Junk.
"""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

from imapclient import IMAPClient

from maillab.probes.imap import find_message, open_imap
from maillab.probes.result import ProbeResult, Session, attempt
from maillab.probes.smtp import OUTSIDE_HELO, OUTSIDE_SENDER, open_smtp

DEFAULT_TIMEOUT = 5.0
# The real string (the chapter's, with C4JABQADN1, is never flagged: errata E20).
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
FOLDERS = ("INBOX", "Junk")
_HEADERS = "BODY.PEEK[HEADER.FIELDS (SUBJECT X-SPAM-FLAG X-SPAM-STATUS)]"


def gtube_message(recipient: str, *, sender: str = OUTSIDE_SENDER) -> EmailMessage:
    """A GTUBE test message with a fresh Message-ID."""
    message = EmailMessage()
    message["From"] = f"Alice <{sender}>"
    message["To"] = recipient
    message["Subject"] = "maillab GTUBE"
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = f"<gtube-{uuid.uuid4()}@exterieur.test>"
    message.set_content(f"Test anti-spam.\n\n{GTUBE}\n")
    return message


def probe_gtube(
    *,
    address: str,
    port: int = 25,
    recipient: str = "marie@monentreprise.local",
    password: str,
    imap_port: int = 993,
    folders: Sequence[str] = FOLDERS,
    wait: float = 30.0,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """GTUBE sent on `port` arrives flagged as spam (in INBOX or Junk).

    `password` is the recipient's, for the IMAP login that finds the message;
    `wait` bounds the time given to delivery.
    """
    message = gtube_message(recipient)

    def body(session: Session) -> ProbeResult:
        with open_smtp(session, timeout=timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            refused = smtp.sendmail(OUTSIDE_SENDER, [recipient], message.as_bytes())
        if refused:
            return session.failed(f"{recipient} refused: {refused}")
        imap = Session(session.name, address, imap_port, session.transcript)
        with open_imap(imap, starttls=True, context=context, timeout=timeout) as c:
            c.login(recipient, password)
            found = _wait_for(c, folders, str(message["Message-ID"]), wait)
            if found is None:
                return session.errored(f"not in {', '.join(folders)} after {wait:g} s")
            folder, headers = found
        return _judge(session, folder, headers)

    return attempt(Session("spam.gtube", address, port), body)


def _wait_for(
    client: IMAPClient, folders: Sequence[str], message_id: str, wait: float
) -> tuple[str, str] | None:
    """The folder holding the message and its spam headers, polling until `wait`."""
    deadline = time.monotonic() + wait
    while True:
        for folder in folders:
            uids = find_message(client, folder, message_id=message_id, subject=None)
            if uids:
                data = client.fetch(uids[:1], [_HEADERS])[uids[0]]
                raw = next(v for k, v in data.items() if k.startswith(b"BODY"))
                return folder, raw.decode("utf-8", "replace")
        if time.monotonic() > deadline:
            return None
        time.sleep(1)


def _judge(session: Session, folder: str, headers: str) -> ProbeResult:
    flagged = "X-Spam-Flag: YES" in headers
    for line in headers.strip().splitlines():
        session.transcript.note(f"{folder}: {line}")
    if not flagged:
        return session.failed(f"GTUBE landed in {folder} without X-Spam-Flag: YES")
    return session.passed(f"GTUBE flagged as spam, landed in {folder}")
