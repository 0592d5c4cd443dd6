"""The probes against a real box: all pass on the reference, and each broken
state of the box is reported as a failure with the evidence that shows it.

Every probe runs from this machine (192.168.56.1), outside the lab's
mynetworks.
"""

from __future__ import annotations

import pytest

from maillab.probes import imap, pop3, smtp, spam, tls, web
from maillab.probes.result import ProbeResult, Status

pytestmark = pytest.mark.lab

JEAN = "jean@monentreprise.local"
MARIE = "marie@monentreprise.local"
TLS_PORTS = (25, 587, 465, 143, 993, 110, 995, 443)


def assert_passes(result: ProbeResult, lab) -> None:
    assert result.status is Status.PASS, f"{result}\n" + "\n".join(result.evidence)
    assert result.source == "192.168.56.1"
    assert result.destination.startswith(f"{lab.address}:")


def no_secret_in(result: ProbeResult, lab) -> None:
    text = "\n".join(result.evidence)
    for password in lab.passwords.values():
        assert password not in text


def test_smtp_probes_pass_on_the_reference(provisioned):
    a = provisioned.address
    for result in (
        smtp.probe_banner(address=a),
        smtp.probe_ehlo(address=a),
        smtp.probe_starttls(address=a),
        smtp.probe_starttls(address=a, port=587),
        smtp.probe_auth_after_tls(address=a),
        smtp.probe_auth_after_tls(address=a, port=25),
        smtp.probe_submission_requires_auth(address=a),
        smtp.probe_submission_requires_auth(address=a, port=465),
        smtp.probe_smtps(address=a),
        smtp.probe_relay(address=a),
        smtp.probe_vrfy(address=a),
        smtp.probe_helo_required(address=a),
        smtp.probe_size_limit(address=a),
    ):
        assert_passes(result, provisioned)


def test_smtp_evidence_shows_the_refusals(provisioned):
    a = provisioned.address
    relay = smtp.probe_relay(address=a)
    assert "S: 454 4.7.1 <bob@exterieur.test>: Relay access denied" in relay.evidence
    size = smtp.probe_size_limit(address=a)
    assert "C: MAIL FROM:<alice@exterieur.test> SIZE=52428801" in size.evidence
    assert any(line.startswith("S: 552 ") for line in size.evidence)
    auth = smtp.probe_auth_after_tls(address=a)
    before_tls = auth.evidence[: auth.evidence.index("C: STARTTLS")]
    assert not any("AUTH" in line for line in before_tls)
    assert "S: 250-AUTH PLAIN LOGIN" in auth.evidence


@pytest.mark.parametrize("port", TLS_PORTS)
def test_tls_probes_pass_on_every_tls_port(provisioned, port):
    a = provisioned.address
    certificate = tls.probe_certificate(address=a, port=port)
    assert_passes(certificate, provisioned)
    assert "CN=mail.monentreprise.local" in certificate.summary
    protocols = tls.probe_protocols(address=a, port=port)
    assert_passes(protocols, provisioned)
    assert protocols.summary == "accepts TLSv1.2, TLSv1.3 only"
    assert "-- TLSv1: accepted" not in "\n".join(protocols.evidence)
    assert_passes(tls.probe_weak_ciphers(address=a, port=port), provisioned)


def test_the_certificate_is_trusted_with_the_lab_s_own_ca(provisioned):
    result = tls.probe_certificate(
        address=provisioned.address, port=993, context=provisioned.tls()
    )
    assert_passes(result, provisioned)


def test_imap_probes_pass_on_the_reference(provisioned):
    a, password = provisioned.address, provisioned.passwords["jean"]
    results = [
        imap.probe_capabilities(address=a),
        imap.probe_capabilities(address=a, port=993),
        imap.probe_plaintext_login(address=a),
        imap.probe_login(address=a, user=JEAN, password=password),
        imap.probe_login(address=a, port=143, user=JEAN, password=password),
        imap.probe_special_use(address=a, user=JEAN, password=password),
    ]
    for result in results:
        assert_passes(result, provisioned)
        no_secret_in(result, provisioned)
    assert results[-1].summary == (
        "\\Drafts Drafts, \\Junk Junk, \\Sent Sent, \\Trash Trash"
    )


