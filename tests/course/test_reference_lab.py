"""The whole chapter provisioned on a fresh box, checked over the wire from outside.

Every probe here comes from this machine's side of the lab network
(192.168.56.1), which is not in the lab's mynetworks: what it is allowed to
do, a stranger on the Internet is allowed to do.
"""

from __future__ import annotations

import http.client
import poplib
import smtplib
import time
import uuid
import xml.etree.ElementTree as ET

import dkim
import dns.resolver
import pytest
from imapclient import IMAPClient

from maillab.course import StepFailed, apply_step, provision
from maillab.course.lab import read_lab
from maillab.course.sections import dovecot_steps
from maillab.course.step import ManagedFile

pytestmark = pytest.mark.lab

OUTSIDER = "alice@exterieur.test"
# The real GTUBE string: the chapter's has C4JABQADN1 (a typo) and is never flagged.
GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


def message(to: str, subject: str, body: str = "Bonjour.") -> str:
    return (
        f"From: Alice <{OUTSIDER}>\r\nTo: {to}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4()}@exterieur.test>\r\n\r\n{body}\r\n"
    )


def send_from_outside(lab, to: list[str], text: str) -> None:
    with smtplib.SMTP(
        lab.address, 25, local_hostname="mx.exterieur.test", timeout=20
    ) as smtp:
        smtp.sendmail(OUTSIDER, to, text)


def wait_for(lab, user: str, marker: str, timeout: float = 30) -> str:
    """The first message in the user's Maildir that contains `marker`."""
    deadline = time.monotonic() + timeout
    script = (
        f"grep -l -r -F -- {marker!r} /home/{user}/Maildir/new "
        "/home/{user}/Maildir/cur 2>/dev/null | head -1"
    ).replace("{user}", user)
    while time.monotonic() < deadline:
        found = lab.host.run(script, sudo=True).stdout.strip()
        if found:
            return lab.host.read(found)
        time.sleep(0.5)
    raise AssertionError(f"no message with {marker} for {user} within {timeout} s")


def test_first_provision_changed_every_step(provisioned):
    assert all(r.changed for r in provisioned.first_run)


def test_second_provision_changes_nothing(provisioned):
    again = list(provision(provisioned.host, until="all"))
    assert [r.step.id for r in again if r.changed] == []


def test_outside_mail_lands_in_maildir_and_reads_over_imaps_and_pop3s(provisioned):
    subject = f"test-{uuid.uuid4()}"
    send_from_outside(
        provisioned,
        ["jean@monentreprise.local"],
        message("jean@monentreprise.local", subject),
    )
    assert f"Subject: {subject}" in wait_for(provisioned, "jean", subject)

    password = provisioned.passwords["jean"]
    with IMAPClient(
        provisioned.address,
        port=993,
        ssl=True,
        ssl_context=provisioned.tls(),
        timeout=20,
    ) as imap:
        imap.login("jean@monentreprise.local", password)
        imap.select_folder("INBOX", readonly=True)
        assert imap.search(["SUBJECT", subject])
        flags = {name: f for f, _, name in imap.list_folders() for _ in [0]}
        assert {"Drafts", "Junk", "Sent", "Trash"} <= set(flags)

    pop = poplib.POP3_SSL(
        provisioned.address, 995, context=provisioned.tls(), timeout=20
    )
    try:
        pop.user("jean@monentreprise.local")
        pop.pass_(password)
        count, _ = pop.stat()
        assert count >= 1
    finally:
        pop.quit()


def test_submission_offers_auth_only_after_starttls(provisioned):
    with smtplib.SMTP(provisioned.address, 587, timeout=20) as smtp:
        smtp.ehlo("poste.exterieur.test")
        assert not smtp.has_extn("auth")
        assert smtp.has_extn("starttls")
        smtp.starttls(context=provisioned.tls())
        smtp.ehlo("poste.exterieur.test")
        assert "PLAIN" in smtp.esmtp_features["auth"]
        # Encrypted but not authenticated: no sending.
        assert smtp.mail("jean@monentreprise.local")[0] == 250
        code, _ = smtp.rcpt("carol@exterieur.test")
        assert code in (454, 554)


def test_smtps_speaks_implicit_tls(provisioned):
    with smtplib.SMTP_SSL(
        provisioned.address, 465, context=provisioned.tls(), timeout=20
    ) as smtp:
        code, banner = smtp.ehlo("poste.exterieur.test")
        assert code == 250 and banner.startswith(b"mail.monentreprise.local")
        assert smtp.sock.version() in ("TLSv1.2", "TLSv1.3")


def test_no_relay_for_an_outsider(provisioned):
    with smtplib.SMTP(
        provisioned.address, 25, local_hostname="mx.exterieur.test", timeout=20
    ) as smtp:
        smtp.ehlo()
        assert smtp.mail(OUTSIDER)[0] == 250
        code, reply = smtp.rcpt("bob@exterieur.test")
    assert code in (454, 554), reply
    assert b"Relay access denied" in reply


def test_vrfy_is_refused(provisioned):
    with smtplib.SMTP(
        provisioned.address, 25, local_hostname="mx.exterieur.test", timeout=20
    ) as smtp:
        smtp.ehlo()
        code, reply = smtp.verify("jean")
    assert code == 502 and b"VRFY command is disabled" in reply


def test_gtube_arrives_flagged_with_subject_rewritten(provisioned):
    subject = f"gtube-{uuid.uuid4()}"
    send_from_outside(
        provisioned,
        ["marie@monentreprise.local"],
        message("marie@monentreprise.local", subject, GTUBE),
    )
    text = wait_for(provisioned, "marie", subject)
    assert "X-Spam-Flag: YES" in text
    assert f"Subject: [***SPAM***] {subject}" in text


