"""TLS probes: the certificate, the protocol versions and the weak ciphers.

Each TLS port is probed as a client sees it, STARTTLS first where the port
speaks it (25 and 587 SMTP, 143 IMAP, 110 POP3).  Old versions are offered
with `@SECLEVEL=0` in the client's cipher string, since Debian's OpenSSL
does not offer TLS 1.0 or 1.1 at its default level; before a refusal counts,
a loopback handshake checks that this client can offer that version at all.
RC4 and export suites are gone from OpenSSL 3, so they are offered in a
ClientHello written by hand (`weak_hello`), checked against a good suite.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import os
import socket
import ssl
import tempfile
import threading
import warnings
from collections.abc import Iterator, Sequence

from maillab.probes.hello import HelloAnswer, client_hello, read_answer
from maillab.probes.result import (
    LabRefused,
    ProbeResult,
    Session,
    Transcript,
    attempt,
)

DEFAULT_TIMEOUT = 5.0
LEGACY_CIPHERS = "DEFAULT:@SECLEVEL=0"
# Shortcoming: SSLv3 is not tried; this OpenSSL is built without it, so it
# could only ever be reported as "could not test".
VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_WEAK_VERSIONS = ("TLSv1", "TLSv1.1")
_TLS_VERSION = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}
STARTTLS_PORTS = {25: "smtp", 587: "smtp", 143: "imap", 110: "pop3"}

# IANA numbers of the suites that must never be chosen.  Shortcoming: a
# representative set (RSA, DHE, ECDHE and anonymous RC4 and export suites),
# not every registered one (the DH_DSS/DH_RSA and KRB5 export suites are left
# out: no server of this lab has such keys).
WEAK_SUITES = {
    0x0004: "RSA_WITH_RC4_128_MD5",
    0x0005: "RSA_WITH_RC4_128_SHA",
    0xC007: "ECDHE_ECDSA_WITH_RC4_128_SHA",
    0xC011: "ECDHE_RSA_WITH_RC4_128_SHA",
    0x0018: "DH_anon_WITH_RC4_128_MD5",
    0x0003: "RSA_EXPORT_WITH_RC4_40_MD5",
    0x0006: "RSA_EXPORT_WITH_RC2_CBC_40_MD5",
    0x0008: "RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0011: "DHE_DSS_EXPORT_WITH_DES40_CBC_SHA",
    0x0014: "DHE_RSA_EXPORT_WITH_DES40_CBC_SHA",
    0x0017: "DH_anon_EXPORT_WITH_RC4_40_MD5",
    0x0062: "RSA_EXPORT1024_WITH_DES_CBC_SHA",
    0x0064: "RSA_EXPORT1024_WITH_RC4_56_SHA",
}
# Suites any TLS 1.2 server of the lab accepts: the control of the hand-made hello.
GOOD_SUITES = {
    0xC02F: "ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    0xC030: "ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    0x009E: "DHE_RSA_WITH_AES_128_GCM_SHA256",
    0x009C: "RSA_WITH_AES_128_GCM_SHA256",
}


def client_context(
    *, version: str | None = None, ciphers: str | None = None
) -> ssl.SSLContext:
    """A client context that does not verify: probes judge names themselves."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if ciphers:
        context.set_ciphers(ciphers)
    if version:
        with warnings.catch_warnings():  # TLSv1 and TLSv1_1 are deprecated names
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = _TLS_VERSION[version]
    return context


def describe_tls(sock: ssl.SSLSocket) -> str:
    cipher = sock.cipher()
    return f"TLS up: {sock.version()}, {cipher[0] if cipher else '?'}"


def starttls_for(port: int, starttls: str | None) -> str | None:
    """The plaintext protocol to speak before TLS; "auto" goes by the port."""
    return STARTTLS_PORTS.get(port) if starttls == "auto" else starttls


@contextlib.contextmanager
def open_plain(
    session: Session, starttls: str | None, *, timeout: float
) -> Iterator[socket.socket]:
    """A TCP connection, brought to the point where the ClientHello goes."""
    sock = socket.create_connection((session.address, session.port), timeout=timeout)
    try:
        session.connected(sock.getsockname())
        if starttls:
            _PRELUDES[starttls](sock, session.transcript)
        yield sock
    finally:
        sock.close()


