"""SPF records (RFC 7208): parse a record into terms, and lint it.

A record is `v=spf1` and terms separated by spaces.  A term is a mechanism
(`[qualifier]name[:domain-spec][/cidr]`) or a modifier (`name=value`).
`parse_spf` raises `RecordSyntaxError` on anything RFC 7208 calls a syntax
error (a "permerror" when a receiver evaluates the record); `lint_spf`
reports what parses but is risky.  Evaluation is in `spf_check`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from maillab.config.findings import Finding, Severity
from maillab.dns.resolver import RecordSyntaxError
from maillab.dns.spf_macro import macro_problem

VERSION = "v=spf1"
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
MECHANISMS = frozenset({"all", "include", "a", "mx", "ptr", "ip4", "ip6", "exists"})
NEEDS_DOMAIN = frozenset({"include", "exists"})
HAS_CIDR = frozenset({"a", "mx"})
_MODIFIER = re.compile(r"([a-zA-Z][a-zA-Z0-9_.-]*)=(.*)", re.DOTALL)
_MECHANISM = re.compile(r"([+\-~?]?)([a-zA-Z0-9]+)(.*)", re.DOTALL)
_DUAL_CIDR = re.compile(r"(?:/(0|[1-9]\d?))?(?://(0|[1-9]\d{0,2}))?")
_TOPLABEL = re.compile(
    r"[a-z0-9]*[a-z][a-z0-9]*|[a-z0-9]+-[a-z0-9-]*[a-z0-9]", re.IGNORECASE
)


@dataclass(frozen=True)
class Mechanism:
    """One mechanism: `qualifier` is +, -, ~ or ?; `name` is lower case."""

    qualifier: str
    name: str
    domain_spec: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    cidr4: int | None = None
    cidr6: int | None = None

    @property
    def result(self) -> str:
        """What a match gives: pass, fail, softfail or neutral."""
        return QUALIFIERS[self.qualifier]

    @property
    def counts_lookup(self) -> bool:
        """Whether it costs one of the 10 DNS lookups (RFC 7208, 4.6.4)."""
        return self.name in ("include", "a", "mx", "ptr", "exists")

    def __str__(self) -> str:
        text = ("" if self.qualifier == "+" else self.qualifier) + self.name
        if self.network is not None:
            return f"{text}:{self.network}"
        if self.domain_spec is not None:
            text += ":" + self.domain_spec
        if self.cidr4 is not None:
            text += f"/{self.cidr4}"
        if self.cidr6 is not None:
            text += f"//{self.cidr6}"
        return text


@dataclass(frozen=True)
class Modifier:
    """One modifier: `redirect`, `exp`, or an unknown one (ignored by receivers)."""

    name: str
    value: str

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class SpfRecord:
    text: str
    terms: tuple[Mechanism | Modifier, ...]

    @property
    def mechanisms(self) -> list[Mechanism]:
        return [t for t in self.terms if isinstance(t, Mechanism)]

    @property
    def modifiers(self) -> list[Modifier]:
        return [t for t in self.terms if isinstance(t, Modifier)]

    def modifier(self, name: str) -> str | None:
        values = [m.value for m in self.modifiers if m.name == name]
        return values[0] if values else None

    @property
    def redirect(self) -> str | None:
        return self.modifier("redirect")

    @property
    def exp(self) -> str | None:
        # Shortcoming: exp= is parsed and checked, never fetched nor expanded:
        # the explanation only matters in an SMTP reply, which maillab does not build.
        return self.modifier("exp")

    @property
    def has_all(self) -> bool:
        return any(m.name == "all" for m in self.mechanisms)


def is_spf(text: str) -> bool:
    """Whether a TXT record is an SPF record: `v=spf1`, then a space or nothing."""
    head = text[: len(VERSION) + 1].lower()
    return head == VERSION or head == VERSION + " "


def parse_spf(text: str, *, name: str = "SPF record") -> SpfRecord:
    """The record's terms; `RecordSyntaxError` if RFC 7208 cannot read it."""
    if not is_spf(text):
        _fail(name, f"{text[:40]!r} does not start with {VERSION}", "begin with v=spf1")
    terms = tuple(_term(word, name) for word in text[len(VERSION) :].split(" ") if word)
    for modifier in ("redirect", "exp"):
        if sum(isinstance(t, Modifier) and t.name == modifier for t in terms) > 1:
            _fail(name, f"{modifier}= appears twice", f"keep one {modifier}=")
    return SpfRecord(text, terms)


def _fail(name: str, message: str, fix: str) -> None:
    raise RecordSyntaxError(name, message, fix)


def _term(word: str, name: str) -> Mechanism | Modifier:
    modifier = _MODIFIER.fullmatch(word)
    if modifier and not re.match(r"[+\-~?]", word):
        key, value = modifier.group(1).lower(), modifier.group(2)
        if key in ("redirect", "exp"):
            _check_domain_spec(value, word, name)
        else:
            _check_macro(value, word, name, explanation=False)
        return Modifier(key, value)
    return _mechanism(word, name)


