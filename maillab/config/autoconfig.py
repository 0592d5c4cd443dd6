"""Mail client auto-configuration: Mozilla config-v1.1.xml and Outlook autodiscover.

The XML is read with the standard library's expat (the parser under
xml.etree), so that every element keeps its line; a DTD or an entity
declaration is refused (a client configuration never needs one, and it is
how entity-expansion attacks come in).
"""

from __future__ import annotations

import logging
import re
import xml.parsers.expat
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from maillab.config.findings import ConfigSyntaxError, Finding, Severity

if TYPE_CHECKING:
    from maillab.remote.host import Host

log = logging.getLogger(__name__)

AUTODISCOVER_NS = (
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
)
OUTLOOK_NS = (
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)
# What Thunderbird accepts (its autoconfig reader and the config-v1.1 spec).
SOCKET_TYPES = frozenset({"plain", "SSL", "STARTTLS"})
AUTHENTICATIONS = frozenset(
    {
        "password-cleartext",
        "password-encrypted",
        "NTLM",
        "GSSAPI",
        "client-IP-address",
        "TLS-client-cert",
        "OAuth2",
        "none",
    }
)
INCOMING_TYPES = frozenset({"imap", "pop3"})
OUTGOING_TYPES = frozenset({"smtp"})
PLACEHOLDERS = frozenset({"%EMAILADDRESS%", "%EMAILLOCALPART%", "%EMAILDOMAIN%"})
PROTOCOL_TYPES = frozenset({"IMAP", "POP3", "SMTP", "EXCH", "EXPR", "WEB"})
ON_OFF_FIELDS = (
    "DomainRequired",
    "SPA",
    "SSL",
    "AuthRequired",
    "UsePOPAuth",
    "SMTPLast",
)
ENCRYPTIONS = frozenset({"None", "SSL", "TLS", "Auto"})
TLS_PORTS = {"imap": 993, "pop3": 995, "smtp": 465}
STARTTLS_PORTS = {"imap": 143, "pop3": 110, "smtp": 587}


@dataclass
class Element:
    """An XML element with its namespace, text and line."""

    tag: str  # local name
    namespace: str
    attributes: dict[str, str]
    line: int
    children: list[Element] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> Element | None:
        return next((c for c in self.children if c.tag == tag), None)

    def findall(self, tag: str) -> list[Element]:
        return [c for c in self.children if c.tag == tag]

    def value(self, tag: str) -> str | None:
        child = self.find(tag)
        return child.text.strip() if child is not None else None

    def walk(self, path: str = "") -> list[tuple[str, str, int]]:
        """(path, text, line) for this element and every one below it."""
        here = f"{path}/{self.tag}"
        rows = [(here, self.text.strip(), self.line)]
        for child in self.children:
            rows += child.walk(here)
        return rows


