"""Lint a whole lab, or files on disk: each format's linter, then the cross checks.

This module does the I/O that the format modules leave out: it reads the
lab's live files through a Host (or local files by name), then hands the
texts to the pure `lint_*` and `check_*` functions.
"""

from __future__ import annotations

import glob
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from maillab.config import (
    autoconfig,
    crosscheck,
    dovecot,
    dovecot_lint,
    opendkim,
    roundcube,
    zone,
)
from maillab.config import spamassassin as sa
from maillab.config.aliases import lint_aliases, parse_aliases
from maillab.config.dovecot_defaults import DovecotDefaults, load_dovecot_defaults
from maillab.config.findings import Finding, Severity
from maillab.config.postfix_main import (
    effective,
    lint_main_cf,
    parse_main_cf,
    parse_postconf,
    read_postconf_defaults,
)
from maillab.config.postfix_master import lint_master_cf, parse_master_cf
from maillab.errors import MaillabError, RemoteFileError
from maillab.remote.host import Host

log = logging.getLogger(__name__)

# File name -> format, for `maillab lint FILE...`.
FORMATS = {
    "main.cf": "main.cf",
    "master.cf": "master.cf",
    "aliases": "aliases",
    "dovecot.conf": "dovecot",
    "local.cf": "local.cf",
    "opendkim.conf": "opendkim",
    "config.inc.php": "roundcube",
    "config-v1.1.xml": "autoconfig",
    "autodiscover.xml": "autoconfig",
}


def format_of(path: str, explicit: str | None = None) -> str:
    """The format of a file, from --format or from its name."""
    known = sorted({*FORMATS.values(), "zone"})
    if explicit:
        if explicit not in known:
            raise MaillabError(
                f"unknown format {explicit!r}; use one of {', '.join(known)}"
            )
        return explicit
    name = Path(path).name
    if name in FORMATS:
        return FORMATS[name]
    if Path(path).parent.name == "conf.d" and name.endswith(".conf"):
        return "dovecot"
    if name.startswith("db.") or name.endswith(".zone"):
        return "zone"
    raise MaillabError(
        f"{path}: cannot tell its format from the name; "
        f"pass --format ({', '.join(known)})"
    )


def packaged_postconf_defaults() -> dict[str, str]:
    """Debian 12's `postconf -d` (Postfix 3.7), shipped for linting files offline."""
    data = resources.files("maillab.config").joinpath("data", "postconf-d-debian12.txt")
    return parse_postconf(data.read_text())


def packaged_dovecot_defaults() -> DovecotDefaults:
    """Debian 12's Dovecot 2.3.19 defaults, shipped for linting files offline."""
    folder = resources.files("maillab.config").joinpath("data", "dovecot-debian12")
    return load_dovecot_defaults(str(folder))


# -- files on disk ------------------------------------------------------------------


def lint_paths(paths: Iterable[str], *, format: str | None = None) -> list[Finding]:
    """Lint files on this machine, each by its own format."""
    findings: list[Finding] = []
    for path in paths:
        kind = format_of(path, format)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise MaillabError(f"{path}: cannot read it ({exc.strerror})") from None
        findings += _LOCAL[kind](path, data)
    return findings


def _local_main_cf(path: str, data: bytes) -> list[Finding]:
    defaults = packaged_postconf_defaults()
    conf = parse_main_cf(data, path=path)
    view = crosscheck.PostfixView(conf, effective(conf, defaults), parse_master_cf(""))
    return lint_main_cf(conf, path=path, defaults=defaults) + (
        crosscheck.check_postfix_tls(view)
    )


def _local_dovecot(path: str, data: bytes) -> list[Finding]:
    defaults = packaged_dovecot_defaults()
    config = dovecot.parse_dovecot(
        str(Path(path).absolute()), files=DiskLoader(), defaults=defaults
    )
    return dovecot_lint.lint_dovecot(config, defaults=defaults)