def test_imap_wrong_password_is_a_failure(provisioned):
    result = imap.probe_login(address=provisioned.address, user=JEAN, password="x")
    assert result.status is Status.FAIL
    assert "AUTHENTICATIONFAILED" in result.summary


def test_pop3_probes_pass_on_the_reference(provisioned):
    a, password = provisioned.address, provisioned.passwords["jean"]
    for result in (
        pop3.probe_capabilities(address=a),
        pop3.probe_capabilities(address=a, port=995),
        pop3.probe_plaintext_login(address=a),
        pop3.probe_login(address=a, user=JEAN, password=password),
        pop3.probe_login(address=a, port=110, user=JEAN, password=password),
    ):
        assert_passes(result, provisioned)
        no_secret_in(result, provisioned)
        assert "C: PASS ****" in result.evidence or "PASS" not in str(result.evidence)


def test_gtube_is_flagged_and_then_found_by_message_id(provisioned):
    a, password = provisioned.address, provisioned.passwords["marie"]
    result = spam.probe_gtube(address=a, password=password)
    assert_passes(result, provisioned)
    no_secret_in(result, provisioned)
    # The reference tags spam and leaves it in INBOX (no Sieve rule to Junk).
    assert result.summary == "GTUBE flagged as spam, landed in INBOX"
    message_id = next(
        line.split()[-1] for line in result.evidence if "HEADER Message-ID" in line
    )
    found = imap.probe_message(
        address=a, user=MARIE, password=password, message_id=message_id
    )
    assert_passes(found, provisioned)
    missing = imap.probe_message(
        address=a, user=MARIE, password=password, subject="never-sent-subject"
    )
    assert missing.status is Status.FAIL


def test_web_probes_pass_on_the_reference(provisioned):
    a = provisioned.address
    for result in (
        web.probe_webmail(address=a),
        web.probe_https_redirect(address=a),
        web.probe_autoconfig(address=a),
        web.probe_autodiscover(address=a),
    ):
        assert_passes(result, provisioned)
    discovered = web.probe_autodiscover(address=a, email=MARIE)
    assert f"IMAP mail.monentreprise.local:993 SSL user {MARIE}" in discovered.summary


# -- broken states of the fixture box -------------------------------------------


def assert_fails(result: ProbeResult, evidence: str) -> None:
    assert result.status is Status.FAIL, f"{result}\n" + "\n".join(result.evidence)
    assert evidence in result.evidence, "\n".join(result.evidence)


def test_auth_in_clear_text_is_reported(provisioned):
    with provisioned.postconf(smtpd_tls_auth_only="no"):
        result = smtp.probe_auth_after_tls(address=provisioned.address, port=25)
    assert "offered before STARTTLS" in result.summary
    before_tls = result.evidence[: result.evidence.index("C: STARTTLS")]
    assert_fails(result, "S: 250-AUTH PLAIN LOGIN")
    assert "S: 250-AUTH PLAIN LOGIN" in before_tls


def test_vrfy_enabled_is_reported(provisioned):
    with provisioned.postconf(disable_vrfy_command="no"):
        result = smtp.probe_vrfy(address=provisioned.address)
    assert_fails(result, "S: 252 2.0.0 jean")


def test_helo_not_required_is_reported(provisioned):
    with provisioned.postconf(smtpd_helo_required="no"):
        result = smtp.probe_helo_required(address=provisioned.address)
    assert_fails(result, "S: 250 2.1.0 Ok")