def _lines(sock: socket.socket) -> Iterator[str]:
    reader = sock.makefile("rb")
    while line := reader.readline(4096):
        yield line.decode("utf-8", "replace").rstrip("\r\n")
    raise EOFError("the server closed the connection")


def _say(sock: socket.socket, transcript: Transcript, line: str) -> None:
    transcript.client(line)
    sock.sendall(line.encode() + b"\r\n")


def _smtp_reply(lines: Iterator[str], transcript: Transcript) -> str:
    while True:
        line = next(lines)
        transcript.server(line)
        if line[3:4] != "-":
            return line


def _smtp_prelude(sock: socket.socket, transcript: Transcript) -> None:
    lines = _lines(sock)
    _smtp_reply(lines, transcript)
    _say(sock, transcript, "EHLO mx.exterieur.test")
    _smtp_reply(lines, transcript)
    _say(sock, transcript, "STARTTLS")
    if not _smtp_reply(lines, transcript).startswith("220"):
        raise LabRefused("the server refused STARTTLS")


def _imap_prelude(sock: socket.socket, transcript: Transcript) -> None:
    lines = _lines(sock)
    transcript.server(next(lines))
    _say(sock, transcript, "t1 STARTTLS")
    while not (line := next(lines)).startswith("t1 "):
        transcript.server(line)
    transcript.server(line)
    if not line.startswith("t1 OK"):
        raise LabRefused("the server refused STARTTLS")


def _pop3_prelude(sock: socket.socket, transcript: Transcript) -> None:
    lines = _lines(sock)
    transcript.server(next(lines))
    _say(sock, transcript, "STLS")
    line = next(lines)
    transcript.server(line)
    if not line.startswith("+OK"):
        raise LabRefused("the server refused STLS")


_PRELUDES = {"smtp": _smtp_prelude, "imap": _imap_prelude, "pop3": _pop3_prelude}


def _handshake(
    session: Session, starttls: str | None, context: ssl.SSLContext, timeout: float
) -> tuple[str, bytes]:
    """The negotiated version and the server's certificate (DER)."""
    with (
        open_plain(session, starttls, timeout=timeout) as raw,
        context.wrap_socket(raw) as sock,
    ):
        session.transcript.note(describe_tls(sock))
        return str(sock.version()), sock.getpeercert(binary_form=True) or b""


def probe_certificate(
    *,
    address: str,
    port: int,
    hostname: str = "mail.monentreprise.local",
    min_days: int = 14,
    starttls: str | None = "auto",
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """The certificate names `hostname` in its SAN and has `min_days` left.

    Pass a verifying `context` (one that trusts the lab's certificate) to also
    check the chain; by default the probe only reads the certificate.
    """
    from cryptography import x509  # paramiko's dependency; only needed here

    def body(session: Session) -> ProbeResult:
        mode = starttls_for(port, starttls)
        _, der = _handshake(session, mode, context or client_context(), timeout)
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        names = _san_names(cert)
        left = cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)
        facts = f"subject {subject}; SAN {', '.join(names) or 'none'}"
        session.transcript.note(f"{facts}; expires {cert.not_valid_after_utc:%F}")
        if not any(_matches(name, hostname) for name in names):
            return session.failed(f"{hostname} is not in the SAN ({facts})")
        if left.days < min_days:
            return session.failed(f"{left.days} days left, fewer than {min_days}")
        return session.passed(f"{facts}; {left.days} days left")

    return attempt(Session("tls.certificate", address, port), body)


def _san_names(cert: object) -> list[str]:
    from cryptography import x509

    assert isinstance(cert, x509.Certificate)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in san.value.get_values_for_type(x509.DNSName)]


def _matches(pattern: str, hostname: str) -> bool:
    if pattern.startswith("*."):
        return hostname.partition(".")[2].lower() == pattern[2:].lower()
    return pattern.lower() == hostname.lower()


