"""SPF: the parser, the linter and check_host() on in-memory zones."""

from __future__ import annotations

import ipaddress

import pytest

from maillab.dns.resolver import RecordSyntaxError
from maillab.dns.spf import Mechanism, Modifier, lint_spf, parse_spf
from maillab.dns.spf_check import SpfVerdict, check_host, check_spf
from maillab.dns.spf_macro import MacroContext, expand

LAB = "v=spf1 mx a ip4:192.168.56.10 -all"


def lab_zone(**extra):
    records = {
        ("monentreprise.local", "TXT"): [LAB],
        ("monentreprise.local", "MX"): ["10 mail.monentreprise.local."],
        ("monentreprise.local", "A"): ["192.168.56.10"],
        ("mail.monentreprise.local", "A"): ["192.168.56.10"],
    }
    records.update(extra)
    return records


# parse_spf ---------------------------------------------------------------------


def test_the_chapter_s_record_parses_into_its_mechanisms():
    record = parse_spf(LAB)
    assert [str(m) for m in record.mechanisms] == [
        "mx",
        "a",
        "ip4:192.168.56.10/32",
        "-all",
    ]
    assert record.mechanisms[-1] == Mechanism("-", "all")
    assert record.mechanisms[-1].result == "fail"


def test_qualifiers_cidr_and_modifiers():
    record = parse_spf(
        "v=spf1 ~a:mail.example.com/24//64 ?mx/28 ip6:2001:db8::/32 "
        "redirect=_spf.example.com exp=explain.%{d} foo=bar"
    )
    a, mx, ip6 = record.mechanisms
    assert (a.qualifier, a.domain_spec, a.cidr4, a.cidr6) == (
        "~",
        "mail.example.com",
        24,
        64,
    )
    assert (mx.qualifier, mx.cidr4, mx.cidr6) == ("?", 28, None)
    assert ip6.network == ipaddress.ip_network("2001:db8::/32")
    assert record.redirect == "_spf.example.com"
    assert record.exp == "explain.%{d}"
    assert Modifier("foo", "bar") in record.modifiers


def test_names_are_case_insensitive_and_host_bits_are_ignored():
    record = parse_spf("V=SPF1 IP4:10.1.2.3/8 -ALL")
    assert record.mechanisms[0].network == ipaddress.ip_network("10.0.0.0/8")
    assert record.mechanisms[1].name == "all"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("v=spf2 -all", "does not start with v=spf1"),
        ("v=spf1x -all", "does not start with v=spf1"),
        ("v=spf1 ip4:300.1.1.1 -all", "bad address"),
        ("v=spf1 ip4:10.0.0.0/33", "bad address or prefix"),
        ("v=spf1 ip6:10.0.0.1", "bad address"),
        ("v=spf1 a/33", "prefix length too long"),
        ("v=spf1 include", "needs a domain"),
        ("v=spf1 include:", "bad mechanism"),
        ("v=spf1 foo:example.com", "unknown mechanism"),
        ("v=spf1 -all:foo", "all takes no argument"),
        ("v=spf1 redirect=a.example redirect=b.example", "redirect= appears twice"),
        ("v=spf1 a:example.123", "is not a domain name"),
        ("v=spf1 exists:%{x}.example.com", "unknown macro letter"),
        ("v=spf1 exists:%{c}.example.com", "only allowed in an exp="),
        ("v=spf1 exists:%{d0}.example.com", "keeps zero labels"),
        ("v=spf1 exists:100%.example.com", "bad macro"),
    ],
)
def test_syntax_errors_are_record_syntax_errors(text, words):
    with pytest.raises(RecordSyntaxError, match=words) as error:
        parse_spf(text, name="example.com")
    assert error.value.file == "example.com" and error.value.line is None


# lint_spf ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (LAB, []),
        ("v=spf1 ptr -all", ["spf.ptr"]),
        ("v=spf1 +all", ["spf.pass-all"]),
        ("v=spf1 all", ["spf.pass-all"]),
        ("v=spf1 mx ?all", ["spf.neutral-all"]),
        ("v=spf1 -all redirect=x.example", ["spf.redirect-ignored"]),
    ],
)
def test_lint(text, codes):
    assert [f.code for f in lint_spf(parse_spf(text))] == codes


# macros ------------------------------------------------------------------------


CONTEXT = MacroContext(
    "strong-bad@email.example.com",
    "email.example.com",
    ipaddress.ip_address("192.0.2.3"),
    "mx.example.org",
)


@pytest.mark.parametrize(
    ("spec", "expanded"),
    [  # the examples of RFC 7208, 7.4
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{h}", "mx.example.org"),
        ("%%%_%-", "% %20"),
        ("%{S}", "strong-bad%40email.example.com"),
    ],
)
def test_macro_expansion(spec, expanded):
    assert expand(spec, CONTEXT) == expanded


