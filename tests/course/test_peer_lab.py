"""The outside mail host: what the lab sends out, judged as a large receiver would."""

from __future__ import annotations

import base64
import smtplib
import time
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from maillab.peer.network import ADDRESS

pytestmark = pytest.mark.lab


def send_as_jean(lab, subject: str) -> None:
    with smtplib.SMTP(lab.address, 587, timeout=20) as smtp:
        smtp.starttls(context=lab.tls())
        smtp.login("jean@monentreprise.local", lab.passwords["jean"])
        smtp.sendmail(
            "jean@monentreprise.local",
            ["carol@exterieur.test"],
            f"From: Jean <jean@monentreprise.local>\r\nTo: carol@exterieur.test\r\n"
            f"Subject: {subject}\r\n\r\nBonjour Carol.\r\n",
        )


def checks(received) -> dict[str, str]:
    return {c["name"]: c["result"] for c in received.report["checks"]}


def test_outgoing_mail_passes_dkim_spf_and_dmarc_at_the_outside_host(provisioned, peer):
    subject = f"sortant-{uuid.uuid4()}"
    send_as_jean(provisioned, subject)
    received = peer.wait_for(subject)
    assert received.report["client_address"] == provisioned.address
    assert checks(received) == {
        "dkim": "pass",
        "spf": "pass",
        "dmarc": "pass",
        "spam": "unscanned",
    }
    assert received.report["score"] == 10.0


def test_inbound_mail_from_a_stranger_s_server_lands_in_the_maildir(provisioned, peer):
    subject = f"entrant-{uuid.uuid4()}"
    raw = (
        f"From: Alice <alice@exterieur.test>\r\nTo: jean@monentreprise.local\r\n"
        f"Subject: {subject}\r\n\r\nBonjour Jean.\r\n"
    ).encode()
    replies = peer.send(
        provisioned.address, "alice@exterieur.test", ["jean@monentreprise.local"], raw
    )
    assert replies == {"source": ADDRESS, "refused": {}}
    deadline = time.monotonic() + 30
    found = ""
    while time.monotonic() < deadline and not found:
        found = provisioned.host.run(
            f"grep -l -r -F {subject} /home/jean/Maildir", sudo=True
        ).stdout.strip()
        time.sleep(0.5)
    message = provisioned.host.read(found.splitlines()[0])
    assert f"[{ADDRESS}]" in message  # Postfix's Received: header names the peer


def test_no_relay_through_the_lab_for_the_outside_host(provisioned, peer):
    raw = b"Subject: relais\r\n\r\nrelais\r\n"
    with pytest.raises(Exception, match="Relay access denied"):
        peer.send(
            provisioned.address, "alice@exterieur.test", ["bob@exterieur.test"], raw
        )


def test_with_opendkim_stopped_mail_leaves_unsigned(provisioned, peer):
    dkim = provisioned.host.service("opendkim")
    dkim.stop()
    try:
        subject = f"sans-dkim-{uuid.uuid4()}"
        send_as_jean(provisioned, subject)
        received = peer.wait_for(subject)
    finally:
        dkim.start()
    assert checks(received)["dkim"] == "none"
    # SPF still aligns: DMARC passes on SPF alone.
    assert checks(received)["dmarc"] == "pass"
    assert received.report["score"] < 10.0


def test_a_wrong_published_key_fails_dkim_at_the_outside_host(provisioned, peer):
    host = provisioned.host
    zone = "/etc/bind/zones/db.monentreprise.local"
    good = host.read(zone)
    wrong = _other_public_key()
    start = good.index('"p=') + 3
    end = good.index(" )", start)
    # TXT strings hold 255 bytes at most: publish the key in several.
    chunks = '" "'.join(wrong[i : i + 200] for i in range(0, len(wrong), 200))
    broken = good[:start] + chunks + '"' + good[end:]
    host.write(
        zone, _bump(broken), validate=f"named-checkzone monentreprise.local {zone}"
    )
    host.run(["rndc", "reload", "monentreprise.local"], sudo=True, check=True)
    try:
        subject = f"mauvaise-cle-{uuid.uuid4()}"
        send_as_jean(provisioned, subject)
        received = peer.wait_for(subject)
    finally:
        host.write(zone, _bump(good, by=2))
        host.run(["rndc", "reload", "monentreprise.local"], sudo=True, check=True)
    assert checks(received)["dkim"] == "fail"
    detail = next(c["detail"] for c in received.report["checks"] if c["name"] == "dkim")
    assert "mail._domainkey.monentreprise.local" in detail


def _other_public_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _bump(zone: str, by: int = 1) -> str:
    from maillab.course import zone as zones

    for _ in range(by):
        zone = zones.bump_serial(zone)
    return zone
