"""`maillab lint` on a live lab: the reference is clean, an injected fault is named."""

from __future__ import annotations

import pytest

from maillab.config.findings import Severity
from maillab.config.lint import lint_lab

pytestmark = pytest.mark.lab


def test_reference_has_no_error_and_no_warning(provisioned):
    findings = lint_lab(provisioned.host)
    serious = [str(f) for f in findings if f.severity != Severity.INFO]
    assert serious == []


def test_moved_lmtp_listener_is_reported_by_the_cross_check(provisioned):
    host = provisioned.host
    path = "/etc/dovecot/conf.d/10-master.conf"
    good = host.read(path)
    broken = good.replace(
        "unix_listener /var/spool/postfix/private/dovecot-lmtp {",
        "unix_listener lmtp {",
    )
    assert broken != good
    host.write(path, broken)
    try:
        findings = lint_lab(host)
    finally:
        host.write(path, good)
    named = [f for f in findings if f.code == "cross.postfix-dovecot-socket"]
    # Both transports the reference sets point at the missing socket.
    assert sorted(f.message.split(" =")[0] for f in named) == [
        "mailbox_transport",
        "virtual_transport",
    ]
    for finding in named:
        assert finding.file == "/etc/postfix/main.cf"
        assert finding.severity == Severity.ERROR
        assert "/run/dovecot/lmtp" in finding.message


def test_published_key_that_is_not_the_signing_key_is_an_error(provisioned):
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from maillab.course import zone as zones

    host = provisioned.host
    path = "/etc/bind/zones/db.monentreprise.local"
    good = host.read(path)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    der = other.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    wrong = base64.b64encode(der).decode()
    start = good.index('"p=') + 3
    end = good.index(" )", start)
    chunks = '" "'.join(wrong[i : i + 200] for i in range(0, len(wrong), 200))
    host.write(path, zones.bump_serial(good[:start] + chunks + '"' + good[end:]))
    host.run(["rndc", "reload", "monentreprise.local"], sudo=True, check=True)
    try:
        findings = lint_lab(host)
    finally:
        host.write(path, zones.bump_serial(zones.bump_serial(good)))
        host.run(["rndc", "reload", "monentreprise.local"], sudo=True, check=True)
    (finding,) = [f for f in findings if f.code == "dkim.key-mismatch"]
    assert finding.file == "mail._domainkey.monentreprise.local"
    assert finding.severity == Severity.ERROR