def test_ipv6_macro_is_nibbles():
    context = MacroContext(
        "a@b.example", "b.example", ipaddress.ip_address("2001:db8::cb01"), "h"
    )
    assert expand("%{ir}.%{v}._spf.%{d2}", context) == (
        "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6._spf.b.example"
    )


def test_expansion_longer_than_253_drops_left_labels():
    context = MacroContext("x@" + "l" * 60 + ".example", "a.example", CONTEXT.ip, "h")
    long = ".".join(["%{o}"] * 5)
    assert len(expand(long, context)) <= 253
    assert expand(long, context).endswith(".example")


# check_host --------------------------------------------------------------------


def test_lab_address_passes_by_mx_and_the_host_fails(fake_dns):
    resolver = fake_dns(lab_zone())
    ok = check_host(
        "192.168.56.10",
        "monentreprise.local",
        "jean@monentreprise.local",
        resolver=resolver,
    )
    assert ok.verdict == SpfVerdict.PASS
    assert str(ok.mechanism) == "mx" and ok.matched_in == "monentreprise.local"
    assert ok.lookups == 1 and ok.findings == []

    bad = check_host(
        "192.168.56.1",
        "monentreprise.local",
        "jean@monentreprise.local",
        resolver=resolver,
    )
    assert bad.verdict == SpfVerdict.FAIL and str(bad.mechanism) == "-all"
    assert bad.lookups == 2


