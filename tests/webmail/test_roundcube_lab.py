"""Roundcube as a person uses it: a real headless Chromium on the provisioned box.

Mail comes in over SMTP port 25 from this machine (192.168.56.1, outside
the lab's mynetworks), is read in Roundcube, and Roundcube's own sending
(SMTPS 465, as jean) reaches the outside mail host at 198.51.100.25.
"""

from __future__ import annotations

import email
import email.policy
import smtplib
import time
import uuid

import pytest

from .browser import LOGIN_FAILED, URL, Secret, WebmailError, open_webmail

pytestmark = pytest.mark.lab

JEAN = "jean@monentreprise.local"
CAROL = "carol@exterieur.test"


def deliver_from_outside(lab, subject: str, body: str) -> None:
    text = (
        f"From: Alice <alice@exterieur.test>\r\nTo: {JEAN}\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{uuid.uuid4()}@exterieur.test>\r\n"
        f"\r\n{body}\r\n"
    )
    with smtplib.SMTP(
        lab.address, 25, local_hostname="mx.exterieur.test", timeout=20
    ) as smtp:
        smtp.sendmail("alice@exterieur.test", [JEAN], text)


def wait_in_maildir(lab, marker: str, *, folder: str = "", timeout=30) -> None:
    """Until a folder of jean's Maildir holds a message with `marker`."""
    deadline = time.monotonic() + timeout
    path = f"/home/jean/Maildir/{folder}"
    command = ["grep", "-r", "-l", "-F", "--", marker, path]
    while time.monotonic() < deadline:
        if lab.host.run(command, sudo=True).stdout.strip():
            return
        time.sleep(0.5)
    raise AssertionError(f"no message with {marker} for jean within {timeout} s")


def test_jean_logs_in_and_chromium_asks_only_the_box(provisioned, webmail):
    webmail.log_in(JEAN, provisioned.passwords["jean"])
    assert webmail.page.url.startswith(URL + "?_task=mail")
    assert webmail.page.locator(".header-title.username").inner_text() == JEAN
    assert webmail.requests, "the browser made no request at all"
    assert webmail.foreign_requests() == []


def test_a_wrong_password_is_refused_with_roundcube_s_notice(webmail):
    wrong = Secret("pas-le-mot-de-passe-de-jean")
    with pytest.raises(WebmailError, match=LOGIN_FAILED):
        webmail.log_in(JEAN, wrong)
    assert webmail.page.locator("input[name=_pass]").is_visible()


def test_a_delivered_message_reads_in_roundcube(provisioned, webmail):
    subject = f"webmail-lecture-{uuid.uuid4()}"
    body = f"Bonjour Jean, ceci est le message {subject}."
    deliver_from_outside(provisioned, subject, body)
    wait_in_maildir(provisioned, subject)

    webmail.log_in(JEAN, provisioned.passwords["jean"])
    shown = webmail.read_message(subject)
    assert body in shown
    assert "_action=show" in webmail.page.url


def test_a_message_sent_from_roundcube_arrives_outside_signed(
    provisioned, webmail, peer
):
    subject = f"webmail-envoi-{uuid.uuid4()}"
    body = f"Bonjour Carol, envoyé depuis Roundcube ({subject})."
    webmail.log_in(JEAN, provisioned.passwords["jean"])
    webmail.send_message(CAROL, subject, body)

    received = peer.wait_for(subject, timeout=30)
    checks = {c["name"]: c["result"] for c in received.report["checks"]}
    assert received.report["client_address"] == provisioned.address
    assert received.report["header_from"] == JEAN
    assert received.report["recipients"] == [CAROL]
    assert checks["dkim"] == "pass"
    assert " ".join(text_of(received.raw).split()) == body
    # Roundcube keeps its copy in jean's Sent folder, over IMAP.
    wait_in_maildir(provisioned, subject, folder=".Sent")


def text_of(raw: bytes) -> str:
    """The plain-text body (Roundcube wraps it, format=flowed, at 72 columns)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return message.get_body(("plain",)).get_content()


def test_chromium_refuses_the_lab_certificate_without_the_pin(provisioned, playwright):
    with (
        open_webmail(playwright, provisioned.address, pin=None) as webmail,
        pytest.raises(Exception, match="ERR_CERT_AUTHORITY_INVALID"),
    ):
        webmail.page.goto(URL)