def probe_protocols(
    *,
    address: str,
    port: int,
    starttls: str | None = "auto",
    versions: Sequence[str] = VERSIONS,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """Only TLS 1.2 and later are accepted; each version is tried on its own."""

    def body(session: Session) -> ProbeResult:
        mode = starttls_for(port, starttls)
        accepted = [v for v in versions if _accepts(session, mode, v, timeout)]
        weak = [v for v in accepted if v in _WEAK_VERSIONS]
        untested = [
            v
            for v in versions
            if v in _WEAK_VERSIONS and v not in accepted and not can_offer(v)
        ]
        if weak:
            return session.failed(f"accepts {', '.join(weak)} (below TLS 1.2)")
        if untested:
            return session.errored(
                f"could not test {', '.join(untested)}: this client cannot offer it"
            )
        if not accepted:
            return session.failed("accepts no TLS version at all")
        return session.passed(f"accepts {', '.join(accepted)} only")

    return attempt(Session("tls.protocols", address, port), body)


def _accepts(
    session: Session, starttls: str | None, version: str, timeout: float
) -> bool:
    context = client_context(version=version, ciphers=LEGACY_CIPHERS)
    try:
        negotiated, _ = _handshake(session, starttls, context, timeout)
    except ssl.SSLError as exc:
        session.transcript.note(
            f"{version}: refused ({getattr(exc, 'reason', None) or exc})"
        )
        return False
    except (ConnectionResetError, EOFError) as exc:
        session.transcript.note(f"{version}: refused ({type(exc).__name__})")
        return False
    session.transcript.note(f"{version}: accepted ({negotiated})")
    return negotiated == version


@functools.cache
def can_offer(version: str) -> bool:
    """Whether this client completes a `version` handshake with itself on loopback."""
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with _throwaway_certificate() as (cert, key):
        server.load_cert_chain(cert, key)
    server.set_ciphers(LEGACY_CIPHERS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        server.minimum_version = server.maximum_version = _TLS_VERSION[version]
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(DEFAULT_TIMEOUT)
        thread = threading.Thread(target=_serve_once, args=(listener, server))
        thread.start()
        try:
            client = client_context(version=version, ciphers=LEGACY_CIPHERS)
            address = listener.getsockname()
            with (
                socket.create_connection(address, timeout=DEFAULT_TIMEOUT) as raw,
                client.wrap_socket(raw) as sock,
            ):
                return sock.version() == version
        except OSError:
            return False
        finally:
            thread.join(DEFAULT_TIMEOUT)


def _serve_once(listener: socket.socket, context: ssl.SSLContext) -> None:
    with contextlib.suppress(OSError):
        conn, _ = listener.accept()
        conn.settimeout(DEFAULT_TIMEOUT)
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)


@contextlib.contextmanager
def _throwaway_certificate() -> Iterator[tuple[str, str]]:
    """A self-signed certificate and key in a temporary folder, for loopback only."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as folder:
        cert_path = os.path.join(folder, "cert.pem")
        key_path = os.path.join(folder, "key.pem")
        with open(cert_path, "wb") as out:
            out.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(key_path, "wb") as out:
            out.write(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
        yield cert_path, key_path


def probe_weak_ciphers(
    *,
    address: str,
    port: int,
    starttls: str | None = "auto",
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """No RC4 or export suite is chosen when a client offers only those.

    A control hello with good suites must be accepted first, or the hand-made
    hello is not trusted and the result is an error.
    """

    def body(session: Session) -> ProbeResult:
        mode = starttls_for(port, starttls)
        control = _offer(session, mode, GOOD_SUITES, timeout)
        if not control.accepted:
            return session.errored("the control ClientHello was refused: no test")
        answer = _offer(session, mode, WEAK_SUITES, timeout)
        if answer.accepted:
            chosen = WEAK_SUITES.get(answer.suite or 0, hex(answer.suite or 0))
            return session.failed(f"chose the weak suite {chosen}")
        how = f"alert {answer.alert}" if answer.alert is not None else "closed"
        return session.passed(f"refused every RC4 and export suite ({how})")

    return attempt(Session("tls.weak-ciphers", address, port), body)


def _offer(
    session: Session, starttls: str | None, suites: dict[int, str], timeout: float
) -> HelloAnswer:
    with open_plain(session, starttls, timeout=timeout) as sock:
        session.transcript.client(f"<ClientHello: {', '.join(suites.values())}>")
        sock.sendall(client_hello(list(suites)))
        answer = read_answer(sock)
    if answer.accepted:
        chosen = suites.get(answer.suite or 0, hex(answer.suite or 0))
        session.transcript.server(f"<ServerHello: {chosen}>")
    else:
        session.transcript.server(f"<refused: alert {answer.alert}>")
    return answer
