"""/etc/aliases: parser, editor and linter, on fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.aliases import (
    Kind,
    lint_aliases,
    parse_aliases,
    remove_alias,
    set_alias,
)
from maillab.config.findings import ConfigSyntaxError, Severity

FIXTURES = Path(__file__).parents[1] / "fixtures" / "config" / "aliases"
USERS = {"root", "news", "nobody", "jean", "marie", "direction", "www-data"}
PEOPLE = {"jean", "marie", "direction"}
DOMAINS = {"monentreprise.local", "mail.monentreprise.local"}


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_tricky_file_reads_as_postalias_stores_it() -> None:
    """The table `postalias -s` printed for this file on the lab box."""
    aliases = parse_aliases(text("tricky-aliases"))
    assert aliases.table == {
        "postmaster": "root",
        "root": "admin@example.test",
        "dup": "a",
        "quoted name": "jean",
        "multi": "jean, marie, direction",
        "pipe": '"|/usr/bin/foo --bar baz", /var/mail/file, :include:/etc/list '
        "leading:x",
        "colon": "in:name:y",
    }
    multi = aliases.get("multi")
    assert multi is not None and (multi.line, multi.end_line) == (8, 11)


def test_target_kinds() -> None:
    pipe = parse_aliases(text("tricky-aliases")).get("pipe")
    assert pipe is not None
    assert [t.kind for t in pipe.targets] == [Kind.COMMAND, Kind.FILE, Kind.INCLUDE]
    assert pipe.targets[2].address == "/etc/list leading:x"


def test_missing_colon_and_empty_value_are_skipped() -> None:
    findings = lint_aliases(text("tricky-aliases"))
    assert [(f.line, f.code) for f in findings] == [
        (5, "aliases.duplicate"),
        (6, "aliases.need-name-value"),
        (14, "aliases.need-name-value"),
    ]
    assert findings[0].message.startswith('duplicate entry: "dup"; postalias keeps')


def test_chapter_aliases_typo_and_shadowed_user() -> None:
    findings = lint_aliases(
        text("chapter-aliases"),
        local_users=USERS,
        mailbox_users=PEOPLE,
        local_domains=DOMAINS,
    )
    assert [(f.line, f.code) for f in findings] == [
        (14, "aliases.domain-typo"),
        (16, "aliases.shadows-user"),
    ]
    assert "misspelling of monentreprise.local" in findings[0].message
    assert findings[0].fix == "write admin@monentreprise.local"


def test_reference_aliases_are_clean() -> None:
    findings = lint_aliases(
        text("reference-aliases"),
        local_users=USERS,
        mailbox_users=PEOPLE,
        local_domains=DOMAINS,
    )
    assert findings == []


def test_loops_and_unknown_targets() -> None:
    source = "a: b\nb: c@monentreprise.local\nc: a, nobody\nd: ghost\nself: self\n"
    findings = lint_aliases(source, local_users=USERS, local_domains=DOMAINS)
    assert [(f.line, f.code, f.severity) for f in findings] == [
        (1, "aliases.loop", Severity.ERROR),
        (4, "aliases.unknown-target", Severity.ERROR),
        (5, "aliases.unknown-target", Severity.ERROR),
    ]
    assert "a -> b -> c -> a" in findings[0].message


def test_set_alias_keeps_everything_else() -> None:
    original = text("chapter-aliases")
    edited = set_alias(original, "root", ["admin@monentreprise.local"])
    assert edited == original.replace("monentrepise", "monentreprise")
    added = set_alias(original, "ventes", ["marie"])
    assert added == original + "ventes: marie\n"


def test_set_alias_keeps_comments_in_a_continuation() -> None:
    original = "x: a,\n# note\n  b\ny: c\n"
    assert set_alias(original, "x", ["d"]) == "x: d\n# note\ny: c\n"
    assert remove_alias(original, "X") == "# note\ny: c\n"


def test_set_alias_refuses_bad_names() -> None:
    with pytest.raises(ValueError):
        set_alias("", "a:b", ["x"])


def test_bad_input_never_raises_from_lint() -> None:
    assert [f.code for f in lint_aliases(b"a: b\n\x00")] == ["config.unreadable"]
    assert [f.code for f in lint_aliases(b"a: caf\xe9\n")] == ["postfix.not-utf8"]
    with pytest.raises(ConfigSyntaxError):
        parse_aliases(b"\x00")


_piece = st.sampled_from(
    [
        "a",
        "b",
        ":",
        ",",
        " ",
        "\n",
        "\n  ",
        "#",
        '"',
        "|",
        "/",
        ":include:",
        "@",
        "monentreprise.local",
        "\\",
        "\x00",
        "é",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(_piece, max_size=50).map("".join), st.binary(max_size=100)))
def test_fuzz_parse_and_lint_never_raise(data: str | bytes) -> None:
    try:
        parse_aliases(data, path="fuzz")
    except ConfigSyntaxError as exc:
        assert exc.file == "fuzz"
    findings = lint_aliases(
        data,
        path="fuzz",
        local_users=USERS,
        mailbox_users=PEOPLE,
        local_domains=DOMAINS,
    )
    assert all(f.file == "fuzz" and f.message and f.fix for f in findings)
