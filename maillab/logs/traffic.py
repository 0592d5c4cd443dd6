"""A known mix of mail sent to a lab over SMTP, so its mail.log has something to say.

The mix comes from this machine's side of the lab network: ham and GTUBE
spam from an outsider on port 25, a few messages to an unknown user (refused
at RCPT), and one authenticated submission from jean on 587 to the outside
domain (delivered if the outside mail host listens, deferred otherwise).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

DOMAIN = "monentreprise.local"
OUTSIDER = "alice@exterieur.test"
OUTSIDE_RECIPIENT = "carol@exterieur.test"
# No such domain in the lab DNS: Postfix bounces it (and sends jean a report).
NO_SUCH_DOMAIN = "dave@nulle-part.exterieur.test"
# This machine's side of the lab network, where nothing listens on 25: deferred.
NOT_LISTENING = "erin@[192.168.56.1]"
UNKNOWN = f"inconnu@{DOMAIN}"
HAM_RECIPIENTS = (f"jean@{DOMAIN}", f"marie@{DOMAIN}", f"equipe@{DOMAIN}")
# The real GTUBE string (the chapter's own has a typo and is never flagged).
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


@dataclass
class SentMix:
    """What `send_mix` sent: message-ids by kind, and the refused RCPTs."""

    ham: list[str] = field(default_factory=list)
    spam: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    submitted: list[str] = field(default_factory=list)  # carol, dave, erin


def compose(sender: str, to: str, subject: str, body: str) -> tuple[str, str]:
    """A small RFC 5322 message and its Message-ID."""
    message_id = f"<{uuid.uuid4()}@{sender.partition('@')[2]}>"
    text = (
        f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n\r\n{body}\r\n"
    )
    return text, message_id


def send_mix(
    address: str,
    *,
    jean_password: str,
    tls: ssl.SSLContext,
    ham: int = 6,
    spam: int = 3,
    unknown: int = 2,
    timeout: float = 20,
) -> SentMix:
    """Send the known mix to the lab at `address`; the password is never logged."""
    sent = SentMix()
    with smtplib.SMTP(
        address, 25, local_hostname="mx.exterieur.test", timeout=timeout
    ) as smtp:
        for n in range(ham):
            to = HAM_RECIPIENTS[n % len(HAM_RECIPIENTS)]
            text, mid = compose(OUTSIDER, to, f"ham {n}", "Bonjour, rendez-vous.")
            smtp.sendmail(OUTSIDER, [to], text)
            sent.ham.append(mid)
        for n in range(spam):
            text, mid = compose(OUTSIDER, HAM_RECIPIENTS[1], f"spam {n}", GTUBE)
            smtp.sendmail(OUTSIDER, [HAM_RECIPIENTS[1]], text)
            sent.spam.append(mid)
        for _ in range(unknown):
            sent.refused.append(_refused_rcpt(smtp))
    for to in (OUTSIDE_RECIPIENT, NO_SUCH_DOMAIN, NOT_LISTENING):
        mid = _submit_as_jean(address, jean_password, to, tls=tls, timeout=timeout)
        sent.submitted.append(mid)
    log.debug("sent %s to %s", sent, address)
    return sent


def _refused_rcpt(smtp: smtplib.SMTP) -> str:
    """One transaction to the unknown user: the reply to RCPT TO."""
    smtp.mail(OUTSIDER)
    code, reply = smtp.rcpt(UNKNOWN)
    smtp.rset()
    return f"{code} {reply.decode(errors='replace')}"


def _submit_as_jean(
    address: str, password: str, to: str, *, tls: ssl.SSLContext, timeout: float
) -> str:
    sender = f"jean@{DOMAIN}"
    text, mid = compose(sender, to, "vers l'extérieur", "Bonjour.")
    with smtplib.SMTP(address, 587, timeout=timeout) as smtp:
        smtp.starttls(context=tls)
        smtp.login(sender, password)
        smtp.sendmail(sender, [to], text.encode())
    return mid