class DiskLoader:
    """Dovecot's includes, read from this machine's disk."""

    def read(self, path: str) -> bytes | None:
        try:
            return Path(path).read_bytes()
        except OSError:
            return None

    def glob(self, pattern: str) -> list[str]:
        return sorted(glob.glob(pattern))


_LAB_DOMAINS = ("monentreprise.local", "mail.monentreprise.local", "localhost")

_LOCAL: dict[str, Callable[[str, bytes], list[Finding]]] = {
    "main.cf": lambda p, d: _local_main_cf(p, d),
    "master.cf": lambda p, d: lint_master_cf(d, path=p),
    # Files on disk come without their machine: the lab's own domains stand in.
    "aliases": lambda p, d: lint_aliases(d, path=p, local_domains=_LAB_DOMAINS),
    "dovecot": _local_dovecot,
    "local.cf": lambda p, d: sa.lint_local_cf(d, path=p),
    "opendkim": lambda p, d: opendkim.lint_opendkim(d, path=p),
    "roundcube": lambda p, d: roundcube.lint_roundcube_config(d, path=p),
    "zone": lambda p, d: zone.lint_zone(d, path=p, origin=_origin(p)),
    "autoconfig": lambda p, d: autoconfig.lint_autoconfig(d, path=p),
}


def _origin(path: str) -> str:
    """db.monentreprise.local -> monentreprise.local. (the chapter's naming)."""
    name = Path(path).name
    domain = name[3:] if name.startswith("db.") else name.removesuffix(".zone")
    return domain.rstrip(".") + "."


# -- a live lab ---------------------------------------------------------------------


@dataclass
class LabTexts:
    """The lab files the linters need, read once from the host."""

    host: Host

    def read(self, path: str) -> str | None:
        try:
            return self.host.read(path)
        except RemoteFileError:
            return None


def lint_lab(host: Host) -> list[Finding]:
    """Every linter on the lab's live files, then the checks across files."""
    texts = LabTexts(host)
    defaults = read_postconf_defaults(host)
    main = parse_main_cf(texts.read("/etc/postfix/main.cf") or "")
    master = parse_master_cf(texts.read("/etc/postfix/master.cf") or "")
    users = _users(host)
    findings = lint_main_cf(main, defaults=defaults, master=master)
    findings += lint_master_cf(
        master, defaults=defaults, main_values=main.values, local_users=users
    )
    postfix = crosscheck.PostfixView(
        main, effective(main, defaults, master=master), master
    )
    findings += _lint_aliases(texts, users, postfix)
    findings += _lint_dovecot(host, postfix)
    findings += _lint_spamassassin(texts)
    findings += _lint_opendkim(host, texts, postfix)
    findings += _lint_roundcube(texts, postfix)
    findings += crosscheck.check_sizes(postfix)
    findings += crosscheck.check_postfix_tls(postfix)
    findings += _lint_web_and_dns(texts)
    return findings


_LAB_ZONE = "/etc/bind/zones/db.monentreprise.local"
_AUTOCONFIG = (
    "/var/www/autoconfig/mail/config-v1.1.xml",
    "/var/www/autodiscover/autodiscover.xml",
)


def _lint_web_and_dns(texts: LabTexts) -> list[Finding]:
    findings: list[Finding] = []
    text = texts.read(_LAB_ZONE)
    if text is not None:
        findings += zone.lint_zone(text, path=_LAB_ZONE, origin="monentreprise.local.")
    for path in _AUTOCONFIG:
        script = path.removesuffix(".xml") + ".php"
        if path.endswith("autodiscover.xml") and texts.read(script) is not None:
            continue  # served through the script, which fills in LoginName
        text = texts.read(path)
        if text is not None:
            findings += autoconfig.lint_autoconfig(
                text, path=path, domain="monentreprise.local"
            )
    return findings


