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
