"""DNS and DKIM checks: the lab's BIND records, the key pair, the milter socket."""

from __future__ import annotations

import dns.exception
import dns.resolver

from maillab.dns.dkim_check import matches_private_key
from maillab.dns.resolver import lab_resolver
from maillab.errors import MaillabError
from maillab.grading.checks.postfix import main_values
from maillab.grading.context import Context
from maillab.grading.registry import CheckError, Verdict, check

KEY_DIR = "/etc/opendkim/keys/monentreprise.local"
POSTFIX_CHROOT = "/var/spool/postfix"


def txt(lab: Context, name: str) -> list[str]:
    """The TXT strings of a name, asked of the lab's own BIND."""
    resolver = lab_resolver(lab.address, lifetime=min(lab.timeout, 3.0))
    try:
        answer = resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.exception.DNSException as exc:
        raise CheckError(f"DNS query {name} TXT to {lab.address}: {exc}") from None
    return [b"".join(r.strings).decode("ascii", "replace") for r in answer]


@check("dns_txt")
def check_dns_txt(
    lab: Context, *, name: str, startswith: str, contains: list[str] | None = None
) -> Verdict:
    """A TXT record of `name` starts with a tag (v=spf1 ...) and has these words."""
    records = [r for r in txt(lab, name) if r.startswith(startswith)]
    if len(records) != 1:
        return Verdict(False, f"{name}: {len(records)} record(s) {startswith}")
    missing = [w for w in contains or [] if w not in records[0]]
    if missing:
        return Verdict(False, f"{name}: {records[0]} (missing {', '.join(missing)})")
    return Verdict(True, f"{name}: {records[0]}")


@check("dkim_key_published")
def check_dkim_key_published(
    lab: Context, *, selector: str = "mail", domain: str = "monentreprise.local"
) -> Verdict:
    """The DNS key record is the public half of OpenDKIM's private key."""
    name = f"{selector}._domainkey.{domain}"
    records = [r for r in txt(lab, name) if "p=" in r]
    if not records:
        return Verdict(False, f"{name}: no key record")
    private = lab.read(f"{KEY_DIR}/{selector}.private")
    if private is None:
        return Verdict(False, f"{KEY_DIR}/{selector}.private does not exist")
    try:
        ok = matches_private_key(records[0], private)
    except MaillabError as exc:
        return Verdict(False, f"{name}: {exc}")
    return Verdict(ok, f"{name}: {'matches' if ok else 'does not match'} the key")


def opendkim_socket(lab: Context) -> str | None:
    """The path of OpenDKIM's local socket, from opendkim.conf."""
    text = lab.read("/etc/opendkim.conf") or ""
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "Socket":
            kind, _, path = words[1].partition(":")
            return path if kind in ("local", "unix") else None
    return None


@check("milter_socket")
def check_milter_socket(lab: Context, *, param: str = "smtpd_milters") -> Verdict:
    """Postfix's milter names a socket that exists and is OpenDKIM's own."""
    value = main_values(lab).get(param, "")
    unix = [w for w in value.replace(",", " ").split() if w.startswith("unix:")]
    if not unix:
        return Verdict(False, f"{param} = {value or '(unset)'}: no unix: milter")
    path = unix[0].partition(":")[2]
    full = path if path.startswith(POSTFIX_CHROOT) else POSTFIX_CHROOT + path
    socket = opendkim_socket(lab)
    if socket != full:
        return Verdict(
            False, f"{param} -> {full}, but opendkim.conf Socket is {socket}"
        )
    if not lab.run(["test", "-S", full]).ok:
        return Verdict(False, f"{full} is not a socket (is opendkim running?)")
    return Verdict(True, f"{param} -> {full}, OpenDKIM's socket")


@check("opendkim_testkey")
def check_opendkim_testkey(
    lab: Context, *, selector: str = "mail", domain: str = "monentreprise.local"
) -> Verdict:
    """opendkim-testkey finds the key in DNS and it matches the private key."""
    result = lab.run(
        [
            "opendkim-testkey",
            "-d",
            domain,
            "-s",
            selector,
            "-k",
            f"{KEY_DIR}/{selector}.private",
            "-vvv",
        ]
    )
    said = (result.stdout + result.stderr).strip().splitlines()
    last = said[-1] if said else ""
    return Verdict(result.ok and "key OK" in result.stderr + result.stdout, last)
