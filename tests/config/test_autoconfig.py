"""Unit tests for maillab.config.autoconfig (Thunderbird and Outlook files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.autoconfig import (
    AUTODISCOVER_NS,
    OUTLOOK_NS,
    Server,
    autodiscover_servers,
    kind_of,
    lint_autoconfig,
    mozilla_servers,
    parse_xml,
    port_problem,
    set_server_value,
)
from maillab.config.findings import ConfigSyntaxError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "autoconfig"
DOMAIN = "monentreprise.local"


def data(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def found(name: str) -> list[tuple[int | None, str]]:
    findings = lint_autoconfig(data(name), path=name, domain=DOMAIN)
    return [(f.line, f.code) for f in findings]


def test_chapter_mozilla_servers() -> None:
    root = parse_xml(data("chapter-config-v1.1.xml"))
    assert kind_of(root) == "mozilla"
    assert mozilla_servers(root) == [
        Server(
            "incoming",
            "imap",
            "mail.monentreprise.local",
            993,
            "SSL",
            "%EMAILADDRESS%",
            9,
        ),
        Server(
            "outgoing",
            "smtp",
            "mail.monentreprise.local",
            587,
            "STARTTLS",
            "%EMAILADDRESS%",
            18,
        ),
    ]
    assert found("chapter-config-v1.1.xml") == []
    assert found("reference-config-v1.1.xml") == []


def test_chapter_autodiscover() -> None:
    root = parse_xml(data("chapter-autodiscover.xml"))
    assert (root.namespace, root.find("Response").namespace) == (  # type: ignore[union-attr]
        AUTODISCOVER_NS,
        OUTLOOK_NS,
    )
    servers = autodiscover_servers(root)
    assert [(s.protocol, s.port, s.security, s.line) for s in servers] == [
        ("imap", 993, "SSL", 7),
        ("smtp", 587, "STARTTLS", 17),
    ]
    assert found("chapter-autodiscover.xml") == [
        (12, "autoconfig.autodiscover-placeholder"),
        (22, "autoconfig.autodiscover-placeholder"),
    ]


def test_tricky_values() -> None:
    assert found("tricky-values.xml") == [
        (2, "autoconfig.version"),
        (3, "autoconfig.domain"),
        (5, "autoconfig.server-type"),
        (8, "autoconfig.socket-type"),
        (9, "autoconfig.authentication"),
        (10, "autoconfig.placeholder"),
        (12, "autoconfig.cleartext"),
        (14, "autoconfig.port"),
        (19, "autoconfig.missing-element"),
        (21, "autoconfig.port-security"),
    ]


def test_tricky_autodiscover() -> None:
    assert found("tricky-autodiscover.xml") == [
        (3, "autoconfig.namespace"),
        (10, "autoconfig.port-security"),
        (11, "autoconfig.on-off"),
    ]
    root = parse_xml(data("tricky-autodiscover.xml"))
    (server,) = autodiscover_servers(root)  # read, though Outlook would not
    assert (server.protocol, server.port, server.security) == ("imap", 143, "SSL")


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tricky-syntax-amp.xml", 4),
        ("tricky-syntax-unclosed.xml", 4),
        ("tricky-syntax-dtd.xml", 2),
    ],
)
def test_syntax(name: str, line: int) -> None:
    with pytest.raises(ConfigSyntaxError) as caught:
        parse_xml(data(name), path=name)
    assert (caught.value.file, caught.value.line) == (name, line)
    assert found(name) == [(line, "autoconfig.syntax")]


def test_port_problem() -> None:
    assert port_problem("imap", 993, "SSL") is None
    assert port_problem("smtp", 587, "STARTTLS") is None
    assert "STARTTLS port" in (port_problem("smtp", 587, "SSL") or "")
    assert "TLS port" in (port_problem("imap", 993, "plain") or "")


def test_editor_keeps_the_rest() -> None:
    text = data("chapter-config-v1.1.xml").decode()
    edited = set_server_value(text, "outgoing", "port", "465")
    assert edited.count("<port>465</port>") == 1
    assert edited.replace("<port>465</port>", "<port>587</port>") == text
    secure = set_server_value(edited, "outgoing", "socketType", "SSL")
    servers = mozilla_servers(parse_xml(secure))
    assert (servers[1].port, servers[1].security) == (465, "SSL")
    assert servers[0] == mozilla_servers(parse_xml(text))[0]


def test_bad_bytes_and_empty() -> None:
    assert [(f.code) for f in lint_autoconfig(b"<a>\xff</a>")] == [
        "autoconfig.not-utf8"
    ]
    assert [f.code for f in lint_autoconfig(b"")] == ["autoconfig.syntax"]
    assert [f.code for f in lint_autoconfig("<x/>")] == ["autoconfig.unknown-root"]


TAGS = st.sampled_from(
    [
        "clientConfig",
        "emailProvider",
        "incomingServer",
        "outgoingServer",
        "port",
        "socketType",
        "hostname",
        "username",
        "authentication",
        "domain",
        "Autodiscover",
        "Response",
        "Account",
        "Protocol",
        "Type",
        "SSL",
        "Encryption",
        "LoginName",
        "Port",
    ]
)


def build(tree: object) -> str:
    if isinstance(tree, str):
        return tree.replace("&", "&amp;").replace("<", "&lt;")
    tag, children = tree  # type: ignore[misc]
    return f"<{tag}>" + "".join(build(c) for c in children) + f"</{tag}>"


XML = st.recursive(
    st.sampled_from(["993", "SSL", "plain", "%EMAILADDRESS%", "x", "on", "TLS", ""]),
    lambda inner: st.tuples(TAGS, st.lists(inner, max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(XML)
def test_fuzz_structured(tree: object) -> None:
    text = build(tree)
    findings = lint_autoconfig(text, domain=DOMAIN)
    assert all(f.code != "autoconfig.lint-failed" for f in findings)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.text(max_size=200))
def test_fuzz_raw(raw: bytes, text: str) -> None:
    for value in (raw, text, "<clientConfig>" + text):
        findings = lint_autoconfig(value)
        assert all(f.code != "autoconfig.lint-failed" for f in findings)
