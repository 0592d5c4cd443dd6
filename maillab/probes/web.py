"""Web probes: the webmail over HTTPS, the HTTP redirect, and client autoconfig.

Requests go to the lab's address with the virtual host in `Host:` (no DNS
lookup on this side).  The autoconfig answers are read the way the clients
read them: Thunderbird's config-v1.1.xml (`socketType`, `%EMAILADDRESS%`)
and Outlook's autodiscover answer to a POST (`SSL`, with `Encryption` winning).
"""

from __future__ import annotations

import http.client
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

from maillab.probes.result import ProbeResult, Session, attempt
from maillab.probes.tls import client_context

DEFAULT_TIMEOUT = 5.0
DOMAIN = "monentreprise.local"
WEBMAIL = f"webmail.{DOMAIN}"
_AUTODISCOVER_NS = (
    "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
)
PROBE_ERRORS_WEB = (http.client.HTTPException, ET.ParseError)


@dataclass(frozen=True)
class MailServer:
    """One server of a client's account settings, as the client understands it."""

    protocol: str  # imap, pop3, smtp
    hostname: str
    port: int
    security: str  # SSL (TLS from the start), STARTTLS or plain
    username: str

    def __str__(self) -> str:
        return (
            f"{self.protocol.upper()} {self.hostname}:{self.port} {self.security} "
            f"user {self.username}"
        )


@dataclass(frozen=True)
class Page:
    status: int
    headers: dict[str, str]
    body: bytes


