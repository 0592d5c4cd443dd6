"""DMARC: parser, linter, discovery (organizational-domain fallback), alignment."""

from __future__ import annotations

import pytest

from maillab.dns.dmarc import (
    ReportUri,
    is_aligned,
    organizational_domain,
    parse_dmarc,
    parse_uris,
)
from maillab.dns.dmarc_check import authorization_name, check_dmarc, lint_dmarc
from maillab.dns.resolver import RecordSyntaxError

CHAPTER = (
    "v=DMARC1; p=quarantine; rua=mailto:dmarc@monentreprise.local; "
    "ruf=mailto:dmarc@monentreprise.local; sp=quarantine; adkim=r; aspf=r"
)


def codes(text: str) -> list[str]:
    return [f.code for f in lint_dmarc(parse_dmarc(text))]


def test_the_chapter_s_record_parses_and_is_clean():
    record = parse_dmarc(CHAPTER)
    assert (record.policy, record.subdomain_policy) == ("quarantine", "quarantine")
    assert (record.adkim, record.aspf, record.pct, record.fo) == (
        "r",
        "r",
        "100",
        ("0",),
    )
    assert [u.domain for u in record.rua] == ["monentreprise.local"]
    assert lint_dmarc(record) == []


def test_defaults_and_case():
    record = parse_dmarc("v=DMARC1; p=Reject")
    assert (record.policy, record.subdomain_policy, record.adkim) == (
        "reject",
        "reject",
        "r",
    )
    assert record.rua == [] and record.ruf == []


@pytest.mark.parametrize(
    "text",
    ["p=none; v=DMARC1", "v=DMARC2; p=none", "v=dmarc1; p=none", "", "v=DMARC1; p"],
)
def test_records_that_are_not_dmarc_raise(text):
    with pytest.raises(RecordSyntaxError):
        parse_dmarc(text, name="_dmarc.ex.test")


def test_report_uris_with_sizes():
    uris = parse_uris(
        "mailto:a@ex.test!10m, mailto:b@other.test ,https://r.test/x, junk"
    )
    assert uris[0] == ReportUri("mailto:a@ex.test!10m", "mailto", "a@ex.test", "10m")
    assert uris[1].domain == "other.test"
    assert uris[2].scheme == "https" and uris[2].domain is None
    assert uris[3].scheme == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=DMARC1; p=none", ["dmarc.monitoring-only"]),
        ("v=DMARC1; sp=reject", ["dmarc.no-policy"]),
        ("v=DMARC1; sp=reject; p=reject", ["dmarc.policy-order"]),
        ("v=DMARC1; p=block", ["dmarc.bad-value"]),
        ("v=DMARC1; p=reject; sp=drop; adkim=x; aspf=relaxed", ["dmarc.bad-value"] * 3),
        ("v=DMARC1; p=reject; pct=150", ["dmarc.bad-value", "dmarc.historic-tag"]),
        ("v=DMARC1; p=reject; pct=20", ["dmarc.partial", "dmarc.historic-tag"]),
        ("v=DMARC1; p=reject; fo=1:d", []),
        ("v=DMARC1; p=reject; fo=2", ["dmarc.bad-value"]),
        ("v=DMARC1; p=reject; ri=daily", ["dmarc.bad-value", "dmarc.historic-tag"]),
        ("v=DMARC1; p=reject; rf=iodef", ["dmarc.bad-value", "dmarc.historic-tag"]),
        ("v=DMARC1; p=reject; rua=dmarc@ex.test", ["dmarc.bad-uri"]),
        ("v=DMARC1; p=reject; rua=mailto:dmarc", ["dmarc.bad-uri"]),
        ("v=DMARC1; p=reject; rua=mailto:d@ex.test!10x", ["dmarc.bad-uri"]),
        ("v=DMARC1; p=reject; ruf=https://ex.test/r", ["dmarc.uri-scheme"]),
        ("v=DMARC1; p=reject; np=reject; t=n", ["dmarc.dmarcbis-tag"] * 2),
        ("v=DMARC1; p=reject; t=maybe", ["dmarc.bad-value", "dmarc.dmarcbis-tag"]),
        ("v=DMARC1; p=reject; aspf=s; foo=bar", ["dmarc.unknown-tag"]),
    ],
)
def test_lint(text, expected):
    assert codes(text) == expected