def test_aliases_list_reaches_every_member(provisioned):
    subject = f"equipe-{uuid.uuid4()}"
    send_from_outside(
        provisioned,
        ["equipe@monentreprise.local"],
        message("equipe@monentreprise.local", subject),
    )
    for user in ("jean", "marie", "direction"):
        assert subject in wait_for(provisioned, user, subject)


def _lab_resolver(provisioned) -> dns.resolver.Resolver:
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [provisioned.address]
    resolver.lifetime = 5
    return resolver


def _txt(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    answer = resolver.resolve(name, "TXT")
    return [b"".join(r.strings).decode() for r in answer]


def test_spf_and_dmarc_records_resolve_from_the_lab_dns(provisioned):
    resolver = _lab_resolver(provisioned)
    assert _txt(resolver, "monentreprise.local") == [
        f"v=spf1 mx a ip4:{provisioned.address} -all"
    ]
    dmarc = _txt(resolver, "_dmarc.monentreprise.local")[0]
    assert dmarc.startswith("v=DMARC1; p=quarantine;")


def test_outgoing_mail_is_signed_and_verifies_against_the_lab_dns(provisioned, peer):
    subject = f"dkim-{uuid.uuid4()}"
    with smtplib.SMTP(provisioned.address, 587, timeout=20) as smtp:
        smtp.starttls(context=provisioned.tls())
        smtp.login("jean@monentreprise.local", provisioned.passwords["jean"])
        smtp.sendmail(
            "jean@monentreprise.local",
            ["carol@exterieur.test"],
            message("carol@exterieur.test", subject).replace(
                f"Alice <{OUTSIDER}>", "Jean <jean@monentreprise.local>"
            ),
        )
    # The outside mail host receives it: check the raw message ourselves.
    raw = peer.wait_for(subject).raw
    assert b"DKIM-Signature:" in raw
    resolver = _lab_resolver(provisioned)

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        return "".join(_txt(resolver, name.decode().rstrip("."))).encode()

    assert dkim.verify(raw, dnsfunc=dnsfunc)


def _https(provisioned, host_header: str, path: str = "/") -> http.client.HTTPResponse:
    conn = http.client.HTTPSConnection(
        provisioned.address, 443, timeout=20, context=provisioned.tls()
    )
    conn.request("GET", path, headers={"Host": host_header})
    return conn.getresponse()


def test_webmail_login_page_over_https_and_http_redirects(provisioned):
    response = _https(provisioned, "webmail.monentreprise.local")
    body = response.read().decode()
    assert response.status == 200
    assert 'name="_user"' in body and "Webmail MonEntreprise" in body

    conn = http.client.HTTPConnection(provisioned.address, 80, timeout=20)
    conn.request("GET", "/", headers={"Host": "webmail.monentreprise.local"})
    redirect = conn.getresponse()
    assert redirect.status == 301
    assert redirect.getheader("Location") == "https://webmail.monentreprise.local/"


def test_autoconfig_xml_is_served(provisioned):
    conn = http.client.HTTPConnection(provisioned.address, 80, timeout=20)
    conn.request(
        "GET",
        "/mail/config-v1.1.xml",
        headers={"Host": "autoconfig.monentreprise.local"},
    )
    response = conn.getresponse()
    assert response.status == 200
    tree = ET.fromstring(response.read())
    imap = tree.find("./emailProvider/incomingServer[@type='imap']")
    assert imap is not None
    assert (imap.findtext("hostname"), imap.findtext("port")) == (
        "mail.monentreprise.local",
        "993",
    )


def test_autodiscover_answers_outlook_s_post(provisioned):
    conn = http.client.HTTPSConnection(
        provisioned.address, 443, timeout=20, context=provisioned.tls()
    )
    request = (
        "<Autodiscover><Request><EMailAddress>jean@monentreprise.local"
        "</EMailAddress></Request></Autodiscover>"
    )
    conn.request(
        "POST",
        "/autodiscover/autodiscover.xml",
        body=request,
        headers={
            "Host": "autodiscover.monentreprise.local",
            "Content-Type": "text/xml",
        },
    )
    response = conn.getresponse()
    body = response.read().decode()
    assert response.status == 200
    assert "<LoginName>jean@monentreprise.local</LoginName>" in body


def test_monitoring_script_reports_every_service_active(provisioned):
    result = provisioned.host.run("/usr/local/bin/monitor-mail-server.sh", sudo=True)
    assert result.ok
    log = provisioned.host.read("/var/log/mail-server-monitor.log")
    last = log[log.rindex("=== Début") :]
    for service in ("postfix", "dovecot", "opendkim", "spamd", "named", "apache2"):
        assert f"✓ Service {service} actif" in last
    assert "ALERTE" not in last and "(0 alerte(s))" in last


def test_broken_value_is_rolled_back_with_the_tool_s_message(provisioned):
    host = provisioned.host
    lab = read_lab(host)
    step = dovecot_steps(lab)[0]
    before = host.read("/etc/dovecot/conf.d/10-ssl.conf")
    chapter = before.replace(
        "ssl_min_protocol = TLSv1.2", "ssl_protocols = !SSLv2 !SSLv3"
    )
    broken = type(step)(
        **{
            **step.__dict__,
            "files": [
                ManagedFile(f.path, chapter) if f.path.endswith("10-ssl.conf") else f
                for f in step.files
            ],
        }
    )
    with pytest.raises(StepFailed, match="ssl_protocols") as failure:
        apply_step(host, broken)
    assert "previous files were put back" in str(failure.value)
    assert host.read("/etc/dovecot/conf.d/10-ssl.conf") == before
    assert host.service("dovecot").is_active
