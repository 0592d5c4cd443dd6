"""Hypothesis: parse_* raise RecordSyntaxError or nothing; check_* never raise."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.dns.dkim import parse_dkim_key
from maillab.dns.dkim_check import lint_dkim_key
from maillab.dns.dmarc import parse_dmarc, parse_uris
from maillab.dns.dmarc_check import lint_dmarc
from maillab.dns.resolver import RecordSyntaxError
from maillab.dns.spf import Mechanism, lint_spf, parse_spf
from maillab.dns.spf_check import SpfVerdict, check_host

from .conftest import FakeResolver

printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80)
anything = st.text(max_size=80)
spf_words = st.sampled_from(
    [
        "a", "mx", "ptr", "all", "-all", "~all", "?all", "+all", "a/24", "mx//64",
        "a:%{d}", "ip4:10.0.0.0/8", "ip6:::1", "include:x.test", "exists:%{i}.x.test",
        "redirect=x.test", "exp=e.%{d}", "foo=bar", "ip4:", "a:", "%{", "v=spf1",
        "include:%{l1r-}.x.test", "ip4:1.2.3.4/33", "mx:x.test/24//128", "=",
    ]
)  # fmt: skip


def _parse_or_syntax_error(parse, text):
    try:
        return parse(text)
    except RecordSyntaxError as error:
        assert error.line is None and error.fix
        return None


@given(st.one_of(anything, printable.map(lambda s: "v=spf1 " + s)))
def test_parse_spf_on_any_text(text):
    record = _parse_or_syntax_error(parse_spf, text)
    if record is not None:
        assert isinstance(lint_spf(record), list)


@given(st.lists(spf_words, max_size=8))
def test_parse_spf_on_spf_like_words(words):
    record = _parse_or_syntax_error(parse_spf, " ".join(["v=spf1", *words]))
    if record is not None:
        assert len(record.terms) == len(words)


qualifiers = st.sampled_from("+-~?")
networks = st.one_of(
    st.ip_addresses(v=4).flatmap(
        lambda ip: st.integers(0, 32).map(
            lambda n: ipaddress.ip_network(f"{ip}/{n}", strict=False)
        )
    ),
    st.ip_addresses(v=6).flatmap(
        lambda ip: st.integers(0, 128).map(
            lambda n: ipaddress.ip_network(f"{ip}/{n}", strict=False)
        )
    ),
)


@given(qualifiers, networks)
def test_ip_mechanisms_round_trip(qualifier, network):
    mechanism = Mechanism(qualifier, f"ip{network.version}", network=network)
    (parsed,) = parse_spf(f"v=spf1 {mechanism}").mechanisms
    assert parsed == mechanism


@given(
    st.dictionaries(
        st.sampled_from("vkhpstn") | st.text("abcxyz", min_size=1, max_size=3),
        printable,
        max_size=6,
    )
)
def test_parse_dkim_key_on_tag_lists(tags):
    text = "; ".join(f"{k}={v}" for k, v in tags.items())
    key = _parse_or_syntax_error(parse_dkim_key, text)
    if key is not None:
        assert isinstance(lint_dkim_key(key), list)
        assert key.key_bits is None or key.key_bits > 0


@given(anything)
def test_parse_dkim_key_on_any_text(text):
    _parse_or_syntax_error(parse_dkim_key, text)


@given(st.one_of(anything, printable.map(lambda s: "v=DMARC1; " + s)))
def test_parse_dmarc_on_any_text(text):
    record = _parse_or_syntax_error(parse_dmarc, text)
    if record is not None:
        assert isinstance(lint_dmarc(record), list)
        assert all(u.uri for u in record.rua + record.ruf)


@given(anything)
def test_parse_uris_never_raises(text):
    assert all(uri.uri.strip() for uri in parse_uris(text))


@settings(max_examples=50)
@given(st.lists(spf_words, max_size=6), st.ip_addresses())
def test_check_host_never_raises(words, ip):
    resolver = FakeResolver(
        {
            ("ex.test", "TXT"): [" ".join(["v=spf1", *words])],
            ("x.test", "TXT"): ["v=spf1 include:ex.test ~all"],
            ("ex.test", "A"): ["10.0.0.1"],
        }
    )
    result = check_host(str(ip), "ex.test", "jean@ex.test", resolver=resolver)
    assert result.verdict in set(SpfVerdict)
    assert result.lookups <= 11