def test_findings_say_which_rfc_they_follow():
    (missing,) = lint_dmarc(parse_dmarc("v=DMARC1; rua=mailto:d@ex.test"))
    assert "RFC 7489" in missing.message and "RFC 9989" in missing.message


@pytest.mark.parametrize(
    ("domain", "org"),
    [
        ("monentreprise.local", "monentreprise.local"),
        ("mail.monentreprise.local", "monentreprise.local"),
        ("A.B.Example.COM.", "example.com"),
        ("localhost", "localhost"),
        # Without the Public Suffix List: wrong, and documented as such.
        ("example.co.uk", "co.uk"),
    ],
)
def test_organizational_domain_is_the_last_two_labels(domain, org):
    assert organizational_domain(domain) == org


@pytest.mark.parametrize(
    ("from_domain", "auth_domain", "mode", "aligned"),
    [
        ("monentreprise.local", "monentreprise.local", "s", True),
        ("monentreprise.local", "MonEntreprise.local.", "s", True),
        ("monentreprise.local", "mail.monentreprise.local", "s", False),
        ("monentreprise.local", "mail.monentreprise.local", "r", True),
        ("news.monentreprise.local", "bounce.monentreprise.local", "r", True),
        ("monentreprise.local", "exterieur.test", "r", False),
        ("monentreprise.local", "", "r", False),
    ],
)
def test_alignment(from_domain, auth_domain, mode, aligned):
    assert is_aligned(from_domain, auth_domain, mode) is aligned


def test_check_finds_the_record_and_inherits_from_the_org_domain(fake_dns):
    resolver = fake_dns(
        {
            ("_dmarc.monentreprise.local", "TXT"): [
                CHAPTER.replace("sp=quarantine", "sp=reject")
            ],
            ("monentreprise.local", "TXT"): ["v=spf1 -all"],
        }
    )
    top = check_dmarc("monentreprise.local", resolver=resolver)
    assert (top.name, top.inherited, top.policy, top.findings) == (
        "_dmarc.monentreprise.local",
        False,
        "quarantine",
        [],
    )
    sub = check_dmarc("news.monentreprise.local", resolver=resolver)
    assert (sub.name, sub.inherited, sub.policy) == (
        "_dmarc.monentreprise.local",
        True,
        "reject",
    )
    assert ("_dmarc.news.monentreprise.local", "TXT") in resolver.queries


def test_check_reports_missing_multiple_broken_and_dns_errors(fake_dns):
    resolver = fake_dns(
        {
            ("_dmarc.two.test", "TXT"): [
                "v=DMARC1; p=none",
                "v=DMARC1; p=reject",
                "other",
            ],
            ("_dmarc.bad.test", "TXT"): ["v=DMARC1; p=none; p=reject"],
            ("_dmarc.slow.test", "TXT"): ["TIMEOUT"],
            ("_dmarc.spf.test", "TXT"): ["v=spf1 -all"],
        }
    )

    def found(domain: str) -> list[str]:
        return [f.code for f in check_dmarc(domain, resolver=resolver).findings]

    assert found("none.test") == ["dmarc.no-record"]
    assert found("spf.test") == ["dmarc.no-record"]  # not v=DMARC1: ignored
    assert found("two.test") == ["dmarc.multiple-records"]
    assert found("bad.test") == ["dmarc.syntax"]
    assert found("slow.test") == ["dmarc.dns-error"]


def test_external_report_domains_need_an_authorization_record(fake_dns):
    record = (
        "v=DMARC1; p=reject; rua=mailto:d@ex.test,mailto:r@reports.test; "
        "ruf=mailto:f@other.test"
    )
    resolver = fake_dns(
        {
            ("_dmarc.ex.test", "TXT"): [record],
            (authorization_name("ex.test", "reports.test"), "TXT"): ["v=DMARC1"],
        }
    )
    assert (
        authorization_name("ex.test", "reports.test")
        == "ex.test._report._dmarc.reports.test"
    )
    check = check_dmarc("ex.test", resolver=resolver)
    (finding,) = check.findings
    assert finding.code == "dmarc.external-unauthorized"
    assert "other.test" in finding.message
    assert "ex.test._report._dmarc.other.test" in finding.fix
