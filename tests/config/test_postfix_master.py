"""master.cf: parser, editor, postconf -M/-P views and linter, on fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.findings import ConfigSyntaxError, Severity
from maillab.config.postfix_main import parse_postconf
from maillab.config.postfix_master import (
    lint_master_cf,
    parse_master_cf,
    postconf_m,
    postconf_p,
    service_parameters,
    set_option,
)

FIXTURES = Path(__file__).parents[1] / "fixtures" / "config" / "postfix"
DEFAULTS = parse_postconf((FIXTURES / "postconf-d-debian12.txt").read_text())


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_chapter_master_services_and_options() -> None:
    conf = parse_master_cf(text("chapter-master.cf"))
    submission = conf.service("587")
    assert submission is not None
    assert (submission.line, submission.end_line) == (9, 15)
    assert submission.command == "smtpd"
    assert [(o.name, o.value) for o in submission.options][:2] == [
        ("syslog_name", "postfix/submission"),
        ("smtpd_tls_security_level", "encrypt"),
    ]
    tlsmgr = conf.service("tlsmgr", "unix")
    assert tlsmgr is not None and (tlsmgr.wakeup, tlsmgr.maxproc) == ("1000?", "1")
    assert len(conf.services) == 26


def test_braced_options_and_arguments() -> None:
    conf = parse_master_cf(text("tricky-master-commented-service.cf"))
    smtp = conf.services[0]
    assert [(o.name, o.value) for o in smtp.options] == [
        ("smtpd_client_restrictions", "$mua_client_restrictions"),
        ("syslog_name", "postfix/submission"),
        ("smtpd_sasl_auth_enable", "yes"),
        ("smtpd_helo_restrictions", "permit_mynetworks, reject"),
    ]
    assert conf.services[-1].args[-2:] == ("a   b", "$x")


def test_postconf_m_output_as_on_the_box() -> None:
    """Lines copied from `postconf -M` on the lab box."""
    shown = postconf_m(parse_master_cf(text("tricky-master-commented-service.cf")))
    assert shown.splitlines()[0] == (
        "smtp       inet  n       -       y       -       -       smtpd "
        "-o smtpd_client_restrictions=$mua_client_restrictions "
        "-o syslog_name=postfix/submission -o smtpd_sasl_auth_enable=yes "
        "-o {smtpd_helo_restrictions=permit_mynetworks, reject}"
    )
    assert shown.splitlines()[-1] == (
        "mine       unix  -       -       n       -       -       pipe flags=R "
        "user=nobody argv=/bin/echo {a   b} $x"
    )
    spam = postconf_m(parse_master_cf(text("chapter-master-spamassassin.cf")))
    assert spam == (
        "spamassassin unix -      n       n       -       -       pipe user=spamd "
        "argv=/usr/bin/spamc -f -e /usr/sbin/sendmail -oi -f ${sender} ${recipient}\n"
    )


def test_postconf_p_output_as_on_the_box() -> None:
    shown = postconf_p(parse_master_cf(text("chapter-master.cf")))
    assert shown.splitlines()[:2] == [
        "587/inet/milter_macro_daemon_name = ORIGINATING",
        "587/inet/smtpd_recipient_restrictions = permit_sasl_authenticated,reject",
    ]
    assert len(shown.splitlines()) == 12


def test_service_parameters_of_transports() -> None:
    names = service_parameters(parse_master_cf(text("debian12-master.cf")))
    assert "relay_destination_concurrency_limit" in names
    assert "maildrop_time_limit" in names
    assert not any(n.startswith("discard_") for n in names)
    assert names - set(DEFAULTS) == set()


def test_commented_service_options_extend_the_service_above() -> None:
    findings = lint_master_cf(text("tricky-master-commented-service.cf"))
    orphan = [
        f for f in findings if f.code == "postfix.master.commented-service-options"
    ]
    assert [(f.line, f.severity) for f in orphan] == [(4, Severity.ERROR)]
    assert "`submission` is commented out on line 3" in orphan[0].message
    assert "continue `smtp` (line 1)" in orphan[0].message


def test_debian_master_cf_has_no_orphan_options() -> None:
    """Debian's master.cf comments out submission with its -o lines too."""
    assert lint_master_cf(text("debian12-master.cf"), defaults=DEFAULTS) == []


