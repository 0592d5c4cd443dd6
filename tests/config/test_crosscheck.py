"""Checks across files, on the reference configuration and on broken variants."""

from __future__ import annotations

from pathlib import Path

import pytest

from maillab.config import crosscheck
from maillab.config.dovecot import parse_dovecot
from maillab.config.lint import (
    lint_paths,
    packaged_dovecot_defaults,
    packaged_postconf_defaults,
)
from maillab.config.opendkim import parse_opendkim_conf
from maillab.config.postfix_main import effective, parse_main_cf
from maillab.config.postfix_master import parse_master_cf
from maillab.course.lab import Lab

FIXTURES = Path(__file__).parent.parent / "fixtures"

LAB = Lab(ip="192.168.56.10")
MAIN = "\n".join(
    [
        "queue_directory = /var/spool/postfix",
        "mailbox_transport = lmtp:unix:private/dovecot-lmtp",
        "smtpd_sasl_type = dovecot",
        "smtpd_sasl_path = private/auth",
        "smtpd_sasl_auth_enable = yes",
        "smtpd_milters = unix:/opendkim/opendkim.sock",
        "non_smtpd_milters = unix:/opendkim/opendkim.sock",
        "message_size_limit = 52428800",
        "mailbox_size_limit = 1073741824",
        "",
    ]
)


def postfix(main: str = MAIN) -> crosscheck.PostfixView:
    conf = parse_main_cf(main)
    master = parse_master_cf(
        (FIXTURES / "config/postfix/debian12-master.cf").read_text()
    )
    view = effective(conf, packaged_postconf_defaults(), master=master)
    return crosscheck.PostfixView(conf, view, master)


def dovecot(master_conf: str):
    files = {
        "/etc/dovecot/dovecot.conf": "!include conf.d/*.conf\n",
        "/etc/dovecot/conf.d/10-master.conf": master_conf,
    }
    return parse_dovecot(files=files, defaults=packaged_dovecot_defaults())


REFERENCE_MASTER = LAB.render("7.3.2/10-master.conf")


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_reference_postfix_and_dovecot_agree():
    assert crosscheck.check_postfix_dovecot(postfix(), dovecot(REFERENCE_MASTER)) == []


def test_chapter_lmtp_listener_is_not_where_postfix_looks():
    chapter = REFERENCE_MASTER.replace(
        "unix_listener /var/spool/postfix/private/dovecot-lmtp {",
        "unix_listener lmtp {",
    )
    findings = crosscheck.check_postfix_dovecot(postfix(), dovecot(chapter))
    assert codes(findings) == ["cross.postfix-dovecot-socket"]
    (finding,) = findings
    assert "/var/spool/postfix/private/dovecot-lmtp" in finding.message
    assert "/run/dovecot/lmtp" in finding.message
    assert finding.line == 2  # mailbox_transport in MAIN


def test_listener_postfix_may_not_open():
    locked = REFERENCE_MASTER.replace(
        "mode = 0660\n    user = postfix", "mode = 0600\n    user = dovecot"
    )
    findings = crosscheck.check_postfix_dovecot(postfix(), dovecot(locked))
    assert codes(findings) == ["cross.socket-permission"]
    assert findings[0].file == "/etc/dovecot/conf.d/10-master.conf"


def test_sasl_socket_checked_only_when_sasl_is_on():
    no_auth = REFERENCE_MASTER.replace(
        "unix_listener /var/spool/postfix/private/auth", "unix_listener auth-client"
    )
    off = MAIN.replace("smtpd_sasl_auth_enable = yes", "smtpd_sasl_auth_enable = no")
    assert crosscheck.check_postfix_dovecot(postfix(off), dovecot(no_auth)) == []
    on = crosscheck.check_postfix_dovecot(postfix(), dovecot(no_auth))
    assert codes(on) == ["cross.postfix-dovecot-socket"]


REFERENCE_DKIM = parse_opendkim_conf(LAB.render("7.3.5/opendkim.conf"))


def test_reference_milter_matches_opendkim_socket():
    findings = crosscheck.check_postfix_opendkim(
        postfix(), REFERENCE_DKIM, postfix_groups={"postfix", "opendkim"}
    )
    assert findings == []


def test_debian_default_socket_is_outside_postfix_s_chroot():
    debian = parse_opendkim_conf("Socket local:/run/opendkim/opendkim.sock\n")
    findings = crosscheck.check_postfix_opendkim(postfix(), debian)
    assert codes(findings) == ["cross.postfix-opendkim-socket"] * 2
    assert "inside its chroot" in findings[0].message
    assert "local:/var/spool/postfix/opendkim/opendkim.sock" in findings[0].fix


def test_postfix_outside_opendkim_group_is_refused():
    findings = crosscheck.check_postfix_opendkim(
        postfix(), REFERENCE_DKIM, postfix_groups={"postfix"}
    )
    assert codes(findings) == ["cross.milter-permission"]
    assert "usermod -aG opendkim postfix" in findings[0].fix


def test_inet_milter_and_socket_agree():
    inet = parse_opendkim_conf("Socket inet:8891@localhost\n")
    main = MAIN.replace("unix:/opendkim/opendkim.sock", "inet:localhost:8891")
    assert crosscheck.check_postfix_opendkim(postfix(main), inet) == []
    wrong = main.replace("inet:localhost:8891", "inet:localhost:8892")
    assert (
        codes(crosscheck.check_postfix_opendkim(postfix(wrong), inet))
        == ["cross.postfix-opendkim-socket"] * 2
    )


@pytest.mark.parametrize(
    ("mailbox", "webmail", "expected"),
    [
        ("1073741824", "50M", []),
        ("0", "50M", []),
        ("10485760", None, ["cross.size-limits"]),
        ("1073741824", "100M", ["cross.webmail-size"]),
    ],
)
def test_size_limits(mailbox, webmail, expected):
    main = MAIN.replace(
        "mailbox_size_limit = 1073741824", f"mailbox_size_limit = {mailbox}"
    )
    assert (
        codes(crosscheck.check_sizes(postfix(main), roundcube_max=webmail)) == expected
    )


def test_lint_paths_knows_formats_by_name(tmp_path):
    path = tmp_path / "main.cf"
    path.write_text("message_size_limit = 52428800      # 50 MB\n")
    findings = lint_paths([str(path)])
    assert [f.code for f in findings if f.severity == "error"] == [
        "postfix.comment-in-value"
    ]
    assert findings[0].file == str(path) and findings[0].line == 1


@pytest.mark.parametrize(
    ("value", "old"),
    [
        ("!SSLv2, !SSLv3", ["TLSv1", "TLSv1.1"]),
        (">=TLSv1.2", []),
        ("TLSv1.2 TLSv1.3", []),
        ("!SSLv2,!SSLv3,!TLSv1,!TLSv1.1", []),
        ("<=TLSv1.1", ["SSLv2", "SSLv3", "TLSv1", "TLSv1.1"]),
    ],
)
def test_old_tls_versions_on_the_server_side(value, old):
    findings = crosscheck.check_postfix_tls(
        postfix(MAIN + f"smtpd_tls_protocols = {value}\n")
    )
    if old:
        (finding,) = findings
        assert f"still lets {', '.join(old)} through" in finding.message
        assert finding.line == 10
    else:
        assert findings == []
