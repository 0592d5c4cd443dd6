"""Checks between two files: the mistakes no single file shows.

Pure functions on parsed files: Postfix's sockets against Dovecot's
listeners and OpenDKIM's Socket, with Postfix's queue directory and chroot
taken into account; the users and modes those sockets need; size limits
that disagree.  Each returns findings and never raises.
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from maillab.config.dovecot import DovecotConfig, UnixListener
from maillab.config.findings import Finding, Severity
from maillab.config.opendkim import OpendkimConf
from maillab.config.postfix_main import Effective, MainConf
from maillab.config.postfix_master import MasterConf

DOVECOT_BASE_DIR = "/run/dovecot"


@dataclass(frozen=True)
class PostfixView:
    """What the checks need of Postfix: main.cf, its expanded values, master.cf."""

    main: MainConf
    effective: Effective
    master: MasterConf

    def value(self, name: str) -> str:
        return self.effective.expanded(name)

    def line(self, name: str) -> int | None:
        entry = self.main.entry(name)
        return entry.line if entry else None

    @property
    def queue_directory(self) -> str:
        return self.value("queue_directory") or "/var/spool/postfix"

    def is_chrooted(self, command: str) -> bool:
        """Whether master.cf runs this daemon (smtpd, cleanup...) in a chroot."""
        for service in self.master.services:
            if service.command == command:
                # "-" is the built-in default, n since Postfix 3.0.
                return service.chroot == "y"
        return False

    def socket_path(self, endpoint: str, *, client: str) -> str:
        """Where on disk a unix socket named in main.cf really is."""
        path = endpoint.split(":", 1)[1] if ":" in endpoint else endpoint
        if not path.startswith("/"):
            return posixpath.join(self.queue_directory, path)
        if self.is_chrooted(client):
            return self.queue_directory + path
        return path


def _finding(
    severity: Severity, file: str, line: int | None, message: str, fix: str, code: str
) -> Finding:
    return Finding(severity, file, line, message, fix, code)


# -- Postfix <-> Dovecot ---------------------------------------------------------------


def check_postfix_dovecot(
    postfix: PostfixView, dovecot: DovecotConfig
) -> list[Finding]:
    """The LMTP and SASL sockets Postfix uses must be Dovecot listeners it may open."""
    listeners = {_listener_path(x): x for x in dovecot.unix_listeners()}
    findings = []
    for name in ("mailbox_transport", "virtual_transport"):
        value = postfix.value(name)
        if value.startswith("lmtp:unix:"):
            path = postfix.socket_path(value[len("lmtp:") :], client="lmtp")
            findings += _socket_finding(postfix, name, path, listeners, "lmtp")
    if postfix.value("smtpd_sasl_type") == "dovecot" and _sasl_enabled(postfix):
        path = postfix.socket_path(postfix.value("smtpd_sasl_path"), client="smtpd")
        findings += _socket_finding(postfix, "smtpd_sasl_path", path, listeners, "auth")
    return findings


def _sasl_enabled(postfix: PostfixView) -> bool:
    if postfix.value("smtpd_sasl_auth_enable") == "yes":
        return True
    return any(
        o.name == "smtpd_sasl_auth_enable" and o.value == "yes"
        for s in postfix.master.services
        for o in s.options
    )


def _listener_path(listener: UnixListener) -> str:
    if listener.path.startswith("/"):
        return posixpath.normpath(listener.path)
    return posixpath.join(DOVECOT_BASE_DIR, listener.path)


def _socket_finding(
    postfix: PostfixView,
    name: str,
    path: str,
    listeners: Mapping[str, UnixListener],
    service: str,
) -> list[Finding]:
    listener = listeners.get(posixpath.normpath(path))
    main = postfix.main.path
    if listener is None:
        known = ", ".join(sorted(listeners)) or "none"
        return [
            _finding(
                Severity.ERROR,
                main,
                postfix.line(name),
                f"{name} = {postfix.value(name)} means the socket {path}, "
                f"but no Dovecot unix_listener is there (Dovecot's: {known})",
                f"in Dovecot's service {service}, add unix_listener {path} "
                "{ mode = 0600  user = postfix  group = postfix }",
                "cross.postfix-dovecot-socket",
            )
        ]
    if not _may_open(listener, "postfix"):
        return [
            _finding(
                Severity.ERROR,
                listener.file,
                listener.line,
                f"Postfix (user postfix) may not open {path}: mode "
                f"{listener.mode or '0666'}, user {listener.user or 'root'}, "
                f"group {listener.group or 'root'}",
                "set user = postfix (mode 0600) or group = postfix (mode 0660)",
                "cross.socket-permission",
            )
        ]
    return []


def _may_open(listener: UnixListener, user: str) -> bool:
    try:
        mode = int(listener.mode or "0666", 8)
    except ValueError:
        return False
    if listener.user == user:
        return mode & 0o600 == 0o600
    if listener.group == user:
        return mode & 0o060 == 0o060
    return mode & 0o006 == 0o006


# -- Postfix <-> OpenDKIM -------------------------------------------------------------


def check_postfix_opendkim(
    postfix: PostfixView,
    opendkim: OpendkimConf,
    *,
    postfix_groups: Collection[str] | None = None,
) -> list[Finding]:
    """Postfix's milter lists must name OpenDKIM's Socket, reachable by postfix.

    A list that names no milter at all is left alone (the student has not
    reached 7.3.5); a list whose milters all miss the Socket is an error.
    """
    setting = opendkim.get("Socket")
    if setting is None:
        return []
    socket = setting.value.strip()
    findings: list[Finding] = []
    for name, client in (("smtpd_milters", "smtpd"), ("non_smtpd_milters", "cleanup")):
        milters = postfix.value(name).replace(",", " ").split()
        if milters and not any(_reaches(postfix, m, client, socket) for m in milters):
            findings.append(
                _milter_finding(
                    postfix,
                    name,
                    milters[0],
                    client,
                    socket,
                    setting.line,
                    opendkim.path,
                )
            )
    if socket.startswith(("local:", "unix:")) and postfix_groups is not None:
        findings += _umask_finding(opendkim, postfix_groups)
    return findings


def _reaches(postfix: PostfixView, milter: str, client: str, socket: str) -> bool:
    if milter.startswith("unix:") and socket.startswith(("local:", "unix:")):
        path = postfix.socket_path(milter, client=client)
        return posixpath.normpath(path) == posixpath.normpath(socket.split(":", 1)[1])
    if milter.startswith("inet:") and socket.startswith("inet:"):
        port, _, host = socket[len("inet:") :].partition("@")
        return milter[len("inet:") :].rsplit(":", 1) == [host or "127.0.0.1", port]
    return False


def _milter_finding(
    postfix: PostfixView,
    name: str,
    milter: str,
    client: str,
    socket: str,
    line: int,
    dkim_path: str,
) -> Finding:
    message = (
        f"{name} = {postfix.value(name)} does not reach OpenDKIM's Socket {socket}"
    )
    if milter.startswith("unix:") and socket.startswith(("local:", "unix:")):
        path = postfix.socket_path(milter, client=client)
        where = " (inside its chroot)" if postfix.is_chrooted(client) else ""
        message = (
            f"{name} = {milter}: {client}{where} connects to {path}, but OpenDKIM "
            f"listens on {socket.split(':', 1)[1]} ({dkim_path}, line {line})"
        )
    return _finding(
        Severity.ERROR,
        postfix.main.path,
        postfix.line(name),
        message,
        _milter_fix(postfix, client, socket),
        "cross.postfix-opendkim-socket",
    )


def _milter_for(postfix: PostfixView, client: str, socket: str) -> str:
    if socket.startswith(("local:", "unix:")):
        path = socket.split(":", 1)[1]
        queue = postfix.queue_directory
        if postfix.is_chrooted(client) and path.startswith(queue + "/"):
            path = path[len(queue) :]
        return f"unix:{path}"
    port, _, host = socket[len("inet:") :].partition("@")
    return f"inet:{host or '127.0.0.1'}:{port}"


def _milter_fix(postfix: PostfixView, client: str, socket: str) -> str:
    queue = postfix.queue_directory
    path = socket.split(":", 1)[1] if ":" in socket else socket
    if (
        socket.startswith(("local:", "unix:"))
        and postfix.is_chrooted(client)
        and not path.startswith(queue + "/")
    ):
        return (
            f"{client} runs chrooted in {queue}: put OpenDKIM's socket under it "
            f"(Socket local:{queue}/opendkim/opendkim.sock) and use "
            "unix:/opendkim/opendkim.sock in main.cf"
        )
    return f"use {_milter_for(postfix, client, socket)} in main.cf"


def _umask_finding(
    opendkim: OpendkimConf, postfix_groups: Collection[str]
) -> list[Finding]:
    umask = opendkim.get("UMask")
    mask = int(umask.value, 8) if umask and umask.value.isdigit() else 0o022
    mode = 0o777 & ~mask  # of the socket OpenDKIM creates
    user = opendkim.get("UserID")
    group = (user.value.split(":")[-1] if user else "opendkim").strip()
    if mode & 0o002 or (mode & 0o020 and group in postfix_groups):
        return []
    return [
        _finding(
            Severity.ERROR,
            opendkim.path,
            umask.line if umask else None,
            f"the socket (mode {mode:03o}) is writable by group {group} at most, "
            "and postfix is not in it: Postfix says 'connect to Milter service "
            "...: Permission denied'",
            f"usermod -aG {group} postfix (with UMask 002), then restart Postfix",
            "cross.milter-permission",
        )
    ]


# -- sizes -----------------------------------------------------------------------------


def check_sizes(
    postfix: PostfixView,
    *,
    roundcube_max: str | None = None,
    roundcube_path: str = "config.inc.php",
) -> list[Finding]:
    """message_size_limit against the mailbox limit and the webmail's limit."""
    message = _number(postfix.value("message_size_limit"))
    mailbox = _number(postfix.value("mailbox_size_limit"))
    findings = []
    if message is not None and mailbox not in (None, 0) and mailbox < message:
        findings.append(
            _finding(
                Severity.ERROR,
                postfix.main.path,
                postfix.line("mailbox_size_limit"),
                f"mailbox_size_limit ({mailbox}) is smaller than message_size_limit "
                f"({message}): Postfix refuses to deliver",
                "make mailbox_size_limit at least message_size_limit (or 0, no limit)",
                "cross.size-limits",
            )
        )
    webmail = _size(roundcube_max) if roundcube_max else None
    if message and webmail and webmail > message:
        findings.append(
            _finding(
                Severity.WARNING,
                roundcube_path,
                None,
                f"max_message_size ({roundcube_max}) lets the webmail accept messages "
                f"that Postfix refuses (message_size_limit = {message} bytes)",
                f"set max_message_size to at most {message // 2**20}M (base64 "
                "makes attachments a third bigger, so lower is safer)",
                "cross.webmail-size",
            )
        )
    return findings