def test_chapter_spamassassin_pipe_runs_as_a_missing_user() -> None:
    users = {"root", "debian-spamd", "nobody"}
    findings = lint_master_cf(text("chapter-master-spamassassin.cf"), local_users=users)
    assert [(f.line, f.code) for f in findings] == [
        (2, "postfix.master.unknown-pipe-user")
    ]
    assert "user=spamd" in findings[0].message


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("smtp inet n - y - -", "file m.cf: line 1: bad field count"),
        ("smtp tcp n - y - - smtpd", 'invalid type field "tcp" in'),
        ("smtp inet x - y - - smtpd", 'invalid private field "x" in'),
        ("smtp inet n - y abc - smtpd", 'invalid wakeup field "abc" in'),
        ("smtp inet n - y - z smtpd", 'invalid process_limit field "z" in'),
    ],
)
def test_bad_fields_are_errors(entry: str, message: str) -> None:
    findings = lint_master_cf(entry + "\n", path="m.cf")
    assert [f.severity for f in findings] == [Severity.ERROR]
    assert findings[0].message.startswith(message)


def test_option_problems() -> None:
    conf = "smtp inet n - y - - smtpd -o foo -o {a=b\n"
    findings = lint_master_cf(conf, defaults=DEFAULTS)
    assert [f.code for f in findings] == [
        "postfix.master.bad-option",
        "postfix.master.missing-brace",
        "postfix.unused-parameter",
    ]
    assert findings[1].message == "missing '}' in \"{a=b\""


def test_duplicate_inet_service_is_an_error() -> None:
    findings = lint_master_cf("smtp inet n - y - - smtpd\nsmtp inet n - y - - smtpd\n")
    assert [(f.line, f.code, f.severity) for f in findings] == [
        (2, "postfix.master.duplicate-service", Severity.ERROR)
    ]


def test_set_option_rewrites_in_place() -> None:
    original = text("chapter-master.cf")
    edited = set_option(original, "587", "inet", "smtpd_tls_security_level", "may")
    assert edited == original.replace(
        "-o smtpd_tls_security_level=encrypt", "-o smtpd_tls_security_level=may"
    )


def test_set_option_adds_a_line_with_braces_for_spaces() -> None:
    original = "smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\n"
    edited = set_option(original, "smtp", "inet", "smtpd_helo_restrictions", "a, b")
    assert edited.splitlines()[1] == "  -o { smtpd_helo_restrictions = a, b }"
    option = parse_master_cf(edited).services[0].options[0]
    assert (option.name, option.value) == ("smtpd_helo_restrictions", "a, b")


def test_set_option_needs_the_service() -> None:
    with pytest.raises(ValueError, match="no service submission/inet"):
        set_option("", "submission", "inet", "a", "b")


_piece = st.sampled_from(
    [
        "smtp",
        " inet",
        " unix",
        " n",
        " -",
        " y",
        " 60",
        " 1?",
        " smtpd",
        " -o",
        " a=b",
        " {",
        "}",
        "\n",
        "\n  ",
        "#",
        "\n#sub inet n - y - - smtpd",
        "\x00",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(_piece, max_size=40).map("".join), st.binary(max_size=100)))
def test_fuzz_parse_lint_and_views_never_raise(data: str | bytes) -> None:
    try:
        conf = parse_master_cf(data, path="fuzz.cf")
    except ConfigSyntaxError as exc:
        assert exc.file == "fuzz.cf"
        return
    assert postconf_m(conf).count("\n") == len(conf.services)
    postconf_p(conf)
    findings = lint_master_cf(data, path="fuzz.cf", defaults=DEFAULTS, local_users=[])
    assert all(f.file == "fuzz.cf" and f.fix for f in findings)