def _users(host: Host) -> set[str]:
    return {
        line.split(":", 1)[0]
        for line in host.check_output(["getent", "passwd"]).splitlines()
        if ":" in line
    }


def _lint_aliases(
    texts: LabTexts, users: set[str], postfix: crosscheck.PostfixView
) -> list[Finding]:
    text = texts.read("/etc/aliases")
    if text is None:
        return []
    domains = {
        d.strip() for d in postfix.value("mydestination").replace(",", " ").split()
    }
    return lint_aliases(parse_aliases(text), local_users=users, local_domains=domains)


def _lint_dovecot(host: Host, postfix: crosscheck.PostfixView) -> list[Finding]:
    from maillab.config.dovecot_defaults import fetch_dovecot_defaults

    tree = dovecot.read_dovecot_tree(host)
    defaults = fetch_dovecot_defaults(host)
    config = dovecot.parse_dovecot(files=tree, defaults=defaults)
    return dovecot_lint.lint_dovecot(
        config, defaults=defaults
    ) + crosscheck.check_postfix_dovecot(postfix, config)


def _lint_spamassassin(texts: LabTexts) -> list[Finding]:
    text = texts.read("/etc/spamassassin/local.cf")
    return (
        []
        if text is None
        else sa.lint_local_cf(text, path="/etc/spamassassin/local.cf")
    )


def _lint_opendkim(
    host: Host, texts: LabTexts, postfix: crosscheck.PostfixView
) -> list[Finding]:
    path = "/etc/opendkim.conf"
    text = texts.read(path)
    if text is None:
        return []
    conf = opendkim.parse_opendkim_conf(text, path=path)
    tables = {
        name: _table_text(texts, conf, name)
        for name in ("KeyTable", "SigningTable", "InternalHosts")
    }
    findings = opendkim.lint_opendkim(
        conf,
        path=path,
        key_table=tables["KeyTable"],
        signing_table=tables["SigningTable"],
        trusted_hosts=tables["InternalHosts"],
    )
    groups = set(host.check_output(["id", "-nG", "postfix"]).split())
    findings += crosscheck.check_postfix_opendkim(postfix, conf, postfix_groups=groups)
    if tables["KeyTable"] is not None:
        findings += _lint_dkim_keys(host, tables["KeyTable"])
    return findings


def _lint_dkim_keys(host: Host, key_table: str) -> list[Finding]:
    """Each KeyTable key against the public key its selector publishes in DNS."""
    from maillab.dns import check_dkim_key, lab_resolver

    findings: list[Finding] = []
    resolver = lab_resolver(host)
    for entry in opendkim.parse_key_table(key_table).entries:
        if not entry.is_path:
            continue
        try:
            private = host.read(entry.key)  # secret: only compared, never shown
        except RemoteFileError:
            continue  # lint_opendkim's check_files reports missing key files
        check = check_dkim_key(
            entry.selector, entry.domain, resolver=resolver, private_pem=private
        )
        findings += check.findings
    return findings


def _table_text(texts: LabTexts, conf: opendkim.OpendkimConf, name: str) -> str | None:
    setting = conf.get(name)
    if setting is None:
        return None
    value = setting.value.strip()
    path = value.split(":", 1)[1] if ":" in value.split("/", 1)[0] else value
    return texts.read(path) if path.startswith("/") else None


def _lint_roundcube(texts: LabTexts, postfix: crosscheck.PostfixView) -> list[Finding]:
    path = "/etc/roundcube/config.inc.php"
    text = texts.read(path)
    if text is None:
        return []
    config = roundcube.parse_roundcube_config(text, path=path)
    limit = config.get("max_message_size")
    sizes = crosscheck.check_sizes(
        postfix,
        roundcube_max=limit if isinstance(limit, str) else None,
        roundcube_path=path,
    )
    webmail = [f for f in sizes if f.code == "cross.webmail-size"]
    return roundcube.lint_roundcube_config(config, path=path) + webmail


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == Severity.ERROR for f in findings)