def fetch(
    session: Session,
    *,
    host_header: str,
    path: str = "/",
    method: str = "GET",
    body: bytes | None = None,
    tls: bool,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Page:
    """One HTTP(S) request to the lab, recorded in the session's transcript."""
    conn: http.client.HTTPConnection
    if tls:
        conn = http.client.HTTPSConnection(
            session.address,
            session.port,
            timeout=timeout,
            context=context or client_context(),
        )
    else:
        conn = http.client.HTTPConnection(
            session.address, session.port, timeout=timeout
        )
    try:
        conn.connect()
        assert conn.sock is not None
        session.connected(conn.sock.getsockname())
        headers = {"Host": host_header}
        if body is not None:
            headers["Content-Type"] = "text/xml"
        session.transcript.client(f"{method} {path} HTTP/1.1 (Host: {host_header})")
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        page = Page(response.status, dict(response.getheaders()), response.read())
    finally:
        conn.close()
    location = page.headers.get("Location")
    session.transcript.server(
        f"{page.status} {response.reason}"
        + (f" (Location: {location})" if location else "")
        + f" <body, {len(page.body)} bytes>"
    )
    return page


def _attempt_web(
    session: Session, body: Callable[[Session], ProbeResult]
) -> ProbeResult:
    """`attempt`, with HTTP and XML breakage also counted as errors."""

    def guarded(s: Session) -> ProbeResult:
        try:
            return body(s)
        except PROBE_ERRORS_WEB as exc:
            s.transcript.note(f"{type(exc).__name__}: {exc}")
            return s.errored(f"{type(exc).__name__}: {exc}")

    return attempt(session, guarded)


def probe_webmail(
    *,
    address: str,
    port: int = 443,
    host_header: str = WEBMAIL,
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """The webmail answers over HTTPS with Roundcube's login form."""
    # Shortcoming: the form is found in the HTML; logging in through it (which
    # needs Roundcube's session cookie and request token) is left to the
    # headless-browser tests.

    def body(session: Session) -> ProbeResult:
        page = fetch(
            session,
            host_header=host_header,
            tls=True,
            context=context,
            timeout=timeout,
        )
        text = page.body.decode("utf-8", "replace")
        if page.status != 200:
            return session.failed(f"https://{host_header}/ answered {page.status}")
        if 'name="_user"' not in text or 'name="_pass"' not in text:
            return session.failed("no login form (_user, _pass) on the page")
        return session.passed(f"https://{host_header}/ shows the login form")

    return _attempt_web(Session("web.webmail", address, port), body)


def probe_https_redirect(
    *,
    address: str,
    port: int = 80,
    host_header: str = WEBMAIL,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """http://<webmail>/ redirects to https://<webmail>/."""

    def body(session: Session) -> ProbeResult:
        page = fetch(session, host_header=host_header, tls=False, timeout=timeout)
        location = page.headers.get("Location", "")
        if page.status not in (301, 302, 307, 308):
            return session.failed(f"http://{host_header}/ answered {page.status}")
        if not location.startswith(f"https://{host_header}/"):
            return session.failed(f"redirects to {location!r}, not to HTTPS")
        return session.passed(f"{page.status} to {location}")

    return _attempt_web(Session("web.https-redirect", address, port), body)


def parse_autoconfig(text: bytes, email: str) -> list[MailServer]:
    """The servers of a config-v1.1.xml, placeholders filled as Thunderbird does."""
    root = ET.fromstring(text)
    local, _, domain = email.partition("@")
    fill = {
        "%EMAILADDRESS%": email,
        "%EMAILLOCALPART%": local,
        "%EMAILDOMAIN%": domain,
    }
    servers = []
    for tag in ("incomingServer", "outgoingServer"):
        for node in root.iter(tag):
            username = node.findtext("username", "")
            for token, value in fill.items():
                username = username.replace(token, value)
            security = node.findtext("socketType", "plain")
            servers.append(
                MailServer(
                    node.get("type", "?"),
                    node.findtext("hostname", ""),
                    int(node.findtext("port", "0")),
                    security,
                    username,
                )
            )
    return servers


def parse_autodiscover(text: bytes) -> list[MailServer]:
    """The servers of an Outlook autodiscover answer (Encryption wins over SSL)."""
    root = ET.fromstring(text)
    servers = []
    for node in root.iter(f"{_AUTODISCOVER_NS}Protocol"):

        def get(name: str, default: str = "", node: ET.Element = node) -> str:
            return node.findtext(f"{_AUTODISCOVER_NS}{name}", default).strip()

        servers.append(
            MailServer(
                get("Type").lower(),
                get("Server"),
                int(get("Port", "0") or 0),
                _outlook_security(get("SSL", "on"), get("Encryption")),
                get("LoginName"),
            )
        )
    return servers


def _outlook_security(ssl_flag: str, encryption: str) -> str:
    if encryption:
        return {"ssl": "SSL", "tls": "STARTTLS", "auto": "auto"}.get(
            encryption.lower(), "plain"
        )
    return "SSL" if ssl_flag.lower() == "on" else "plain"


def judge_servers(servers: list[MailServer], *, hostname: str, email: str) -> list[str]:
    """What a client would get wrong with these settings (empty: all good)."""
    problems = []
    if not any(s.protocol in ("imap", "pop3") for s in servers):
        problems.append("no incoming server")
    if not any(s.protocol == "smtp" for s in servers):
        problems.append("no outgoing server")
    for s in servers:
        if s.hostname.lower() != hostname.lower():
            problems.append(f"{s.protocol} server is {s.hostname!r}, not {hostname}")
        if s.security not in ("SSL", "STARTTLS", "auto"):
            problems.append(f"{s.protocol} on port {s.port} without TLS")
        if s.username != email:
            problems.append(f"{s.protocol} username {s.username!r}, not {email}")
    return problems


def probe_autoconfig(
    *,
    address: str,
    port: int = 80,
    domain: str = DOMAIN,
    email: str = f"jean@{DOMAIN}",
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """Thunderbird's GET http://autoconfig.<domain>/mail/config-v1.1.xml works."""

    def body(session: Session) -> ProbeResult:
        page = fetch(
            session,
            host_header=f"autoconfig.{domain}",
            path=f"/mail/config-v1.1.xml?emailaddress={email}",
            tls=False,
            timeout=timeout,
        )
        if page.status != 200:
            return session.failed(f"config-v1.1.xml answered {page.status}")
        return _judged(session, parse_autoconfig(page.body, email), domain, email)

    return _attempt_web(Session("web.autoconfig", address, port), body)


def probe_autodiscover(
    *,
    address: str,
    port: int = 443,
    domain: str = DOMAIN,
    email: str = f"jean@{DOMAIN}",
    context: ssl.SSLContext | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> ProbeResult:
    """Outlook's POST https://autodiscover.<domain>/autodiscover/autodiscover.xml."""
    request = (
        '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/'
        'outlook/requestschema/2006"><Request>'
        f"<EMailAddress>{email}</EMailAddress><AcceptableResponseSchema>"
        "http://schemas.microsoft.com/exchange/autodiscover/outlook/"
        "responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"
    )

    def body(session: Session) -> ProbeResult:
        page = fetch(
            session,
            host_header=f"autodiscover.{domain}",
            method="POST",
            path="/autodiscover/autodiscover.xml",
            body=request.encode(),
            tls=True,
            context=context,
            timeout=timeout,
        )
        if page.status != 200:
            return session.failed(f"autodiscover POST answered {page.status}")
        return _judged(session, parse_autodiscover(page.body), domain, email)

    return _attempt_web(Session("web.autodiscover", address, port), body)


def _judged(
    session: Session, servers: list[MailServer], domain: str, email: str
) -> ProbeResult:
    for server in servers:
        session.transcript.note(str(server))
    problems = judge_servers(servers, hostname=f"mail.{domain}", email=email)
    if problems:
        return session.failed("; ".join(problems))
    return session.passed("; ".join(str(s) for s in servers))
