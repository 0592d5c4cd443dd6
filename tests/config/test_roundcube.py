"""Unit tests for maillab.config.roundcube (config.inc.php read without PHP)."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.findings import ConfigSyntaxError
from maillab.config.roundcube import (
    Constant,
    Unreadable,
    lint_roundcube_config,
    parse_roundcube_config,
    remove_option,
    rename_option,
    set_option,
    to_php,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "roundcube"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def codes(name: str) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in lint_roundcube_config(text(name))]


def test_chapter_values() -> None:
    conf = parse_roundcube_config(text("chapter-config.inc.php"))
    values = conf.values()
    assert values["default_host"] == {
        "ssl://mail.monentreprise.local": "Serveur Mail Entreprise"
    }
    assert values["default_port"] == 993
    assert values["imap_conn_options"] == {
        "ssl": {"verify_peer": False, "verify_peer_name": False}
    }
    assert values["plugins"].plain()[-1] == "managesieve"
    assert values["log_level"] == 1
    assert conf.line_of("smtp_port") == 24
    assert conf.closing_tag == 95


def test_chapter_findings() -> None:
    assert codes("chapter-config.inc.php") == [
        (7, "roundcube.database"),
        (11, "roundcube.renamed-option"),
        (14, "roundcube.removed-option"),
        (23, "roundcube.renamed-option"),
        (24, "roundcube.removed-option"),
        (42, "roundcube.sample-des-key"),
        (62, "roundcube.removed-option"),
        (84, "roundcube.removed-option"),
        (91, "roundcube.removed-option"),
        (95, "roundcube.closing-tag"),
    ]


def test_port_fix_names_the_host_url() -> None:
    findings = lint_roundcube_config(text("chapter-config.inc.php"))
    fixes = {f.line: f.fix for f in findings}
    assert (
        fixes[14] == "write $config['imap_host'] = 'ssl://mail.monentreprise.local:993'"
    )
    assert (
        fixes[24] == "write $config['smtp_host'] = 'ssl://mail.monentreprise.local:465'"
    )


def test_reference_and_debian_are_clean() -> None:
    assert codes("reference-config.inc.php") == []
    assert codes("debian-config.inc.php") == []
    reference = parse_roundcube_config(text("reference-config.inc.php"))
    assert [s.kind for s in reference.statements] == ["reset", "include"]


def test_tricky_values() -> None:
    values = parse_roundcube_config(text("tricky-values.inc.php")).values().plain()
    assert isinstance(values, dict)
    assert values["single"] == "it's a \\ back\\slash # not a comment"
    assert values["double"] == 'tab\there\nnew "quoted" AAé $dollar // text'
    assert [values[k] for k in ("int", "octal", "binary", "big")] == [31, 15, 5, 10**6]
    assert values["float"] == 1500.0 and values["neg"] == -42 and values["sum"] == 3601
    assert values["concat"] == "mail.monentreprise.local:993"
    assert values["concat_float"] == "v2.51"
    assert values["eol"] == "a\n/"
    assert values["nested"] == {
        "a": [1, 2, {"x": "y"}, 3],
        "5": "five",
        "6": "six",
        "7": "seven as int key",
        "08": "string key",
        "1": "one",
        "": "empty key",
    }
    assert values["list"] == ["first", "second"]
    assert values["dup"] == "new" and values["spaced"] == ["x", "y"]


def test_tricky_unreadable() -> None:
    conf = parse_roundcube_config(text("tricky-unreadable.inc.php"))
    values = conf.values()
    assert values["call"] == Unreadable("getenv('HOME')")
    assert isinstance(values["interpolated"], Unreadable)
    assert values["fine"] == "readable"
    assert codes("tricky-unreadable.inc.php") == [
        (2, "roundcube.unreadable"),
        (2, "roundcube.unknown-option"),
        (3, "roundcube.unreadable"),
        (3, "roundcube.unknown-option"),
        (4, "roundcube.unreadable"),
        (4, "roundcube.unknown-option"),
        (5, "roundcube.unknown-option"),
        (6, "roundcube.other-statement"),
        (7, "roundcube.unknown-plugin"),
        (8, "roundcube.host-port"),
        (9, "roundcube.host-port"),
        (10, "roundcube.des-key-length"),
        (11, "roundcube.unknown-option"),
    ]


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tricky-syntax-string.inc.php", 2),
        ("tricky-syntax-semicolon.inc.php", 3),
        ("tricky-syntax-bracket.inc.php", 2),
        ("tricky-syntax-comment.inc.php", 2),
    ],
)
def test_syntax_errors(name: str, line: int) -> None:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_roundcube_config(text(name), path="/etc/roundcube/config.inc.php")
    assert (caught.value.file, caught.value.line) == (
        "/etc/roundcube/config.inc.php",
        line,
    )
    findings = lint_roundcube_config(text(name))
    assert [(f.line, f.code) for f in findings] == [(line, "roundcube.syntax")]


def test_constants() -> None:
    conf = parse_roundcube_config("<?php $config['x'] = RCUBE_INSTALL_PATH;")
    assert conf.values()["x"] == Constant("RCUBE_INSTALL_PATH")
    joined = parse_roundcube_config(
        "<?php $config['x'] = RCUBE_INSTALL_PATH . 'logs/';"
    )
    assert isinstance(joined.values()["x"], Unreadable)


def test_set_option_keeps_the_rest() -> None:
    original = text("chapter-config.inc.php")
    edited = set_option(original, "smtp_port", 587)
    assert "$config['smtp_port'] = 587;\n" in edited
    assert edited.replace("= 587;", "= 465;") == original
    added = set_option(original, "imap_host", ["ssl://mail.monentreprise.local:993"])
    assert added.endswith(
        "$config['imap_host'] = ['ssl://mail.monentreprise.local:993'];\n?>\n"
    )
    assert added.startswith(original[: original.rindex("?>")])


def test_remove_and_rename() -> None:
    original = text("chapter-config.inc.php")
    removed = remove_option(original, "default_port")
    assert "default_port" not in removed
    assert len(removed.splitlines()) == len(original.splitlines()) - 1
    nested = remove_option(original, "imap_conn_options")
    assert len(nested.splitlines()) == len(original.splitlines()) - 6
    renamed = rename_option(original, "default_host", "imap_host")
    conf = parse_roundcube_config(renamed)
    assert "default_host" not in conf.values()
    assert conf.line_of("imap_host") == 11
    assert renamed.replace("'imap_host'", "'default_host'") == original


def test_to_php() -> None:
    assert (
        to_php({"a": [1, True, None], "b": "it's"})
        == "['a' => [1, true, null], 'b' => 'it\\'s']"
    )


def test_bytes_and_empty() -> None:
    findings = lint_roundcube_config(b"<?php\n$config['skin'] = '\xe9';\n", path="/x")
    assert [(f.file, f.code) for f in findings] == [("/x", "roundcube.not-utf8")]
    assert [f.code for f in lint_roundcube_config("")] == ["roundcube.syntax"]
    assert parse_roundcube_config("<?php\n").values() == {}


PIECES = st.sampled_from(
    [
        "<?php",
        "$config",
        "['a']",
        "[]",
        "=",
        "'s'",
        '"d\\n$x"',
        "1",
        "0x1",
        "1.5",
        "array(",
        "[",
        "]",
        ")",
        "(",
        ",",
        "=>",
        ".",
        ";",
        "//c\n",
        "/*",
        "*/",
        "#",
        "?>",
        "true",
        "NULL",
        "FOO",
        "-",
        "*",
        "if",
        "{",
        "}",
        "\\",
        "\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=40).map(" ".join))
def test_fuzz_structured(source: str) -> None:
    with contextlib.suppress(ConfigSyntaxError):
        parse_roundcube_config(source).values()
    findings = lint_roundcube_config(source)
    assert all(f.code != "roundcube.lint-failed" for f in findings)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_fuzz_text(source: str) -> None:
    for data in (source, "<?php " + source):
        findings = lint_roundcube_config(data)
        assert all(f.code != "roundcube.lint-failed" for f in findings)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_bytes(data: bytes) -> None:
    findings = lint_roundcube_config(b"<?php " + data)
    assert all(f.code != "roundcube.lint-failed" for f in findings)
