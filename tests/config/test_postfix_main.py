"""main.cf: parser, editor, expansion, postconf views and linter, on fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.findings import ConfigSyntaxError, Finding, Severity
from maillab.config.postfix import Expander
from maillab.config.postfix_main import (
    effective,
    lint_main_cf,
    parse_main_cf,
    parse_postconf,
    read_postconf_defaults,
    remove_parameter,
    set_parameter,
)
from maillab.config.postfix_master import parse_master_cf

FIXTURES = Path(__file__).parents[1] / "fixtures" / "config" / "postfix"
DEFAULTS = parse_postconf((FIXTURES / "postconf-d-debian12.txt").read_text())
MASTER = parse_master_cf((FIXTURES / "debian12-master.cf").read_text())
BOX_DIR = "/tmp/cfgpf-fixture"  # the -c directory the expected outputs came from


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def codes(findings: list[Finding]) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in findings]


# --- parser ---------------------------------------------------------------------


def test_chapter_comment_after_value_is_part_of_the_value() -> None:
    conf = parse_main_cf(text("chapter-main-base.cf"))
    assert conf.get("message_size_limit") == "52428800      # 50 MB par mail"
    assert conf.entry("message_size_limit").line == 60  # type: ignore[union-attr]


def test_continuation_spans_comment_and_blank_lines() -> None:
    conf = parse_main_cf(text("tricky-continuations.cf"))
    entry = conf.entry("mydestination")
    assert entry is not None
    assert (entry.line, entry.end_line) == (4, 8)
    assert entry.value == "$myhostname,\tlocalhost.${mydomain},    $(mydomain)"


def test_last_duplicate_wins() -> None:
    conf = parse_main_cf(text("tricky-duplicates-macros.cf"))
    assert conf.get("myhostname") == "mx.example.test"
    assert [p.line for p in conf.parameters if p.name == "myhostname"] == [1, 2]


def test_name_equals_value_without_spaces() -> None:
    conf = parse_main_cf("a=b\nc =\n")
    assert conf.values == {"a": "b", "c": ""}


def test_lines_postconf_refuses_become_findings() -> None:
    conf = parse_main_cf("  lead = 1\nno equals here\n= x\nok = 1\n", path="m.cf")
    assert conf.values == {"ok": "1"}
    assert codes(conf.findings) == [
        (1, "postfix.leading-whitespace"),
        (2, "postfix.missing-equals"),
        (3, "postfix.missing-name"),
    ]
    assert conf.findings[1].message.startswith(
        "missing '=' after attribute name: \"no equals here\""
    )


def test_invalid_utf8_is_a_finding() -> None:
    conf = parse_main_cf(b"a = 1\nb = caf\xe9\n", path="m.cf")
    assert conf.get("b") == "caf\ufffd"
    assert codes(conf.findings) == [(2, "postfix.not-utf8")]


def test_nul_bytes_cannot_be_read() -> None:
    with pytest.raises(ConfigSyntaxError, match="m.cf, line 2: contains NUL"):
        parse_main_cf(b"a = 1\n\x00\x01", path="m.cf")


# --- expansion --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$a", "A"),
        ("${a}.$(a)", "A.A"),
        ("$$a", "$a"),
        ("${a?yes}${empty?no}", "yes"),
        ("${a:no}${empty:yes}", "yes"),
        ("${a?{ spaced }}|${missing:{ other }}", "spaced|other"),
        ("${{$a} == {A} ? {eq} : {ne}}", "eq"),
        ("${{3.6} <level {2} ? {old} : {new}}", "new"),
        ("${{10} > {9} ? {big}}", "big"),
        ("$nested", "A-A"),
    ],
)
def test_expansion(value: str, expected: str) -> None:
    values = {"a": "A", "empty": "", "nested": "$a-${a}"}
    assert Expander(values.get).run(value) == expected


def test_expansion_problems_use_postconf_wording() -> None:
    expander = Expander({"a": "A"}.get)
    expander.run("$nope ${a $")
    assert [p.message for p in expander.problems] == [
        "undefined parameter: nope",
        'truncated macro reference: "$nope ${a $"',
    ]


def test_expansion_stops_at_a_self_reference() -> None:
    expander = Expander({"loop": "x$loop"}.get)
    assert expander.run("$loop").startswith("xxx")
    assert expander.problems[-1].code == "macro-nesting"


# --- postconf -n / -nx ----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["chapter-main-base", "tricky-continuations", "tricky-duplicates-macros"]
)
def test_views_equal_the_real_postconf_output(name: str) -> None:
    conf = parse_main_cf(text(f"{name}.cf"))
    view = effective(conf, DEFAULTS, master=MASTER, config_directory=BOX_DIR)
    assert view.postconf_n() == text(f"expected/{name}.postconf-n.txt")
    assert view.postconf_nx() == text(f"expected/{name}.postconf-nx.txt")


def test_unused_parameters_are_not_shown() -> None:
    conf = parse_main_cf("myhostname = a.b\nfoo_bar = 1\nbaz = $qux\nqux = 2\n")
    assert effective(conf, DEFAULTS).postconf_n() == "myhostname = a.b\nqux = 2\n"


def test_expanded_uses_defaults() -> None:
    conf = parse_main_cf("smtpd_banner = $myhostname ESMTP ${mail_name}\n")
    view = effective(conf, DEFAULTS)
    assert view.expanded("smtpd_banner") == "mail.monentreprise.local ESMTP Postfix"
    assert view.expanded("smtp_tls_session_cache_database") == ""


def test_read_postconf_defaults_caches_on_disk(tmp_path: Path) -> None:
    class FakeHost:  # records the commands; answers as postconf would
        name = "fake"
        commands: list[list[str]] = []

        def check_output(self, argv: list[str]) -> str:
            self.commands.append(argv)
            return "3.7.11\n" if "-h" in argv else "a = 1\nb =\n"

    host = FakeHost()
    first = read_postconf_defaults(host, cache_dir=tmp_path)  # type: ignore[arg-type]
    assert first == {"a": "1", "b": ""}
    assert (tmp_path / "postconf-d-3.7.11.txt").read_text() == "a = 1\nb =\n"
    read_postconf_defaults(host, cache_dir=tmp_path)  # type: ignore[arg-type]
    assert [c[-1] for c in host.commands] == ["mail_version", "-d", "mail_version"]


def test_defaults_fixture_is_debian12_postfix() -> None:
    assert DEFAULTS["mail_version"] == "3.7.11"
    assert DEFAULTS["smtpd_banner"] == "$myhostname ESMTP $mail_name"
    assert len(DEFAULTS) == 1043


# --- editor -----------------------------------------------------------------------


def test_set_rewrites_the_used_entry_and_keeps_the_rest() -> None:
    original = text("chapter-main-base.cf")
    edited = set_parameter(original, "message_size_limit", "52428800")
    assert edited.replace("52428800\n", "52428800      # 50 MB par mail\n") == original
    assert parse_main_cf(edited).get("message_size_limit") == "52428800"


def test_set_keeps_spelling_and_comments_inside_a_continuation() -> None:
    original = "a=1\nlist = x,\n# keep me\n  y\nz = 2\n"
    assert set_parameter(original, "list", "q") == "a=1\nlist = q\n# keep me\nz = 2\n"
    assert set_parameter(original, "a", "9") == original.replace("a=1", "a=9")


def test_set_appends_a_new_parameter() -> None:
    assert set_parameter("a = 1", "b", "2") == "a = 1\nb = 2\n"
    assert set_parameter("", "b", "2") == "b = 2\n"


def test_set_changes_only_the_last_duplicate() -> None:
    original = text("tricky-duplicates-macros.cf")
    edited = set_parameter(original, "myhostname", "new.example")
    assert edited.splitlines()[:2] == [
        "myhostname = mail.example.test",
        "myhostname = new.example",
    ]


def test_remove_deletes_every_entry() -> None:
    original = "a = 1\nb = 2\n  more\na = 3\n"
    assert remove_parameter(original, "a") == "b = 2\n  more\n"
    assert remove_parameter(original, "nothing") == original


def test_set_refuses_bad_names() -> None:
    with pytest.raises(ValueError):
        set_parameter("", "bad name", "x")
    with pytest.raises(ValueError):
        set_parameter("", "ok", "two\nlines")


# --- linter -----------------------------------------------------------------------


def test_chapter_base_trap_numbers_with_comments() -> None:
    findings = lint_main_cf(text("chapter-main-base.cf"), defaults=DEFAULTS)
    assert codes(findings) == [
        (60, "postfix.comment-in-value"),
        (61, "postfix.comment-in-value"),
    ]
    assert findings[0].severity is Severity.ERROR
    assert findings[0].message.startswith(
        "bad numerical configuration: message_size_limit = 52428800      # 50 MB"
    )
    assert "message_size_limit = 52428800`" in findings[0].fix


def test_comment_in_a_text_value_is_a_warning() -> None:
    findings = lint_main_cf("relayhost = [smtp.example]   # isp\n")
    assert [(f.severity, f.code) for f in findings] == [
        (Severity.WARNING, "postfix.comment-in-value")
    ]


def test_tricky_file_findings_match_postconf() -> None:
    findings = lint_main_cf(
        text("tricky-unused-macro-errors.cf"), defaults=DEFAULTS, master=MASTER
    )
    assert [f.message.split(" (in ")[0].split(":", 2)[:2] for f in findings][:2] == [
        [
            "logical line must not start with whitespace",
            ' "  leading = 1"; Postfix ignores it',
        ],
        ["unused parameter", " foo_bar=1"],
    ]
    assert codes(findings) == [
        (1, "postfix.leading-whitespace"),
        (3, "postfix.unused-parameter"),
        (4, "postfix.unused-parameter"),
        (5, "postfix.unused-parameter"),
        (6, "postfix.truncated"),
        (6, "postfix.unused-parameter"),
        (7, "postfix.empty-macro-name"),
        (7, "postfix.unused-parameter"),
        (8, "postfix.truncated"),
        (8, "postfix.unused-parameter"),
        (9, "postfix.unused-parameter"),
        (10, "postfix.comment-in-value"),
        (12, "postfix.undefined-parameter"),
        (12, "postfix.unused-parameter"),
    ]


def test_duplicates_name_both_lines() -> None:
    findings = lint_main_cf("a_b = 1\nmyhostname = x.y\nmyhostname = z.y\n")
    assert codes(findings) == [(3, "postfix.duplicate-parameter")]
    assert findings[0].message.startswith(
        "overriding earlier entry: myhostname=x.y (line 2)"
    )


def test_chapter_milter_sections_override_each_other() -> None:
    combined = text("chapter-main-spamass-milter.cf") + text("chapter-main-dkim.cf")
    findings = lint_main_cf(combined, defaults=DEFAULTS)
    assert [f.message.split(" (line")[0] for f in findings] == [
        "overriding earlier entry: smtpd_milters=unix:/spamass/spamass.sock",
        "overriding earlier entry: non_smtpd_milters=unix:/spamass/spamass.sock",
        "overriding earlier entry: milter_default_action=tempfail",
    ]


def test_multiple_values_in_myorigin() -> None:
    findings = lint_main_cf("myorigin = a b\n")
    assert findings[0].message.startswith(
        "myorigin parameter setting must not contain multiple values: a b"
    )


def test_reference_main_cf_is_clean() -> None:
    assert lint_main_cf(text("reference-main.cf"), defaults=DEFAULTS) == []


def test_lint_never_raises_on_binary() -> None:
    findings = lint_main_cf(b"\x00\xff", path="x.cf")
    assert codes(findings) == [(1, "config.unreadable")]
    assert findings[0].file == "x.cf"


# --- fuzz -------------------------------------------------------------------------

_piece = st.sampled_from(
    [
        "a",
        "b_c",
        " ",
        "\t",
        "=",
        "#",
        "$",
        "{",
        "}",
        "(",
        ")",
        "?",
        ":",
        "\n",
        "\r",
        "myhostname",
        "$$",
        "${",
        "\n  ",
        ",",
        "é",
        "\x00",
    ]
)
_texts = st.lists(_piece, max_size=60).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(_texts, st.text(max_size=200), st.binary(max_size=200)))
def test_fuzz_parse_and_lint_never_raise_anything_else(data: str | bytes) -> None:
    try:
        conf = parse_main_cf(data, path="fuzz.cf")
    except ConfigSyntaxError as exc:
        assert exc.file == "fuzz.cf"
        return
    for finding in lint_main_cf(conf, defaults=DEFAULTS, master=MASTER):
        assert finding.file == "fuzz.cf" and finding.message and finding.fix
    view = effective(conf, DEFAULTS)
    assert view.postconf_n().count("\n") == len(view.values)
    view.postconf_nx()


@settings(max_examples=200, deadline=None)
@given(_texts, st.sampled_from(["x_y", "myhostname"]), st.text("abc ,$", max_size=9))
def test_fuzz_set_changes_only_that_parameter(
    original: str, name: str, value: str
) -> None:
    original = original.replace("\x00", "")
    edited = set_parameter(original, name, value.strip())
    before, after = parse_main_cf(original), parse_main_cf(edited)
    assert after.get(name) == value.strip()
    others = {k: v for k, v in before.values.items() if k != name}
    assert {k: v for k, v in after.values.items() if k != name} == others