def _number(value: str) -> int | None:
    return int(value) if value.strip().isdigit() else None


def _size(text: str) -> int | None:
    text = text.strip().upper()
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    if text[-1:] in units and text[:-1].isdigit():
        return int(text[:-1]) * units[text[-1]]
    return int(text) if text.isdigit() else None


# -- TLS versions ----------------------------------------------------------------------

PROTOCOLS = ("SSLv2", "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
OBSOLETE = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"}


def allowed_protocols(value: str) -> set[str]:
    """The versions a Postfix *_tls_protocols value lets through.

    Postfix 3.6+ takes ">=TLSv1.2" / "<=TLSv1.3" bounds, a list of versions,
    or exclusions ("!SSLv2, !SSLv3"); an empty value allows them all.
    """
    words = value.replace(",", " ").replace(":", " ").split()
    allowed = set(PROTOCOLS)
    listed = {w for w in words if w in PROTOCOLS}
    if listed:
        allowed = listed
    for word in words:
        if word.startswith("!") and word[1:] in PROTOCOLS:
            allowed.discard(word[1:])
        elif word.startswith((">=", "<=")) and word[2:] in PROTOCOLS:
            bound = PROTOCOLS.index(word[2:])
            keep = PROTOCOLS[bound:] if word[0] == ">" else PROTOCOLS[: bound + 1]
            allowed &= set(keep)
    return allowed


def check_postfix_tls(postfix: PostfixView) -> list[Finding]:
    """The server side of Postfix must not accept TLS below 1.2.

    Only values main.cf sets are judged: Postfix's defaults still list TLSv1
    and TLSv1.1, but Debian 12's OpenSSL refuses them at its security level.
    """
    findings = []
    for name in ("smtpd_tls_protocols", "smtpd_tls_mandatory_protocols"):
        if postfix.line(name) is None:
            continue
        old = sorted(
            allowed_protocols(postfix.value(name)) & OBSOLETE, key=PROTOCOLS.index
        )
        if old:
            findings.append(
                _finding(
                    Severity.WARNING,
                    postfix.main.path,
                    postfix.line(name),
                    f"{name} = {postfix.value(name) or '(empty)'} still lets "
                    f"{', '.join(old)} through: versions with known attacks",
                    f"{name} = >=TLSv1.2",
                    "postfix.old-tls",
                )
            )
    return findings