def parse_xml(data: str | bytes, *, path: str = "config.xml") -> Element:
    """The root element; ConfigSyntaxError when the XML is not well-formed."""
    parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
    stack: list[Element] = []
    roots: list[Element] = []

    def refuse_dtd(*_: object) -> None:
        raise ConfigSyntaxError(
            path,
            parser.CurrentLineNumber,
            "a DTD or entity declaration",
            "remove the <!DOCTYPE ...>: client configurations do not use one",
        )

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, _, tag = name.rpartition(" ")
        element = Element(tag, namespace, attributes, parser.CurrentLineNumber)
        (stack[-1].children if stack else roots).append(element)
        stack.append(element)

    def end(_: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        if stack:
            stack[-1].text += data

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    try:
        parser.Parse(data, True)
    except xml.parsers.expat.ExpatError as exc:
        message = xml.parsers.expat.ErrorString(exc.code)
        raise ConfigSyntaxError(
            path,
            exc.lineno,
            f"not well-formed XML: {message}",
            "correct the XML (every tag closed, & written &amp;)",
        ) from None
    return roots[0]


@dataclass(frozen=True)
class Server:
    """An incoming or outgoing server of either format, normalized."""

    direction: str  # "incoming" or "outgoing"
    protocol: str  # imap, pop3, smtp
    hostname: str | None
    port: int | None
    security: str | None  # SSL, STARTTLS, plain (autodiscover mapped to these)
    username: str | None
    line: int


def mozilla_servers(root: Element) -> list[Server]:
    """The servers of a config-v1.1.xml."""
    provider = root.find("emailProvider")
    if provider is None:
        return []
    servers = []
    for kind in ("incomingServer", "outgoingServer"):
        for element in provider.findall(kind):
            servers.append(
                Server(
                    "incoming" if kind == "incomingServer" else "outgoing",
                    element.attributes.get("type", ""),
                    element.value("hostname"),
                    _port(element.value("port")),
                    element.value("socketType"),
                    element.value("username"),
                    element.line,
                )
            )
    return servers


def autodiscover_servers(root: Element) -> list[Server]:
    """The servers of an Outlook autodiscover response."""
    account = _account(root)
    if account is None:
        return []
    servers = []
    for protocol in account.findall("Protocol"):
        kind = (protocol.value("Type") or "").upper()
        servers.append(
            Server(
                "outgoing" if kind == "SMTP" else "incoming",
                kind.lower(),
                protocol.value("Server"),
                _port(protocol.value("Port")),
                autodiscover_security(protocol),
                protocol.value("LoginName"),
                protocol.line,
            )
        )
    return servers


def _account(root: Element) -> Element | None:
    response = root.find("Response")
    return response.find("Account") if response is not None else None


def autodiscover_security(protocol: Element) -> str | None:
    """Encryption wins over SSL; TLS means STARTTLS, SSL means TLS at once."""
    encryption = protocol.value("Encryption")
    if encryption is not None:
        return {"SSL": "SSL", "TLS": "STARTTLS", "None": "plain"}.get(encryption)
    ssl = protocol.value("SSL")
    return None if ssl is None else "SSL" if ssl == "on" else "plain"


def _port(text: str | None) -> int | None:
    return int(text) if text and re.fullmatch(r"\d{1,5}", text) else None


def kind_of(root: Element) -> str:
    """ "mozilla", "autodiscover" or "unknown", from the root element."""
    if root.tag == "clientConfig":
        return "mozilla"
    if root.tag == "Autodiscover":
        return "autodiscover"
    return "unknown"


def read_autoconfig(host: Host, path: str) -> Element:
    """Fetch and parse an autoconfig or autodiscover file from a lab machine."""
    return parse_xml(host.read(path).encode(), path=path)


# --- linting ------------------------------------------------------------


def lint_autoconfig(
    data: str | bytes | Element,
    *,
    path: str = "config-v1.1.xml",
    domain: str | None = None,
) -> list[Finding]:
    """Findings for a config-v1.1.xml or an autodiscover.xml; never raises.

    `domain` is the mail domain the file should describe, when known.
    """
    lint = _Lint(path)
    try:
        root = data if isinstance(data, Element) else lint.parse(data)
        if root is not None:
            lint.check(root, domain)
    except Exception:  # a linter never raises: report the bug as a finding
        log.exception("lint_autoconfig failed on %s", path)
        lint.add(
            Severity.ERROR,
            None,
            "the linter failed on this file",
            "report a bug",
            "autoconfig.lint-failed",
        )
    return sorted(lint.findings, key=lambda f: f.line or 0)


@dataclass
class _Lint:
    path: str
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, severity: Severity, line: int | None, message: str, fix: str, code: str
    ) -> None:
        self.findings.append(Finding(severity, self.path, line, message, fix, code))

    def parse(self, data: str | bytes) -> Element | None:
        if isinstance(data, bytes):
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                self.add(
                    Severity.ERROR,
                    None,
                    f"not valid UTF-8 at byte {exc.start}",
                    "save the file as UTF-8",
                    "autoconfig.not-utf8",
                )
                return None
        try:
            return parse_xml(data, path=self.path)
        except ConfigSyntaxError as exc:
            self.add(
                Severity.ERROR,
                exc.line,
                str(exc).split(": ", 1)[-1].split("; ")[0],
                exc.fix,
                "autoconfig.syntax",
            )
            return None

    def check(self, root: Element, domain: str | None) -> None:
        kind = kind_of(root)
        if kind == "mozilla":
            self.check_mozilla(root, domain)
        elif kind == "autodiscover":
            self.check_autodiscover(root)
        else:
            self.add(
                Severity.ERROR,
                root.line,
                f"root element <{root.tag}> is neither "
                "clientConfig (Thunderbird) nor Autodiscover (Outlook)",
                'start with <clientConfig version="1.1">',
                "autoconfig.unknown-root",
            )

    # Mozilla -------------------------------------------------------------

    def check_mozilla(self, root: Element, domain: str | None) -> None:
        if root.attributes.get("version") != "1.1":
            self.add(
                Severity.WARNING,
                root.line,
                'clientConfig has no version="1.1"',
                'write <clientConfig version="1.1">',
                "autoconfig.version",
            )
        provider = root.find("emailProvider")
        if provider is None:
            self.add(
                Severity.ERROR,
                root.line,
                "no <emailProvider>",
                'add <emailProvider id="example.org"> with the servers',
                "autoconfig.missing-element",
            )
            return
        self.check_domains(provider, domain)
        for kind in ("incomingServer", "outgoingServer"):
            if provider.find(kind) is None:
                self.add(
                    Severity.ERROR,
                    provider.line,
                    f"no <{kind}>",
                    f"add an <{kind}> element",
                    "autoconfig.missing-element",
                )
        for server in provider.findall("incomingServer") + provider.findall(
            "outgoingServer"
        ):
            self.check_mozilla_server(server)

    def check_domains(self, provider: Element, domain: str | None) -> None:
        domains = [d.text.strip() for d in provider.findall("domain")]
        if not domains:
            self.add(
                Severity.ERROR,
                provider.line,
                "no <domain> in emailProvider",
                "add <domain>example.org</domain>",
                "autoconfig.missing-element",
            )
        elif domain and domain.lower() not in (d.lower() for d in domains):
            self.add(
                Severity.WARNING,
                provider.line,
                f"the file is for {', '.join(domains)}, not {domain}",
                f"add <domain>{domain}</domain>",
                "autoconfig.domain",
            )

    def check_mozilla_server(self, server: Element) -> None:
        outgoing = server.tag == "outgoingServer"
        kind = server.attributes.get("type", "")
        allowed = OUTGOING_TYPES if outgoing else INCOMING_TYPES
        if kind not in allowed:
            self.add(
                Severity.ERROR,
                server.line,
                f'<{server.tag} type="{kind}">: '
                f"the type must be {' or '.join(sorted(allowed))}",
                f'write type="{sorted(allowed)[0]}"',
                "autoconfig.server-type",
            )
        for name in ("hostname", "port", "socketType", "authentication", "username"):
            if server.find(name) is None:
                self.add(
                    Severity.ERROR,
                    server.line,
                    f"<{server.tag}> has no <{name}>",
                    f"add <{name}>",
                    "autoconfig.missing-element",
                )
        self.check_values(server, kind)

    def check_values(self, server: Element, kind: str) -> None:
        socket = server.value("socketType")
        if socket is not None and socket not in SOCKET_TYPES:
            self.add(
                Severity.ERROR,
                server.find("socketType").line,  # type: ignore[union-attr]
                f"socketType {socket!r} is not plain, SSL or STARTTLS "
                "(the case matters)",
                "write SSL or STARTTLS",
                "autoconfig.socket-type",
            )
        for element in server.findall("authentication"):
            if element.text.strip() not in AUTHENTICATIONS:
                self.add(
                    Severity.ERROR,
                    element.line,
                    f"authentication "
                    f"{element.text.strip()!r} is not one Thunderbird knows",
                    "write password-cleartext (over TLS)",
                    "autoconfig.authentication",
                )
        self.check_port(server.find("port"), kind, socket)
        self.check_username(server.find("username"))
        if socket == "plain" and server.value("authentication") == "password-cleartext":
            self.add(
                Severity.WARNING,
                server.line,
                "the password travels in clear "
                "(socketType plain with password-cleartext)",
                "use SSL or STARTTLS",
                "autoconfig.cleartext",
            )

    def check_port(
        self, element: Element | None, kind: str, security: str | None
    ) -> None:
        if element is None:
            return
        port = _port(element.text.strip())
        if port is None or not 0 < port < 65536:
            self.add(
                Severity.ERROR,
                element.line,
                f"port {element.text.strip()!r} is not a port number",
                "write a number such as 993",
                "autoconfig.port",
            )
            return
        problem = port_problem(kind, port, security)
        if problem:
            self.add(
                Severity.WARNING,
                element.line,
                problem,
                "use "
                f"{TLS_PORTS.get(kind)} with SSL or {STARTTLS_PORTS.get(kind)} "
                "with STARTTLS",
                "autoconfig.port-security",
            )

    def check_username(self, element: Element | None) -> None:
        if element is None:
            return
        for token in re.findall(r"%[A-Z]+%", element.text):
            if token not in PLACEHOLDERS:
                self.add(
                    Severity.WARNING,
                    element.line,
                    f"{token} is not a placeholder Thunderbird replaces",
                    "use %EMAILADDRESS% or %EMAILLOCALPART%",
                    "autoconfig.placeholder",
                )

    # Outlook -------------------------------------------------------------

    def check_autodiscover(self, root: Element) -> None:
        if root.namespace != AUTODISCOVER_NS:
            self.add(
                Severity.ERROR,
                root.line,
                f"<Autodiscover> is in namespace {root.namespace or '(none)'!r}",
                f'write xmlns="{AUTODISCOVER_NS}"',
                "autoconfig.namespace",
            )
        response = root.find("Response")
        if response is None:
            self.add(
                Severity.ERROR,
                root.line,
                "no <Response>",
                f'add <Response xmlns="{OUTLOOK_NS}">',
                "autoconfig.missing-element",
            )
            return
        if response.namespace != OUTLOOK_NS:
            self.add(
                Severity.ERROR,
                response.line,
                f"<Response> is in namespace "
                f"{response.namespace or '(none)'!r}; Outlook reads the "
                "account only in the outlook response schema",
                f'write xmlns="{OUTLOOK_NS}"',
                "autoconfig.namespace",
            )
        account = response.find("Account")
        if account is None:
            self.add(
                Severity.ERROR,
                response.line,
                "no <Account>",
                "add <Account> with AccountType, Action and Protocol",
                "autoconfig.missing-element",
            )
            return
        self.check_account(account)

    def check_account(self, account: Element) -> None:
        if account.value("AccountType") != "email":
            self.add(
                Severity.ERROR,
                account.line,
                "AccountType must be email",
                "write <AccountType>email</AccountType>",
                "autoconfig.account",
            )
        if account.value("Action") not in ("settings", "redirectUrl", "redirectAddr"):
            self.add(
                Severity.ERROR,
                account.line,
                "Action must be settings (or redirectUrl, redirectAddr)",
                "write <Action>settings</Action>",
                "autoconfig.account",
            )
        protocols = account.findall("Protocol")
        if not protocols:
            self.add(
                Severity.ERROR,
                account.line,
                "no <Protocol>",
                "add one <Protocol> per server",
                "autoconfig.missing-element",
            )
        for protocol in protocols:
            self.check_protocol(protocol)

    def check_protocol(self, protocol: Element) -> None:
        kind = (protocol.value("Type") or "").upper()
        if kind not in PROTOCOL_TYPES:
            self.add(
                Severity.ERROR,
                protocol.line,
                f"Protocol Type {kind!r} is not IMAP, POP3 or SMTP",
                "write <Type>IMAP</Type>",
                "autoconfig.server-type",
            )
        if protocol.find("Server") is None:
            self.add(
                Severity.ERROR,
                protocol.line,
                "<Protocol> has no <Server>",
                "add <Server>mail.example.org</Server>",
                "autoconfig.missing-element",
            )
        self.check_switches(protocol)
        self.check_port(
            protocol.find("Port"), kind.lower(), autodiscover_security(protocol)
        )
        self.check_login(protocol.find("LoginName"))

    def check_switches(self, protocol: Element) -> None:
        """The on/off fields and Encryption of a Protocol."""
        for name in ON_OFF_FIELDS:
            value = protocol.find(name)
            if value is not None and value.text.strip() not in ("on", "off"):
                self.add(
                    Severity.ERROR,
                    value.line,
                    f"{name} must be on or off",
                    f"write <{name}>on</{name}>",
                    "autoconfig.on-off",
                )
        encryption = protocol.find("Encryption")
        if encryption is not None and encryption.text.strip() not in ENCRYPTIONS:
            self.add(
                Severity.ERROR,
                encryption.line,
                "Encryption must be None, SSL, TLS or Auto",
                "write <Encryption>TLS</Encryption> for STARTTLS",
                "autoconfig.encryption",
            )

    def check_login(self, login: Element | None) -> None:
        if login is not None and "%" in login.text:
            self.add(
                Severity.WARNING,
                login.line,
                f"LoginName {login.text.strip()!r}: "
                "Outlook does not replace placeholders (that is Thunderbird's "
                "autoconfig); a static autodiscover.xml gives this text as the "
                "login",
                "answer the POST with a script that writes the address "
                "it receives (EMailAddress), or leave LoginName out",
                "autoconfig.autodiscover-placeholder",
            )


