"""Unit tests for maillab.config.spamassassin on local.cf fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.findings import Severity
from maillab.config.spamassassin import (
    add_rule,
    check_perl_regex,
    lint_local_cf,
    parse_local_cf,
    remove_option,
    remove_rule,
    set_option,
    set_score,
    strip_comment,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "spamassassin"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def codes_by_line(text: str) -> dict[int | None, set[str]]:
    found: dict[int | None, set[str]] = {}
    for finding in lint_local_cf(text, path="local.cf"):
        found.setdefault(finding.line, set()).add(finding.code)
    return found


def test_chapter_values_and_lines() -> None:
    conf = parse_local_cf(fixture("chapter-local.cf"), path="/etc/x/local.cf")
    assert conf.option("required_score") == "5.0"
    assert conf.option("rewrite_header") == "Subject [***SPAM***]"
    assert conf.option("trusted_networks") == "127.0.0.1 192.168.1.0/24"
    rule = conf.rules["LOCAL_INTERNAL"]
    assert (rule.line, rule.kind, rule.header) == (38, "header", "From")
    assert (rule.regex, rule.flags) == (r"monentreprise\.local$", "")
    assert conf.scores["LOCAL_INTERNAL"] == (39, "-2.0")
    assert conf.rules["SUSPICIOUS_TLD"].regex == r"\.(tk|ml|ga|cf)$"


def test_chapter_findings() -> None:
    found = codes_by_line(fixture("chapter-local.cf"))
    assert found[17] == {"spamassassin.network-already-included"}
    assert found[38] == {"spamassassin.address-anchor"}
    assert found[42] == {"spamassassin.address-anchor"}
    assert found[47] == {"spamassassin.plugin-not-loaded"}
    assert "spamassassin.same-as-default" in found[30]
    assert "spamassassin.same-as-default" in found[31]


def test_chapter_ok_languages_is_a_warning_with_fix() -> None:
    finding = next(
        f
        for f in lint_local_cf(fixture("chapter-local.cf"), path="local.cf")
        if f.code == "spamassassin.plugin-not-loaded"
    )
    assert finding.severity is Severity.WARNING
    assert "TextCat" in finding.message
    assert "ifplugin Mail::SpamAssassin::Plugin::TextCat" in finding.fix
    assert str(finding).startswith("local.cf:47: warning:")


def test_address_anchor_fix_uses_addr() -> None:
    finding = next(
        f
        for f in lint_local_cf(fixture("chapter-local.cf"))
        if f.line == 38 and f.code == "spamassassin.address-anchor"
    )
    assert r"From:addr =~ /monentreprise\.local$/i" in finding.fix


def test_reference_has_no_error_or_warning() -> None:
    findings = lint_local_cf(fixture("reference-local.cf"))
    assert [f for f in findings if f.severity != Severity.INFO] == []
    conf = parse_local_cf(fixture("reference-local.cf"))
    assert conf.option("ok_languages") is None  # inside a skipped ifplugin
    assert conf.rules["LOCAL_INTERNAL"].header == "From:addr"


def test_settings_findings() -> None:
    found = codes_by_line(fixture("tricky-settings.cf"))
    invalid = {1, 3, 5, 6, 8}
    assert {n for n, c in found.items() if "spamassassin.invalid-value" in c} == invalid
    assert found[12] == found[13] == {"spamassassin.unknown-option"}
    assert found[14] == found[15] == {"spamassassin.plugin-not-loaded"}
    assert found[16] == found[17] == {"spamassassin.network-already-included"}
    assert found[18] == found[24] == {"spamassassin.conditional"}
    assert found[4] == {"spamassassin.same-as-default"}  # "5." is 5
    assert 2 not in found and 7 not in found


def test_unknown_option_suggests_the_close_name() -> None:
    findings = lint_local_cf(fixture("tricky-settings.cf"))
    typo = next(f for f in findings if f.line == 13)
    assert typo.fix == "did you mean required_score?"


def test_else_branch_and_skipped_block() -> None:
    conf = parse_local_cf(fixture("tricky-settings.cf"))
    assert conf.scores["USER_IN_WELCOMELIST"] == (22, "-50")
    shortcircuit = [d for d in conf.directives if d.key == "shortcircuit"]
    assert [d.active for d in shortcircuit] == [True, False]


def test_conditionals() -> None:
    conf = parse_local_cf(fixture("tricky-conditionals.cf"))
    assert conf.option("required_score") == "5.0"
    assert conf.option("ok_languages") is None
    assert conf.option("ok_locales") == "en"
    assert conf.option("use_dcc") is None
    found = codes_by_line(fixture("tricky-conditionals.cf"))
    assert found[18] == {"spamassassin.conditional"}
    assert found[4] == {"spamassassin.skipped-block"}


def test_rule_findings() -> None:
    found = codes_by_line(fixture("tricky-rules.cf"))
    errors = {1, 15, 16, 24, 25, 26, 27, 32, 34}
    assert {n for n, c in found.items() if "spamassassin.invalid-regex" in c} == errors
    assert {n for n, c in found.items() if "spamassassin.invalid-rule" in c} == {
        8,
        18,
        20,
    }
    assert found[4] == {"spamassassin.invalid-score"}
    assert found[5] == {"spamassassin.score-without-rule"}
    assert found[7] == {"spamassassin.meta-undefined"}
    assert found[12] == {"spamassassin.rule-name-length"}
    assert found[22] == {"spamassassin.address-anchor"}
    unchecked = {n for n, c in found.items() if "spamassassin.unchecked-regex" in c}
    assert unchecked == {28, 29, 30}
    for quiet in (2, 9, 10, 11, 13, 14, 17, 19, 21, 23, 31, 33):
        assert quiet not in found, quiet


def test_hash_in_regex_is_a_comment() -> None:
    conf = parse_local_cf(fixture("tricky-rules.cf"))
    assert conf.rules["HASH_ESCAPED"].regex == "foo#bar"
    message = next(f for f in lint_local_cf(conf) if f.line == 18).message
    assert "write '\\#'" in message
    assert strip_comment(r"body X /a\#b/ # note") == "body X /a#b/"


@pytest.mark.parametrize(
    ("regex", "flags", "verdict"),
    [
        (r"\bviagra\b", "i", "ok"),
        (r"end\z", "", "ok"),
        (r"[[:alpha:]]+", "", "ok"),
        (r"(?<w>\w+) \k<w>", "", "ok"),
        (r"\x{263A}", "", "ok"),
        (r"a++b", "", "ok"),
        (r"(?i)a(?s)b", "", "unchecked"),
        (r"\p{L}", "", "unchecked"),
        (r"(?<=a+)b", "", "unchecked"),
        (r"foo(bar", "", "error"),
        (r"[z-a]", "", "error"),
        (r"x", "g", "error"),
        (r"(?q)x", "", "error"),
        (r"a{3,1}", "", "error"),
        (r"\q", "", "ok"),
        ("(" * 5000 + ")" * 5000, "", "unchecked"),
    ],
)
def test_check_perl_regex(regex: str, flags: str, verdict: str) -> None:
    assert check_perl_regex(regex, flags)[0] == verdict


def test_set_option_keeps_the_rest() -> None:
    text = fixture("chapter-local.cf")
    edited = set_option(text, "required_score", "6.0")
    assert edited.splitlines()[6] == "required_score 6.0"
    assert edited.replace("required_score 6.0", "required_score 5.0") == text
    added = set_option(text, "report_contact", "admin@monentreprise.local")
    assert added == text + "report_contact admin@monentreprise.local\n"


def test_set_option_keeps_indent_and_comment() -> None:
    text = "a 1\n  use_bayes 1   # on\r\nb 2"
    assert set_option(text, "use-bayes", "0") == "a 1\n  use_bayes 0   # on\r\nb 2"
    assert set_option("x 1", "y", "2") == "x 1\ny 2\n"


def test_remove_option_and_rule() -> None:
    text = fixture("chapter-local.cf")
    without = remove_option(text, "ok_languages")
    assert "ok_languages" not in without
    assert len(without.splitlines()) == len(text.splitlines()) - 1
    no_rule = remove_rule(text, "LOCAL_INTERNAL")
    assert "LOCAL_INTERNAL" not in no_rule
    assert "SUSPICIOUS_TLD" in no_rule
    assert len(no_rule.splitlines()) == len(text.splitlines()) - 2


def test_set_score_and_add_rule() -> None:
    text = fixture("chapter-local.cf")
    edited = set_score(text, "LOCAL_INTERNAL", "-3.0")
    assert edited.splitlines()[38] == "score LOCAL_INTERNAL    -3.0"
    grown = add_rule(
        text, "body", "LOCAL_X", "/x/", score="1.0", describe="An x in the body"
    )
    conf = parse_local_cf(grown)
    assert conf.rules["LOCAL_X"].regex == "x"
    assert conf.scores["LOCAL_X"][1] == "1.0"
    assert conf.descriptions["LOCAL_X"][1] == "An x in the body"
    assert grown.startswith(text)


def test_bytes_not_utf8() -> None:
    data = b"required_score 6.0\nreport_safe 0 # caf\xe9\n"
    findings = lint_local_cf(data, path="/tmp/local.cf")
    assert [f.code for f in findings] == ["spamassassin.not-utf8"]
    assert findings[0].file == "/tmp/local.cf"
    assert parse_local_cf(data).option("report_safe") == "0"


def test_empty_and_binary() -> None:
    assert lint_local_cf("") == []
    assert parse_local_cf(b"\x00\xff\xfe").directives[0].key.startswith("\x00")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fuzz_text(text: str) -> None:
    conf = parse_local_cf(text, path="fuzz.cf")
    findings = lint_local_cf(conf)
    assert all(f.file == "fuzz.cf" for f in findings)
    assert all(f.code != "spamassassin.lint-failed" for f in findings)


LINE_PIECES = st.sampled_from(
    [
        "header",
        "body",
        "meta",
        "score",
        "ifplugin",
        "endif",
        "else",
        "if",
        "From",
        "=~",
        "!~",
        "/",
        "m{",
        "}",
        "(?",
        "[",
        "]",
        "\\",
        "#",
        "trusted_networks",
        "127.0.0.1",
        "::1/128",
        "1.0",
        "X_RULE",
        "[if-unset:",
        "$",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(LINE_PIECES, max_size=8).map(" ".join), max_size=20))
def test_fuzz_structured(lines: list[str]) -> None:
    text = "\n".join(lines)
    findings = lint_local_cf(text)
    assert all(f.code != "spamassassin.lint-failed" for f in findings)
    assert set_option(text, "required_score", "5").count("required_score") >= 1


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_bytes(data: bytes) -> None:
    findings = lint_local_cf(data)
    assert all(f.code != "spamassassin.lint-failed" for f in findings)


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(alphabet="imsxgzpa", max_size=3))
def test_fuzz_regex(regex: str, flags: str) -> None:
    assert check_perl_regex(regex, flags)[0] in ("ok", "error", "unchecked")
