"""Faults on the wire give an error result that names the cause, never a traceback.

Each fault is a small server of the test's own on 127.0.0.1.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.resolver

from maillab.dns import check_dmarc, check_spf
from maillab.probes import smtp, tls
from maillab.probes.result import Status
from maillab.probes.tls import _throwaway_certificate


@contextmanager
def serving(handle) -> Iterator[int]:
    """A one-connection TCP server on loopback; yields its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        conn, _ = listener.accept()
        with conn:
            handle(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        listener.close()
        thread.join(5)


def test_garbage_banner_is_an_error_naming_it():
    def garbage(conn: socket.socket) -> None:
        conn.sendall(b"\x16\x03\x01 this is no SMTP server\r\n")
        conn.recv(100)

    with serving(garbage) as port:
        result = smtp.probe_banner(address="127.0.0.1", port=port, timeout=3)
    assert result.status is Status.ERROR
    assert "this is no SMTP server" in result.summary
    assert result.evidence[0] == "S: -1 this is no SMTP server"


def test_certificate_for_another_name_is_reported():
    with _throwaway_certificate() as (cert, key):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)

        def tls_server(conn: socket.socket) -> None:
            try:
                with context.wrap_socket(conn, server_side=True) as wrapped:
                    wrapped.recv(1)
            except (ssl.SSLError, OSError):
                pass

        with serving(tls_server) as port:
            result = tls.probe_certificate(
                address="127.0.0.1",
                port=port,
                hostname="mail.monentreprise.local",
                starttls=None,
                timeout=3,
            )
    assert result.status is Status.FAIL
    assert "mail.monentreprise.local" in result.summary


def test_a_dns_server_that_does_not_answer_gives_temperror_not_a_crash():
    # A UDP port on loopback where nothing answers.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        port = silent.getsockname()[1]
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = port
        resolver.lifetime = 1.0
        spf = check_spf("monentreprise.local", resolver=resolver)
        dmarc = check_dmarc("monentreprise.local", resolver=resolver)
    assert spf.verdict == "temperror"
    (finding,) = spf.findings
    assert "TXT query for monentreprise.local failed" in finding.message
    assert "systemctl status named" in finding.message
    assert dmarc.record is None and dmarc.findings
