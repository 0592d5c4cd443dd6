"""Unit tests for maillab.config.opendkim on the chapter's and hand-made files."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.findings import Severity
from maillab.config.opendkim import (
    add_table_entry,
    host_kind,
    lint_opendkim,
    lookup_keys,
    parse_dataset,
    parse_integer,
    parse_key_table,
    parse_opendkim_conf,
    parse_signing_table,
    parse_trusted_hosts,
    postfix_milter,
    referenced_files,
    remove_parameter,
    remove_table_entry,
    set_parameter,
    signing_key_for,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "opendkim"


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def lint_set(prefix: str) -> list[tuple[str, int | None, str]]:
    findings = lint_opendkim(
        text(f"{prefix}-opendkim.conf"),
        path="/etc/opendkim.conf",
        key_table=text(f"{prefix}-KeyTable"),
        signing_table=text(f"{prefix}-SigningTable"),
        trusted_hosts=text(f"{prefix}-TrustedHosts"),
    )
    return [(f.file, f.line, f.code) for f in findings]


def test_chapter_conf_values() -> None:
    conf = parse_opendkim_conf(text("chapter-opendkim.conf"))
    assert conf.value("mode") == "sv"
    assert conf.get("Socket").line == 10  # type: ignore[union-attr]
    assert conf.boolean("SyslogSuccess") is True
    assert conf.integer("UMask") == 2
    signing = conf.dataset("SigningTable")
    assert signing is not None
    assert (signing.kind, signing.location) == ("file", "/etc/opendkim/SigningTable")


def test_chapter_findings() -> None:
    assert lint_set("chapter") == [
        ("/etc/opendkim.conf", 13, "opendkim.both-signing-setups"),
        ("/etc/opendkim.conf", 10, "opendkim.postfix-milter"),
        ("/etc/opendkim/SigningTable", 1, "opendkim.wildcard-needs-refile"),
        ("/etc/opendkim/TrustedHosts", 4, "opendkim.hosts-wildcard"),
    ]


def test_reference_is_clean() -> None:
    assert lint_set("reference") == [
        ("/etc/opendkim.conf", 10, "opendkim.postfix-milter")
    ]


def test_chapter_signs_nothing_reference_signs() -> None:
    keys = parse_key_table(text("chapter-KeyTable"))
    plain = parse_signing_table(text("chapter-SigningTable"))
    refile = parse_signing_table(text("chapter-SigningTable"), refile=True)
    assert signing_key_for("jean@monentreprise.local", plain, keys) is None
    key = signing_key_for("Jean@MonEntreprise.Local", refile, keys)
    assert key is not None
    assert (key.domain, key.selector) == ("monentreprise.local", "mail")
    assert key.key == "/etc/opendkim/keys/monentreprise.local/mail.private"


def test_tricky_tables() -> None:
    keys = parse_key_table(text("tricky-KeyTable"))
    table = parse_signing_table(text("tricky-SigningTable"), refile=True)
    assert keys.bad_lines == [(4, "half-entry")]
    assert table.bad_lines == [(6, "broken-line-without-key")]
    jean = signing_key_for("jean@monentreprise.local", table, keys)
    assert jean is not None and jean.selector == "jean"
    sub = signing_key_for("paul@ventes.monentreprise.local", table, keys)
    assert sub is not None and (sub.domain, sub.selector) == (
        "ventes.monentreprise.local",
        "ventes",
    )
    assert signing_key_for("bob@exterieur.test", table, keys) is None
    findings = lint_opendkim(
        "Socket local:/tmp/s\nKeyTable /k\nSigningTable refile:/s\n",
        key_table=text("tricky-KeyTable"),
        signing_table=text("tricky-SigningTable"),
    )
    assert {(f.file, f.line, f.code) for f in findings} >= {
        ("/k", 4, "opendkim.bad-key-entry"),
        ("/k", 5, "opendkim.unused-key"),
        ("/s", 5, "opendkim.unknown-key-name"),
        ("/s", 6, "opendkim.bad-signing-entry"),
    }


def test_plain_lookup_order() -> None:
    assert lookup_keys("Jean@a.b.c") == [
        "jean@a.b.c",
        "a.b.c",
        "jean@.b.c",
        "jean@.c",
        ".b.c",
        ".c",
        "jean@*",
        "*",
    ]


def test_trusted_hosts() -> None:
    hosts = parse_trusted_hosts(text("tricky-TrustedHosts"))
    kinds = [(h.value, h.negated, h.kind, h.line) for h in hosts]
    assert kinds[1] == ("192.168.56.99", True, "ip", 2)
    assert kinds[3] == ("[::1]", False, "ip", 4)
    assert kinds[5][2] == kinds[7][2] == "invalid"
    assert kinds[6][2] == "domain"
    assert kinds[-2:] == [
        ("mail.monentreprise.local", False, "host", 9),
        ("localhost", False, "host", 9),
    ]
    assert host_kind("192.168.1.0/24") == "network"


def test_conf_errors() -> None:
    cases = {
        "unknown": "opendkim.unknown-parameter",
        "badbool": "opendkim.invalid-value",
        "badint": "opendkim.invalid-value",
        "mode": "opendkim.invalid-value",
        "canon": "opendkim.invalid-value",
        "algo": "opendkim.invalid-value",
        "novalue": "opendkim.missing-value",
        "dbtype": "opendkim.invalid-value",
        "eqsign": "opendkim.unknown-parameter",
        "domain-alone": "opendkim.domain-needs-key",
        "selector-alone": "opendkim.keyfile-selector",
        "keytable-alone": "opendkim.keytable-alone",
        "signingtable-alone": "opendkim.signingtable-alone",
    }
    for name, code in cases.items():
        findings = lint_opendkim(text(f"tricky-error-{name}.conf"))
        errors = {f.code for f in findings if f.severity == Severity.ERROR}
        assert code in errors, name


def test_socket_findings() -> None:
    assert [f.code for f in lint_opendkim(text("tricky-no-socket.conf"))] == [
        "opendkim.no-socket"
    ]
    bad = lint_opendkim(text("tricky-bad-socket.conf"))
    assert [(f.line, f.code) for f in bad] == [(1, "opendkim.socket")]
    assert postfix_milter("inet:8891@localhost") == "inet:localhost:8891"
    assert postfix_milter("local:/run/opendkim/opendkim.sock") is None


def test_values_and_datasets() -> None:
    conf = parse_opendkim_conf(text("tricky-values.conf"))
    assert conf.value("Mode") == "sv"  # the last line wins
    assert conf.value("Selector") == "mail"
    assert conf.value("TemporaryDirectory") == "/var/tmp"
    assert conf.integer("UMask") == 31 and conf.integer("AutoRestartCount") == 8
    assert conf.boolean("LogWhy") is False
    hosts = conf.dataset("InternalHosts")
    assert hosts is not None and hosts.entries == ["127.0.0.1", "192.168.56.0/24"]
    assert parse_dataset("refile:/x").kind == "refile"
    assert parse_dataset("/x/y.db").kind == "db"
    assert parse_dataset("ldaps://h/dc=x").kind == "ldap"
    assert parse_integer("-0") == 0 and parse_integer("08") is None


def test_referenced_files_skip_ignored_keyfile() -> None:
    conf = parse_opendkim_conf(text("chapter-opendkim.conf"))
    keys = parse_key_table(text("chapter-KeyTable"))
    refs = [(r.purpose, r.path) for r in referenced_files(conf, keys)]
    assert (
        "KeyFile",
        "/etc/opendkim/keys/monentreprise.local/mail.private",
    ) not in refs
    assert ("SigningTable", "/etc/opendkim/SigningTable") in refs
    key = "private key mail._domainkey.monentreprise.local"
    assert (key, "/etc/opendkim/keys/monentreprise.local/mail.private") in refs


def test_editor_keeps_layout() -> None:
    original = text("chapter-opendkim.conf")
    edited = set_parameter(
        original, "SigningTable", "refile:/etc/opendkim/SigningTable"
    )
    assert "SigningTable            refile:/etc/opendkim/SigningTable\n" in edited
    assert edited.replace("refile:", "") == original
    kept = set_parameter("Selector\tmail # comment\r\nMode v\r\n", "selector", "s2")
    assert kept == "Selector\ts2 # comment\r\nMode v\r\n"
    assert set_parameter("Mode v", "Socket", "local:/s") == "Mode v\nSocket\tlocal:/s\n"
    lines = remove_parameter(original, "Domain").splitlines()
    assert len(lines) == len(original.splitlines()) - 1
    assert not any(line.startswith("Domain") for line in lines)


def test_table_editor() -> None:
    table = text("chapter-TrustedHosts")
    grown = add_table_entry(table, "192.168.56.0/24", "")
    assert grown == table + "192.168.56.0/24\n"
    assert remove_table_entry(grown, "*.monentreprise.local").count("\n") == 5


def test_bytes_and_empty() -> None:
    findings = lint_opendkim(b"Socket local:/tmp/s\nSyslog yes # \xe9\n", path="/x")
    assert [(f.file, f.code) for f in findings] == [("/x", "opendkim.not-utf8")]
    assert [f.code for f in lint_opendkim("")] == ["opendkim.no-socket"]


@settings(max_examples=300, deadline=None)
@given(st.text(), st.text(), st.text(), st.text())
def test_fuzz(conf: str, keys: str, signing: str, hosts: str) -> None:
    findings = lint_opendkim(
        "KeyTable /k\nSigningTable refile:/s\n" + conf,
        key_table=keys,
        signing_table=signing,
        trusted_hosts=hosts,
    )
    assert all(f.code != "opendkim.lint-failed" for f in findings)
    table = parse_signing_table(signing, refile=True)
    signing_key_for("a@b.c", table, parse_key_table(keys))


@settings(max_examples=200, deadline=None)
@given(st.binary(), st.emails())
def test_fuzz_bytes(data: bytes, address: str) -> None:
    assert all(f.code != "opendkim.lint-failed" for f in lint_opendkim(data))
    for refile in (True, False):
        table = parse_signing_table(data, refile=refile)
        signing_key_for(address, table, parse_key_table(data))
    parse_trusted_hosts(data)
