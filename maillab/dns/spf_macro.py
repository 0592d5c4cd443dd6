"""SPF macros (RFC 7208, section 7): check their syntax and expand them."""

from __future__ import annotations

import ipaddress
import re
import time
import urllib.parse
from dataclasses import dataclass

LETTERS = frozenset("slodiphcrtv")
EXP_ONLY = frozenset("crt")  # only in an exp= explanation string
DELIMITERS = ".-+,/_="
_EXPAND = re.compile(r"%\{([a-zA-Z])(\d*)(r?)([.\-+,/_=]*)\}", re.IGNORECASE)
_TOKEN = re.compile(r"%\{[^}]*\}|%[%_-]|%|[^%]+")
MAX_DOMAIN = 253


@dataclass(frozen=True)
class MacroContext:
    """What the macros stand for in one check_host() evaluation."""

    sender: str  # %{s}: the MAIL FROM (or postmaster@HELO) address
    domain: str  # %{d}: the domain being checked now
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address  # %{i}
    helo: str  # %{h}

    @property
    def local_part(self) -> str:
        local, at, _ = self.sender.rpartition("@")
        return local if at and local else "postmaster"

    @property
    def sender_domain(self) -> str:
        return self.sender.rpartition("@")[2] or self.helo


def macro_problem(text: str, *, explanation: bool = False) -> str | None:
    """Why a macro-string is not valid, or None when it is."""
    for token in _TOKEN.findall(text):
        if not token.startswith("%") or token in ("%%", "%_", "%-"):
            continue
        match = _EXPAND.fullmatch(token)
        if match is None:
            return f"bad macro {token!r} (write %% for a literal %)"
        letter = match.group(1).lower()
        if letter not in LETTERS:
            return f"unknown macro letter in {token!r}"
        if letter in EXP_ONLY and not explanation:
            return f"macro {token!r} is only allowed in an exp= explanation"
        if match.group(2) and int(match.group(2)) == 0:
            return f"macro {token!r} keeps zero labels"
    return None


def expand(text: str, context: MacroContext, *, explanation: bool = False) -> str:
    """The macro-string with every macro replaced (syntax already checked)."""
    out = []
    for token in _TOKEN.findall(text):
        if token == "%%":
            out.append("%")
        elif token == "%_":
            out.append(" ")
        elif token == "%-":
            out.append("%20")
        elif token.startswith("%{"):
            out.append(_expand_one(token, context))
        else:
            out.append(token)
    result = "".join(out)
    return result if explanation else _shorten(result)


def _expand_one(token: str, context: MacroContext) -> str:
    match = _EXPAND.fullmatch(token)
    assert match is not None  # macro_problem() was called first
    letter, digits, reverse, delimiters = match.groups()
    value = _value(letter.lower(), context)
    parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
    if reverse:
        parts.reverse()
    if digits:
        parts = parts[-int(digits) :]
    value = ".".join(parts)
    if letter.isupper():
        value = urllib.parse.quote(value, safe="-._~")
    return value


def _value(letter: str, context: MacroContext) -> str:
    ip = context.ip
    values = {
        "s": context.sender,
        "l": context.local_part,
        "o": context.sender_domain,
        "d": context.domain,
        "i": _dotted(ip),
        # Shortcoming: %{p} should be the validated PTR name; RFC 7208 7.3
        # allows "unknown", and its use is discouraged, so no lookup is made.
        "p": "unknown",
        "v": "in-addr" if ip.version == 4 else "ip6",
        "h": context.helo,
        "c": str(ip),
        "r": "unknown",
        "t": str(int(time.time())),
    }
    return values[letter]


def _dotted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """%{i}: dotted quad, or an IPv6 address as 32 dot-separated nibbles."""
    if ip.version == 4:
        return str(ip)
    return ".".join(ip.exploded.replace(":", ""))


def _shorten(domain: str) -> str:
    """Drop left-hand labels until the name fits in 253 characters (7.3)."""
    while len(domain) > MAX_DOMAIN and "." in domain:
        domain = domain.split(".", 1)[1]
    return domain
