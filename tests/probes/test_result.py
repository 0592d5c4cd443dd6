"""Unit tests of the probes' parts that need no lab: masking, errors, hello, XML."""

from __future__ import annotations

import socket
import struct
from importlib import resources

import pytest

from maillab.probes import smtp, tls
from maillab.probes.hello import HelloAnswer, client_hello, read_answer
from maillab.probes.result import Status, Transcript
from maillab.probes.web import judge_servers, parse_autoconfig, parse_autodiscover

EMAIL = "jean@monentreprise.local"


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ("AUTH PLAIN amVhbgBqZWFuAHNlY3JldA==", "AUTH PLAIN ****"),
        ("auth login", "auth login ****"),
        ('A001 LOGIN jean "s3cret"', "A001 LOGIN ****"),
        ("PASS s3cret", "PASS ****"),
        ("t2 AUTHENTICATE PLAIN AGplYW4Ac2VjcmV0", "t2 AUTHENTICATE PLAIN ****"),
        ("USER jean@monentreprise.local", "USER jean@monentreprise.local"),
        ("MAIL FROM:<alice@exterieur.test>", "MAIL FROM:<alice@exterieur.test>"),
    ],
)
def test_client_secrets_are_masked(line, shown):
    transcript = Transcript()
    transcript.client(line + "\r\n")
    assert transcript.lines == [f"C: {shown}"]


def test_the_answer_to_a_334_challenge_is_masked():
    transcript = Transcript()
    transcript.client("AUTH LOGIN")
    transcript.server("334 VXNlcm5hbWU6")
    transcript.client("amVhbg==")
    transcript.server("334 UGFzc3dvcmQ6")
    transcript.client("czNjcmV0")
    transcript.server("235 2.7.0 Authentication successful")
    transcript.client("QUIT")
    assert [line for line in transcript.lines if line.startswith("C:")] == [
        "C: AUTH LOGIN ****",
        "C: ****",
        "C: ****",
        "C: QUIT",
    ]


def test_the_answer_to_an_imap_continuation_is_masked():
    transcript = Transcript(challenge=("+ ",))
    transcript.client("a1 AUTHENTICATE PLAIN")
    transcript.server("+ ")
    transcript.client("AGplYW4Ac2VjcmV0")
    assert transcript.lines[-1] == "C: ****"


def test_a_refused_port_is_an_error_not_a_failure():
    port = _free_port()
    for result in (
        smtp.probe_banner(address="127.0.0.1", port=port),
        smtp.probe_relay(address="127.0.0.1", port=port),
        tls.probe_protocols(address="127.0.0.1", port=port),
        tls.probe_weak_ciphers(address="127.0.0.1", port=port),
    ):
        assert result.status is Status.ERROR, result
        assert "connection refused" in result.summary
        assert result.destination == f"127.0.0.1:{port}"


def test_a_silent_server_times_out_as_an_error():
    with socket.create_server(("127.0.0.1", 0)) as listener:  # never accepts
        port = listener.getsockname()[1]
        result = smtp.probe_banner(address="127.0.0.1", port=port, timeout=0.5)
    assert result.status is Status.ERROR
    assert result.summary == "no answer before the timeout"
    assert result.source == "127.0.0.1"


def _free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def test_client_hello_offers_exactly_the_suites_asked():
    record = client_hello([0x0005, 0x0003])
    kind, version, length = struct.unpack("!BHH", record[:5])
    assert (kind, version, length) == (0x16, 0x0301, len(record) - 5)
    assert record[5] == 1  # ClientHello
    suites_at = 5 + 4 + 2 + 32 + 1
    assert record[suites_at : suites_at + 6] == b"\x00\x04\x00\x05\x00\x03"


def _answer_to(data: bytes) -> HelloAnswer:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.sendall(data)
        theirs.shutdown(socket.SHUT_WR)
        return read_answer(ours)


def test_read_answer_tells_server_hello_alert_and_close_apart():
    hello = b"\x02\x00\x00\x26\x03\x03" + bytes(32) + b"\x00\xc0\x11\x00"
    record = struct.pack("!BHH", 0x16, 0x0303, len(hello)) + hello
    assert _answer_to(record) == HelloAnswer(0xC011, None)
    assert _answer_to(b"\x15\x03\x03\x00\x02\x02\x28") == HelloAnswer(None, 40)
    assert _answer_to(b"") == HelloAnswer(None, None)


def test_this_client_can_offer_tls_1_0_at_seclevel_0():
    # Debian 12's OpenSSL refuses TLS 1.0 at its default level; SECLEVEL=0 works.
    assert tls.can_offer("TLSv1")
    assert tls.can_offer("TLSv1.2")


def _reference(name: str) -> bytes:
    text = resources.files("maillab.course").joinpath("files", "7.3.4", name)
    return (
        text.read_text()
        .replace("@DOMAIN@", "monentreprise.local")
        .replace("@HOSTNAME@", "mail.monentreprise.local")
        .encode()
    )


def test_autoconfig_of_the_reference_reads_as_thunderbird_reads_it():
    servers = parse_autoconfig(_reference("config-v1.1.xml"), EMAIL)
    assert [str(s) for s in servers] == [
        f"IMAP mail.monentreprise.local:993 SSL user {EMAIL}",
        f"POP3 mail.monentreprise.local:995 SSL user {EMAIL}",
        f"SMTP mail.monentreprise.local:587 STARTTLS user {EMAIL}",
    ]
    assert (
        judge_servers(servers, hostname="mail.monentreprise.local", email=EMAIL) == []
    )


def test_autodiscover_of_the_reference_reads_as_outlook_reads_it():
    text = _reference("autodiscover.xml").replace(b"%EMAILADDRESS%", EMAIL.encode())
    servers = parse_autodiscover(text)
    assert [(s.protocol, s.port, s.security, s.username) for s in servers] == [
        ("imap", 993, "SSL", EMAIL),
        ("smtp", 587, "STARTTLS", EMAIL),
    ]


def test_judge_servers_names_each_problem():
    text = _reference("config-v1.1.xml").replace(
        b"<socketType>SSL", b"<socketType>plain"
    )
    text = text.replace(
        b"%EMAILADDRESS%</username>\n    </incomingServer>\n\n    <!-- POP3",
        b"%EMAILLOCALPART%</username>\n    </incomingServer>\n\n    <!-- POP3",
        1,
    )
    problems = judge_servers(
        parse_autoconfig(text, EMAIL), hostname="mail.monentreprise.local", email=EMAIL
    )
    assert "imap on port 993 without TLS" in problems
    assert "pop3 on port 995 without TLS" in problems
    assert "imap username 'jean', not jean@monentreprise.local" in problems