def _mechanism(word: str, name: str) -> Mechanism:
    match = _MECHANISM.fullmatch(word)
    if match is None or match.group(2).lower() not in MECHANISMS:
        _fail(name, f"unknown mechanism {word!r}", "see RFC 7208, section 5")
    assert match is not None
    qualifier = match.group(1) or "+"
    mechanism, rest = match.group(2).lower(), match.group(3)
    if mechanism in ("ip4", "ip6"):
        return Mechanism(
            qualifier, mechanism, network=_network(mechanism, rest, word, name)
        )
    if mechanism == "all":
        if rest:
            _fail(name, f"{word!r}: all takes no argument", "write all, -all or ~all")
        return Mechanism(qualifier, "all")
    return _domain_mechanism(qualifier, mechanism, rest, word, name)


def _domain_mechanism(
    qualifier: str, mechanism: str, rest: str, word: str, name: str
) -> Mechanism:
    cidr4 = cidr6 = None
    if mechanism in HAS_CIDR:
        rest, cidr4, cidr6 = _split_cidr(rest, word, name)
    domain = None
    if rest:
        if not rest.startswith(":") or len(rest) == 1:
            _fail(name, f"bad mechanism {word!r}", f"write {mechanism}:domain")
        domain = rest[1:]
        _check_domain_spec(domain, word, name)
    elif mechanism in NEEDS_DOMAIN:
        _fail(name, f"{word!r} needs a domain", f"write {mechanism}:domain")
    return Mechanism(qualifier, mechanism, domain, None, cidr4, cidr6)


def _split_cidr(rest: str, word: str, name: str) -> tuple[str, int | None, int | None]:
    """Split `:domain/24//64` into the domain part and the two prefix lengths."""
    start = rest.find("/")
    if start < 0:
        return rest, None, None
    match = _DUAL_CIDR.fullmatch(rest[start:])
    if match is None or not rest[start:]:
        _fail(name, f"bad prefix length in {word!r}", "write /0-32 and //0-128")
    assert match is not None
    cidr4 = int(match.group(1)) if match.group(1) is not None else None
    cidr6 = int(match.group(2)) if match.group(2) is not None else None
    if (cidr4 is not None and cidr4 > 32) or (cidr6 is not None and cidr6 > 128):
        _fail(name, f"prefix length too long in {word!r}", "at most /32 and //128")
    return rest[:start], cidr4, cidr6


def _network(
    mechanism: str, rest: str, word: str, name: str
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    address, _, prefix = rest[1:].partition("/")
    fix = f"write {mechanism}:address[/prefix]"
    if not rest.startswith(":") or (prefix and not re.fullmatch(r"0|[1-9]\d*", prefix)):
        _fail(name, f"bad {mechanism} mechanism {word!r}", fix)
    try:
        ip = ipaddress.ip_address(address)
        if ip.version != int(mechanism[-1]) or (prefix and "/" in prefix):
            raise ValueError(address)
        # strict=False: RFC 7208 ignores the host bits (5.6), e.g. ip4:10.0.0.1/8
        return ipaddress.ip_network(
            f"{address}/{prefix or ip.max_prefixlen}", strict=False
        )
    except ValueError:
        _fail(name, f"bad address or prefix in {word!r}", fix)
    raise AssertionError("unreachable")


def _check_macro(text: str, word: str, name: str, *, explanation: bool) -> None:
    problem = macro_problem(text, explanation=explanation)
    if problem:
        _fail(name, f"{word!r}: {problem}", "see RFC 7208, section 7")


def _check_domain_spec(spec: str, word: str, name: str) -> None:
    """A domain-spec: a macro-string that ends in a top label or a macro."""
    _check_macro(spec, word, name, explanation=False)
    if spec.endswith("}"):
        return
    labels = spec.rstrip(".").split(".") if spec != "." else [""]
    if len(labels) < 2 or not _TOPLABEL.fullmatch(labels[-1]):
        _fail(
            name, f"{word!r}: {spec!r} is not a domain name", "use a full domain name"
        )


def lint_spf(record: SpfRecord, *, name: str = "SPF record") -> list[Finding]:
    """What parses but is risky: ptr, +all and ?all, redirect= beside all."""
    findings = []
    for mechanism in record.mechanisms:
        if mechanism.name == "ptr":
            findings.append(
                _finding(Severity.WARNING, name, PTR_MESSAGE, PTR_FIX, "spf.ptr")
            )
        if mechanism.name == "all" and mechanism.qualifier in "+?":
            findings.append(_all_finding(mechanism, name))
    if record.redirect is not None and record.has_all:
        message = "redirect= is ignored because the record has an all mechanism"
        findings.append(
            _finding(
                Severity.WARNING, name, message, "remove one", "spf.redirect-ignored"
            )
        )
    return findings


PTR_MESSAGE = "the ptr mechanism is deprecated (RFC 7208, 5.5): slow and unreliable"
PTR_FIX = "list the addresses with ip4:/ip6: or use a or mx"


def _all_finding(mechanism: Mechanism, name: str) -> Finding:
    if mechanism.qualifier == "+":
        message = "+all lets every host on the Internet send as this domain"
        return _finding(
            Severity.WARNING, name, message, "end with -all", "spf.pass-all"
        )
    message = "?all says nothing about other hosts (neutral): SPF protects nothing"
    return _finding(
        Severity.WARNING, name, message, "end with -all or ~all", "spf.neutral-all"
    )


def _finding(
    severity: Severity, name: str, message: str, fix: str, code: str
) -> Finding:
    return Finding(severity, name, None, message, fix, code)