def port_problem(kind: str, port: int, security: str | None) -> str | None:
    """A port and a security mode that do not go together (SSL on 587...)."""
    if security == "SSL" and port == STARTTLS_PORTS.get(kind):
        return f"SSL (TLS from the first byte) on {port}, the STARTTLS port of {kind}"
    if security in ("STARTTLS", "plain") and port == TLS_PORTS.get(kind):
        return f"{security} on {port}, the TLS port of {kind}"
    return None


# --- editing ------------------------------------------------------------


def set_value(text: str, element_line: int, tag: str, value: str) -> str:
    """Text with the first <tag>...</tag> at or after a line set to `value`.

    Only that element's text changes; the rest of the file stays as written.
    """
    lines = text.splitlines(keepends=True)
    offset = sum(len(line) for line in lines[: max(element_line - 1, 0)])
    pattern = re.compile(
        rf"(<{re.escape(tag)}(?:\s[^>]*)?>)([^<]*)(</{re.escape(tag)}>)"
    )
    match = pattern.search(text, offset)
    if match is None:
        return text
    return text[: match.start(2)] + _escape(value) + text[match.end(2) :]


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def set_server_value(text: str, direction: str, tag: str, value: str) -> str:
    """Text with a value of the first incoming or outgoing server changed."""
    root = parse_xml(text)
    servers = (
        mozilla_servers(root)
        if kind_of(root) == "mozilla"
        else autodiscover_servers(root)
    )
    server = next((s for s in servers if s.direction == direction), None)
    if server is None:
        return text
    return set_value(text, server.line, tag, value)
