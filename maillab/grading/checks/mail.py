"""Behaviour checks over the wire: the probes, and SpamAssassin through spamc."""

from __future__ import annotations

import importlib
import smtplib
from typing import Any

from maillab.grading.context import Context
from maillab.grading.registry import CheckError, Verdict, check, from_probe
from maillab.probes.smtp import OUTSIDE_HELO
from maillab.probes.tls import client_context

# The real GTUBE string (the chapter's has a typo and is never flagged).
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


@check("probe")
def check_probe(
    lab: Context,
    *,
    probe: str,
    login: str | None = None,
    args: dict[str, Any] | None = None,
) -> Verdict:
    """Run a maillab.probes function ("smtp.starttls" -> probes.smtp.probe_starttls).

    With `login`, the probe logs in as that chapter user (user@domain) with
    the lab's password.  Probes never send a message.
    """
    module_name, _, name = probe.partition(".")
    module = importlib.import_module(f"maillab.probes.{module_name}")
    func = getattr(module, "probe_" + name.replace("-", "_"), None)
    if func is None:
        raise CheckError(f"no probe {probe!r}")
    kwargs: dict[str, Any] = {"address": lab.address, "timeout": lab.timeout}
    kwargs.update(args or {})
    if login:
        kwargs["user"] = f"{login}@monentreprise.local"
        kwargs["password"] = lab.password(login)
    return from_probe(func(**kwargs))


@check("spamc_gtube")
def check_spamc_gtube(lab: Context, *, subject_tag: str = "") -> Verdict:
    """spamd, through spamc, flags GTUBE as spam and tags its subject."""
    text = f"From: alice@exterieur.test\nSubject: test\n\n{GTUBE}\n"
    result = lab.run(["spamc"], input=text)
    headers = result.stdout.partition("\n\n")[0]
    flagged = "X-Spam-Flag: YES" in headers
    subject = next(
        (line for line in headers.splitlines() if line.startswith("Subject:")), ""
    )
    if "X-Spam-Checker-Version" not in headers:
        return Verdict(False, f"spamc exit {result.exit_status}: spamd not reached")
    if not flagged:
        return Verdict(False, "spamd answered, but GTUBE is not flagged")
    if subject_tag not in subject:
        return Verdict(False, f"flagged, but {subject!r} lacks {subject_tag}")
    return Verdict(True, f"X-Spam-Flag: YES; {subject}")


@check("smtp_login")
def check_smtp_login(lab: Context, *, user: str, port: int = 587) -> Verdict:
    """AUTH as a chapter user on submission, after STARTTLS; nothing is sent.

    This proves Dovecot's SASL socket and the password without opening the
    mailbox: an IMAP or POP3 login would make Dovecot create ~/Maildir and
    its indexes, and grading must not change the machine.
    """
    login = f"{user}@monentreprise.local"
    try:
        with smtplib.SMTP(lab.address, port, timeout=lab.timeout) as smtp:
            smtp.ehlo(OUTSIDE_HELO)
            smtp.starttls(context=client_context())
            smtp.ehlo(OUTSIDE_HELO)
            code, _ = smtp.login(login, lab.password(user))
    except ConnectionRefusedError:
        return Verdict(False, f"{lab.address}:{port}: connection refused")
    except smtplib.SMTPAuthenticationError as exc:
        return Verdict(False, f"AUTH as {login} refused: {exc.smtp_code}")
    except smtplib.SMTPException as exc:
        return Verdict(False, f"{lab.address}:{port}: {type(exc).__name__}: {exc}")
    return Verdict(code == 235, f"AUTH as {login} over STARTTLS: {code}")
