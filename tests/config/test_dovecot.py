"""Unit tests of the Dovecot parser, formatter, editor and linter (fixtures only)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.dovecot import (
    DovecotConfig,
    min_protocol,
    parse_dovecot,
    parse_dovecot_text,
)
from maillab.config.dovecot_defaults import load_dovecot_defaults, normalize
from maillab.config.dovecot_edit import add_setting, remove_setting, set_setting
from maillab.config.dovecot_format import diff_doveconf_n, format_doveconf_n
from maillab.config.dovecot_lexer import LineKind, lex_line
from maillab.config.dovecot_lint import lint_dovecot
from maillab.config.findings import ConfigSyntaxError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "dovecot"
TREE = FIXTURES / "debian12-tree"
DEFAULTS = load_dovecot_defaults(FIXTURES / "debian12-defaults")
ROOT = "/etc/dovecot/dovecot.conf"
CHAPTER = {
    "dovecot.conf": "chapter-dovecot.conf",
    "conf.d/10-auth.conf": "chapter-10-auth.conf",
    "conf.d/10-mail.conf": "chapter-10-mail.conf",
    "conf.d/10-ssl.conf": "chapter-10-ssl.conf",
    "conf.d/10-master.conf": "chapter-10-master.conf",
}


def debian_tree(**replaced: str) -> dict[str, str]:
    paths = [p for p in TREE.rglob("*") if p.is_file()]
    files = {"/" + str(p.relative_to(TREE)): p.read_text() for p in paths}
    return files | {f"/etc/dovecot/{name}": text for name, text in replaced.items()}


def chapter_tree() -> dict[str, str]:
    files = debian_tree()
    for name, fixture in CHAPTER.items():
        files[f"/etc/dovecot/{name}"] = (FIXTURES / fixture).read_text()
    return files


def parse(text: str) -> DovecotConfig:
    return parse_dovecot_text(text, defaults=DEFAULTS)


def codes(findings: list) -> set[str]:  # type: ignore[type-arg]
    return {finding.code for finding in findings}


# --- the Debian 12 tree and doveconf -n --------------------------------------


def test_debian_tree_prints_as_doveconf_n() -> None:
    config = parse_dovecot(files=debian_tree(), defaults=DEFAULTS)
    expected = (FIXTURES / "debian12-doveconf-n.txt").read_text()
    assert diff_doveconf_n(expected, format_doveconf_n(config, DEFAULTS)) == []
    assert config.problems == []


def test_debian_tree_values_and_where_they_come_from() -> None:
    config = parse_dovecot(files=debian_tree(), defaults=DEFAULTS)
    assert config.mail_location == "mbox:~/mail:INBOX=/var/mail/%u"
    assert config.get("protocols") == " imap lmtp sieve pop3"
    setting = config.setting("ssl_cert")
    assert setting is not None and setting.is_file
    assert (setting.file, setting.line) == ("/etc/dovecot/conf.d/10-ssl.conf", 12)
    assert setting.shown == "</etc/dovecot/private/dovecot.pem"
    assert len(config.files) == 24  # 1 + 4 protocols.d + 18 conf.d + auth-system


def test_chapter_listeners_are_exposed() -> None:
    config = parse_dovecot(files=chapter_tree(), defaults=DEFAULTS)
    listeners = {(u.service, u.path): u for u in config.unix_listeners()}
    auth = listeners[("auth", "/var/spool/postfix/private/auth")]
    assert (auth.mode, auth.user, auth.group) == ("0660", "postfix", "postfix")
    assert auth.file == "/etc/dovecot/conf.d/10-master.conf"
    assert ("lmtp", "lmtp") in listeners  # not where Postfix looks
    assert config.mail_location == "maildir:~/Maildir"


# --- sections, includes, quoting ---------------------------------------------


def test_named_sections_merge_and_unnamed_do_not() -> None:
    config = parse(
        "service imap-login {\n process_limit = 5\n}\n"
        "service imap-login {\n process_min_avail = 1\n}\n"
        "passdb {\n driver = pam\n}\npassdb {\n driver = static\n}\n"
        "plugin {\n a = 1\n}\nplugin {\n b = 2\n}\n"
    )
    service = config.service("imap-login")
    assert service is not None
    assert service.get("process_limit") == "5"
    assert service.get("process_min_avail") == "1"
    assert [p.get("driver") for p in config.top.all("passdb")] == ["pam", "static"]
    assert len(config.top.all("plugin")) == 1


def test_second_named_passdb_is_an_error() -> None:
    config = parse("passdb x {\n driver = pam\n}\npassdb x {\n args = y\n}\n")
    [problem] = config.problems
    assert (problem.line, problem.message) == (4, "passdb/x already exists")


def test_includes_are_relative_globbed_and_sorted() -> None:
    files = {
        "/e/dovecot.conf": "!include conf.d/*.conf\n!include_try none/*.conf\n",
        "/e/conf.d/20-b.conf": "protocols = $protocols b\n",
        "/e/conf.d/10-a.conf": "protocols = $protocols a\n",
        "/e/conf.d/readme.txt": "protocols = never\n",
    }
    config = parse_dovecot("/e/dovecot.conf", files=files, defaults=DEFAULTS)
    assert config.get("protocols") == " a b"
    assert config.setting("protocols").file == "/e/conf.d/20-b.conf"  # type: ignore[union-attr]
    assert config.problems == []


def test_missing_include_is_doveconfs_no_matches() -> None:
    config = parse("login_greeting = x\n!include nothere.conf\n")
    [problem] = config.problems
    assert (problem.line, problem.message, problem.code) == (
        2,
        "No matches",
        "dovecot.no-include",
    )


def test_include_loop_is_a_finding() -> None:
    files = {"/a.conf": "!include b.conf\n", "/b.conf": "!include a.conf\n"}
    config = parse_dovecot("/a.conf", files=files)
    assert codes(config.problems) == {"dovecot.include-loop"}


def test_callable_loader() -> None:
    texts = {"/x/dovecot.conf": "!include other.conf\n", "/x/other.conf": "a = 1\n"}
    config = parse_dovecot("/x/dovecot.conf", files=texts.get)
    assert config.get("a") == "1"


@pytest.mark.parametrize(
    ("line", "key", "value"),
    [
        ('login_greeting = "a # b"', "login_greeting", "a # b"),
        (
            "login_trusted_networks = 1.2.3.4 # note",
            "login_trusted_networks",
            "1.2.3.4",
        ),
        ('auth_realms = "x y" z', "auth_realms", '"x y" z'),
        ('postmaster_address = "a\\"b"', "postmaster_address", 'a"b'),
        ("greeting=   many   spaces   ", "greeting", "many   spaces"),
        ("mail_location = 'it''s'", "mail_location", "it''s"),
    ],
)
def test_values_read_as_dovecot_reads_them(line: str, key: str, value: str) -> None:
    lexed = lex_line(line + "\n", 1, 0)
    assert (lexed.kind, lexed.key, lexed.value) == (LineKind.SETTING, key, value)


def test_file_values_and_section_names() -> None:
    assert lex_line("ssl_cert =<  /tmp/x\n", 1, 0).value == "/tmp/x"
    assert lex_line("ssl_cert =<  /tmp/x\n", 1, 0).is_file
    opened = lex_line('  mailbox "Sent Messages" {\n', 1, 0)
    assert (opened.kind, opened.key, opened.name) == (
        LineKind.OPEN,
        "mailbox",
        "Sent Messages",
    )
    assert lex_line("inet_listener {\n", 1, 0).name is None
    assert lex_line("service imap { process_limit = 5\n", 1, 0).problem == (
        "Garbage after '{'"
    )


def test_hash_without_space_warns_like_doveconf() -> None:
    config = parse("login_greeting = a#b\n")
    assert config.get("login_greeting") == "a"
    [problem] = config.problems
    assert problem.message.startswith("Ambiguous '#' character in line")


def test_variables_expand_to_the_value_so_far() -> None:
    config = parse(
        "login_greeting = $login_greeting x\nmail_plugins = quota\n"
        "protocol imap {\n mail_plugins = $mail_plugins imap_quota\n}\n"
    )
    assert config.get("login_greeting") == "Dovecot (Debian) ready. x"
    imap = config.top.block("protocol", "imap")
    assert imap is not None and imap.get("mail_plugins") == "quota imap_quota"


def test_unknown_variable_is_an_error() -> None:
    config = parse("login_greeting = $nosuch x\n")
    assert [p.message for p in config.problems] == ["Unknown variable: $nosuch"]


# --- doveconf -n formatting ----------------------------------------------------


def test_format_normalises_like_doveconf() -> None:
    config = parse(
        "verbose_ssl = Y\nimap_idle_notify_interval = 60s\n"
        "imap_max_line_length = 1024\n"
        "service imap {\n vsz_limit = 512M\n unix_listener x {\n  mode = 600\n }\n}\n"
        'ssl_key = </k\nlogin_greeting = " lead"\n'
    )
    lines = format_doveconf_n(config, DEFAULTS).splitlines()
    assert "verbose_ssl = yes" in lines
    assert "imap_idle_notify_interval = 1 mins" in lines
    assert "imap_max_line_length = 1 k" in lines
    assert "    mode = 01130" in lines
    assert "  vsz_limit = 512 M" in lines
    assert "ssl_key = # hidden, use -P to show it" in lines
    assert 'login_greeting = " lead"' in lines


def test_format_sorts_like_doveconf() -> None:
    config = parse(
        "service auth {\n user = dovecot\n}\nservice auth-worker {\n user = root\n}\n"
        'namespace inbox {\n mailbox "Sent Messages" {\n  auto = no\n }\n'
        " mailbox Sent {\n  auto = no\n }\n}\n"
    )
    lines = format_doveconf_n(config, DEFAULTS).splitlines()
    assert lines.index("service auth-worker {") < lines.index("service auth {")
    assert lines.index("  mailbox Sent {") < lines.index('  mailbox "Sent Messages" {')
    assert "  location = " in lines  # a namespace always shows it


@pytest.mark.parametrize(
    ("value", "kind", "shown", "error"),
    [
        ("YES", "bool", "yes", None),
        ("maybe", "bool", "maybe", "Invalid boolean value: maybe (use yes or no)"),
        ("007", "uint", "7", None),
        ("abc", "uint", "abc", "Invalid number abc: Not a valid number"),
        ("0600", "octal", "0600", None),
        ("600", "octal", "01130", None),
        (
            "90",
            "time",
            "90",
            "Time interval '90' is missing units (add e.g. 's' for seconds)",
        ),
        ("1 hour", "time", "1 hours", None),
        (
            "2500ms",
            "time",
            "2500ms",
            "Milliseconds not supported for this setting: 2500ms",
        ),
        ("1024M", "size", "1 G", None),
        ("0", "size", "0", None),
    ],
)
def test_normalize(value: str, kind: str, shown: str, error: str | None) -> None:
    assert normalize(value, kind) == (shown, error)


def test_min_protocol_conversion() -> None:
    assert min_protocol("!SSLv3 !TLSv1") == ("TLSv1.1", None)
    assert min_protocol("!SSLv2 !SSLv3") == (None, "SSLv2")
    assert min_protocol("TLSv1.2") == ("TLSv1.2", None)


# --- editor --------------------------------------------------------------------

MASTER = """\
# services
service auth {
  unix_listener auth-userdb {
    mode = 0600   # keep me
  }
  user = dovecot
}
"""


def test_set_rewrites_one_line_and_keeps_the_rest() -> None:
    edited = set_setting(
        MASTER, "mode", "0660", section="service auth/unix_listener auth-userdb"
    )
    assert edited == MASTER.replace("mode = 0600", "mode = 0660")


def test_set_adds_inside_the_section_and_creates_missing_ones() -> None:
    edited = set_setting(MASTER, "group", "postfix", section=[("service", "auth")])
    assert edited == MASTER.replace(
        "  user = dovecot\n", "  user = dovecot\n  group = postfix\n"
    )
    created = set_setting(
        MASTER, "port", "993", section="service imap-login/inet_listener imaps"
    )
    assert created.startswith(MASTER)
    config = parse(created)
    listener = config.service("imap-login").block("inet_listener", "imaps")  # type: ignore[union-attr]
    assert listener is not None and listener.get("port") == "993"


def test_add_and_remove() -> None:
    text = "protocols = imap\n# end\n"
    added = add_setting(text, "protocols", "$protocols pop3")
    assert added == text + "protocols = $protocols pop3\n"
    assert parse(added).get("protocols") == "imap pop3"
    assert remove_setting(added, "protocols") == "# end\n"
    assert remove_setting(MASTER, "user", section="service auth") == MASTER.replace(
        "  user = dovecot\n", ""
    )


def test_set_quotes_values_that_need_it() -> None:
    edited = set_setting("", "login_greeting", "Bonjour # tous")
    assert edited == 'login_greeting = "Bonjour # tous"\n'
    assert parse(edited).get("login_greeting") == "Bonjour # tous"


# --- linter --------------------------------------------------------------------


def test_chapter_findings() -> None:
    config = parse_dovecot(files=chapter_tree(), defaults=DEFAULTS)
    found = {
        (f.code, Path(f.file).name, f.line)
        for f in lint_dovecot(config, defaults=DEFAULTS)
    }
    assert found == {
        ("dovecot.obsolete", "10-ssl.conf", 14),
        ("dovecot.ssl-protocols", "10-ssl.conf", 14),
        ("dovecot.removed-plugin", "10-mail.conf", 13),
        ("dovecot.weak-cipher", "10-ssl.conf", 13),
        ("dovecot.auth-worker-user", "10-master.conf", 61),
    }


def test_debian_tree_and_reference_are_clean() -> None:
    assert lint_dovecot(parse_dovecot(files=debian_tree(), defaults=DEFAULTS)) == []
    reference = FIXTURES / "cases" / "reference"
    names = {
        str(p.relative_to(reference)): p.read_text() for p in reference.rglob("*.conf")
    }
    config = parse_dovecot(files=debian_tree(**names), defaults=DEFAULTS)
    assert lint_dovecot(config, defaults=DEFAULTS) == []


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        (
            "smtpd_banner = x\n",
            "dovecot.unknown-setting",
            "Unknown setting: smtpd_banner",
        ),
        (
            "namespace inbox {\n mailbox x {\n  nosuch = 1\n }\n}\n",
            "dovecot.unknown-setting",
            "Unknown setting: namespace { mailbox { nosuch",
        ),
        (
            "verbose_ssl = maybe\n",
            "dovecot.invalid-value",
            "Invalid boolean value: maybe (use yes or no)",
        ),
        ("}\n", "dovecot.unexpected-close", "Unexpected '}'"),
        ("ssl_min_protocol = TLSv1\n", "dovecot.old-tls", None),
        ("disable_plaintext_auth = no\n", "dovecot.plaintext-auth", None),
        (
            "service x {\n unix_listener y {\n  mode = 660\n }\n}\n",
            "dovecot.decimal-mode",
            None,
        ),
    ],
)
def test_lint_messages(text: str, code: str, message: str | None) -> None:
    findings = lint_dovecot(text, defaults=DEFAULTS)
    [finding] = [f for f in findings if f.code == code]
    assert finding.file == ROOT and finding.line is not None
    if message is not None:
        assert finding.message == message


def test_missing_close_names_the_section() -> None:
    [finding] = lint_dovecot("service imap {\n process_limit = 1\n")
    assert finding.message == f"Missing '}}' (section started at {ROOT}:1)"


def test_bad_bytes_are_findings() -> None:
    assert codes(lint_dovecot(b"login_greeting = \xff\n")) == {"dovecot.invalid-utf8"}
    assert codes(lint_dovecot(b"a = 1\0\n")) == {"dovecot.binary"}
    assert lint_dovecot("") == []


def test_missing_root_raises_only_config_syntax_error() -> None:
    with pytest.raises(ConfigSyntaxError) as raised:
        parse_dovecot("/nowhere/dovecot.conf", files={})
    assert raised.value.file == "/nowhere/dovecot.conf"
    assert codes(lint_dovecot("x", path="/a.conf", files=lambda p: None)) == {
        "dovecot.unreadable"
    }


# --- fuzzing -------------------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "a = 1",
        "b {",
        "}",
        "!include x/*.conf",
        "!include_try y",
        '"q # r"',
        "#",
        "=",
        "{",
        "<",
        "$a",
        "\\",
        "'",
        "service s {",
        "passdb {",
        "protocol imap {",
        " ",
        "\t",
        "\n",
    ]
)
_TEXTS = st.one_of(st.text(), st.lists(_PIECES).map("".join))


@settings(max_examples=300, deadline=None)
@given(_TEXTS)
def test_fuzz_parse_and_lint_never_raise(text: str) -> None:
    config = parse_dovecot(
        "/e/dovecot.conf", files={"/e/dovecot.conf": text, "/e/x/a.conf": text}
    )
    assert isinstance(config.problems, list)
    lint_dovecot(config, defaults=DEFAULTS)
    format_doveconf_n(config, DEFAULTS)


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_fuzz_bytes(data: bytes) -> None:
    findings = lint_dovecot(data, defaults=DEFAULTS)
    assert all(f.file == ROOT for f in findings)


@settings(max_examples=200, deadline=None)
@given(
    _TEXTS,
    st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=20),
)
def test_fuzz_set_then_read_back(text: str, key: str, value: str) -> None:
    edited = set_setting(text, key, value, section="service s")
    config = parse(edited)
    service = config.service("s")
    if value.startswith("<") or service is None or key not in service.settings:
        return
    if not config.problems:
        assert service.get(key) == value