def test_ip4_cidr_and_ipv6(fake_dns):
    resolver = fake_dns(
        {("ex.test", "TXT"): ["v=spf1 ip4:10.0.0.0/8 ip6:2001:db8::/32 ~all"]}
    )
    assert (
        check_host("10.9.8.7", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "pass"
    )
    assert (
        check_host("2001:db8::1", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "pass"
    )
    assert (
        check_host("::ffff:10.1.1.1", "ex.test", "", resolver=resolver).verdict
        == "pass"
    )
    assert (
        check_host("11.0.0.1", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "softfail"
    )


def test_a_and_mx_with_cidr(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 a/24 mx:mx.test//64 -all"],
            ("ex.test", "A"): ["10.0.0.1"],
            ("mx.test", "MX"): ["10 m1.mx.test.", "20 m2.mx.test."],
            ("m2.mx.test", "AAAA"): ["2001:db8:1::1"],
        }
    )
    pass4 = check_host("10.0.0.200", "ex.test", "a@ex.test", resolver=resolver)
    assert pass4.verdict == "pass" and str(pass4.mechanism) == "a/24"
    pass6 = check_host("2001:db8:1::ffff", "ex.test", "a@ex.test", resolver=resolver)
    assert pass6.verdict == "pass" and pass6.mechanism.name == "mx"
    assert (
        check_host("10.0.1.1", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "fail"
    )


def test_no_record_no_domain_and_no_match_give_none_and_neutral(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["hello", "v=spf1 a:other.test"],
            ("other.test", "A"): ["1.1.1.1"],
        }
    )
    assert (
        check_host(
            "10.0.0.1", "nothing.test", "a@nothing.test", resolver=resolver
        ).verdict
        == "none"
    )
    assert (
        check_host("10.0.0.1", "localhost", "a@localhost", resolver=resolver).verdict
        == "none"
    )
    assert (
        check_host("10.0.0.1", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "neutral"
    )


def test_include_chain_passes_and_counts_lookups(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 include:one.test -all"],
            ("one.test", "TXT"): ["v=spf1 include:two.test -all"],
            ("two.test", "TXT"): ["v=spf1 ip4:10.0.0.0/24 -all"],
        }
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert result.verdict == "pass" and result.lookups == 2
    # The mechanism that matched is the top record's own term.
    assert (str(result.mechanism), result.matched_in) == ("include:one.test", "ex.test")
    # An include that fails does not match: evaluation goes on to -all.
    assert (
        check_host("10.9.0.5", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "fail"
    )


def test_include_loop_is_a_permerror(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 include:loop.test -all"],
            ("loop.test", "TXT"): ["v=spf1 include:ex.test -all"],
        }
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert result.verdict == "permerror"
    (finding,) = result.findings
    assert finding.code == "spf.include-loop" and finding.file == "loop.test"
    assert "ex.test -> loop.test -> ex.test" in finding.message


def test_more_than_ten_lookups_is_a_permerror_with_the_count(fake_dns):
    records = {
        ("ex.test", "TXT"): [
            "v=spf1 " + " ".join(f"a:h{i}.test" for i in range(11)) + " -all"
        ]
    }
    records.update({(f"h{i}.test", "A"): ["10.1.1.1"] for i in range(11)})
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=fake_dns(records))
    assert result.verdict == "permerror" and result.lookups == 11
    assert result.findings[0].code == "spf.too-many-lookups"
    assert "number 11" in result.findings[0].message


def test_ten_lookups_are_still_fine(fake_dns):
    records = {
        ("ex.test", "TXT"): [
            "v=spf1 " + " ".join(f"a:h{i}.test" for i in range(10)) + " -all"
        ]
    }
    records.update({(f"h{i}.test", "A"): ["10.1.1.1"] for i in range(10)})
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=fake_dns(records))
    assert result.verdict == "fail" and result.lookups == 10


def test_a_third_void_lookup_is_a_permerror(fake_dns):
    two = fake_dns({("ex.test", "TXT"): ["v=spf1 a:n1.test a:n2.test -all"]})
    assert (
        check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=two).verdict == "fail"
    )
    three = fake_dns(
        {("ex.test", "TXT"): ["v=spf1 a:n1.test a:n2.test exists:n3.test -all"]}
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=three)
    assert result.verdict == "permerror" and result.void_lookups == 3
    assert result.findings[0].code == "spf.void-lookups"


def test_two_spf_records_are_a_permerror(fake_dns):
    resolver = fake_dns(
        {("ex.test", "TXT"): ["v=spf1 -all", "v=spf1 +all", "google-site=x"]}
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert result.verdict == "permerror"
    assert [f.code for f in result.findings] == ["spf.multiple-records"]


def test_syntax_error_in_an_include_is_a_permerror_on_that_domain(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 include:bad.test -all"],
            ("bad.test", "TXT"): ["v=spf1 ip4:10.0.0.300 -all"],
        }
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert result.verdict == "permerror"
    assert (result.findings[0].code, result.findings[0].file) == (
        "spf.syntax",
        "bad.test",
    )


def test_include_of_a_domain_without_spf_is_a_permerror(fake_dns):
    resolver = fake_dns({("ex.test", "TXT"): ["v=spf1 include:none.test -all"]})
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert (
        result.verdict == "permerror" and result.findings[0].code == "spf.include-none"
    )


def test_redirect_is_followed_only_without_all(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 redirect=_spf.ex.test"],
            ("_spf.ex.test", "TXT"): ["v=spf1 ip4:10.0.0.0/24 -all"],
            ("withall.test", "TXT"): ["v=spf1 ?all redirect=_spf.ex.test"],
            ("nowhere.test", "TXT"): ["v=spf1 redirect=missing.test"],
        }
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert (result.verdict, result.matched_in, result.lookups) == (
        "pass",
        "_spf.ex.test",
        1,
    )
    assert (
        check_host("10.1.0.5", "ex.test", "a@ex.test", resolver=resolver).verdict
        == "fail"
    )
    ignored = check_host("10.0.0.5", "withall.test", "a@ex.test", resolver=resolver)
    assert ignored.verdict == "neutral"
    missing = check_host("10.0.0.5", "nowhere.test", "a@ex.test", resolver=resolver)
    assert (
        missing.verdict == "permerror"
        and missing.findings[0].code == "spf.redirect-none"
    )


def test_exists_with_macros_queries_the_expanded_name(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all"],
            ("5.0.0.10.jean._spf.ex.test", "A"): ["127.0.0.2"],
        }
    )
    assert (
        check_host("10.0.0.5", "ex.test", "jean@ex.test", resolver=resolver).verdict
        == "pass"
    )
    assert (
        check_host("10.0.0.6", "ex.test", "jean@ex.test", resolver=resolver).verdict
        == "fail"
    )
    assert ("6.0.0.10.jean._spf.ex.test", "A") in resolver.queries


def test_ptr_matches_a_validated_name_and_warns(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 ptr -all"],
            ("5.0.0.10.in-addr.arpa", "PTR"): ["mail.ex.test.", "liar.other.test."],
            ("mail.ex.test", "A"): ["10.0.0.5"],
            ("6.0.0.10.in-addr.arpa", "PTR"): ["fake.ex.test."],
            ("fake.ex.test", "A"): ["10.9.9.9"],
        }
    )
    ok = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert ok.verdict == "pass" and [f.code for f in ok.findings] == ["spf.ptr"]
    forged = check_host("10.0.0.6", "ex.test", "a@ex.test", resolver=resolver)
    assert forged.verdict == "fail"


def test_a_silent_server_is_a_temperror(fake_dns):
    resolver = fake_dns(
        {
            ("ex.test", "TXT"): ["v=spf1 a:slow.test -all"],
            ("slow.test", "A"): ["TIMEOUT"],
        }
    )
    result = check_host("10.0.0.5", "ex.test", "a@ex.test", resolver=resolver)
    assert result.verdict == "temperror" and result.findings[0].code == "spf.dns-error"


def test_check_spf_reports_a_missing_record_and_the_lab_record_is_clean(fake_dns):
    resolver = fake_dns(lab_zone())
    clean = check_spf("monentreprise.local", resolver=resolver)
    assert clean.verdict == "fail" and clean.findings == [] and clean.lookups == 2
    missing = check_spf("exterieur.test", resolver=resolver)
    assert [f.code for f in missing.findings] == ["spf.no-record"]