def test_an_open_relay_for_the_lab_network_is_reported(provisioned):
    with provisioned.postconf(mynetworks="127.0.0.0/8 192.168.56.0/24"):
        result = smtp.probe_relay(address=provisioned.address)
    assert_fails(result, "S: 250 2.1.5 Ok")
    assert result.summary.startswith("open relay: bob@exterieur.test accepted from")


def test_a_relay_probe_from_inside_mynetworks_says_so(provisioned):
    trusted = "127.0.0.0/8 192.168.56.0/24"
    with provisioned.postconf(mynetworks=trusted):
        result = smtp.probe_relay(address=provisioned.address, trusted=trusted.split())
    assert result.status is Status.FAIL
    assert "ran from inside the trusted range" in result.summary
    assert "192.168.56.0/24" in result.summary


def test_a_size_limit_other_than_the_chapter_s_is_reported(provisioned):
    with provisioned.postconf(message_size_limit="1000"):
        result = smtp.probe_size_limit(address=provisioned.address)
        unpinned = smtp.probe_size_limit(address=provisioned.address, limit=None)
    assert_fails(result, "S: 250-SIZE 1000")
    assert result.summary == "SIZE 1000, expected 52428800"
    assert unpinned.status is Status.PASS
    assert "C: MAIL FROM:<alice@exterieur.test> SIZE=1001" in unpinned.evidence


def test_dovecot_without_required_tls_is_reported(provisioned):
    a = provisioned.address
    with provisioned.dovecot("ssl = yes\ndisable_plaintext_auth = no\n"):
        imap_login = imap.probe_plaintext_login(address=a)
        imap_caps = imap.probe_capabilities(address=a)
        pop3_login = pop3.probe_plaintext_login(address=a)
        pop3_caps = pop3.probe_capabilities(address=a)
    assert imap_login.status is Status.FAIL
    assert any(
        line.endswith(" NO [AUTHENTICATIONFAILED] Authentication failed.")
        for line in imap_login.evidence
    )
    assert imap_caps.summary == "CAPABILITY lacks LOGINDISABLED"
    assert_fails(pop3_login, "S: -ERR [AUTH] Authentication failed.")
    assert_fails(pop3_caps, "S: USER")


def test_dovecot_accepting_tls_1_0_is_reported(provisioned):
    # At Debian's default security level OpenSSL refuses TLS 1.0 even when
    # ssl_min_protocol allows it: the broken state needs SECLEVEL=0 too.
    broken = "ssl_min_protocol = TLSv1\nssl_cipher_list = DEFAULT:@SECLEVEL=0\n"
    with provisioned.dovecot(broken):
        result = tls.probe_protocols(address=provisioned.address, port=993)
    assert result.status is Status.FAIL
    assert result.summary == "accepts TLSv1, TLSv1.1 (below TLS 1.2)"
    assert "-- TLSv1: accepted (TLSv1)" in result.evidence


def test_dovecot_with_ssl_off_is_reported(provisioned):
    a = provisioned.address
    with provisioned.dovecot("ssl = no\ndisable_plaintext_auth = no\n"):
        caps = imap.probe_capabilities(address=a)
        starttls = tls.probe_protocols(address=a, port=143)
    assert caps.status is Status.FAIL
    assert "STARTTLS" in caps.summary
    assert starttls.status is Status.FAIL
    assert starttls.summary == "the server refused STARTTLS"
    assert "S: t1 BAD TLS support isn't enabled." in starttls.evidence


def test_nothing_listening_is_an_error_not_a_failure(provisioned):
    password = provisioned.passwords["jean"]
    for result in (
        smtp.probe_banner(address="127.0.0.1", port=1),
        imap.probe_login(address="127.0.0.1", port=1, user=JEAN, password=password),
        pop3.probe_login(address="127.0.0.1", port=1, user=JEAN, password=password),
        web.probe_webmail(address="127.0.0.1", port=1),
        tls.probe_certificate(address="127.0.0.1", port=1),
    ):
        assert result.status is Status.ERROR, result
        assert result.summary == "connection refused: nothing listens on that port"
