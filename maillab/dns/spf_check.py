"""SPF evaluation: RFC 7208's check_host(), over a dnspython resolver.

`check_host` never raises: a DNS server that does not answer gives
"temperror", a broken record "permerror", and each problem is a finding.
The limits are RFC 7208's (4.6.4): 10 mechanisms or modifiers that query
DNS, 2 void lookups (no such name, or no record), 10 MX or PTR names.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass, field
from enum import StrEnum

import dns.resolver

from maillab.config.findings import Finding, Severity
from maillab.dns import resolver as lookups
from maillab.dns.resolver import DnsQueryError, RecordSyntaxError
from maillab.dns.spf import Mechanism, SpfRecord, is_spf, lint_spf, parse_spf
from maillab.dns.spf_macro import MacroContext, expand

log = logging.getLogger(__name__)

LOOKUP_LIMIT = 10
VOID_LIMIT = 2
NAME_LIMIT = 10  # MX names per mx, PTR names per ptr
# An address that matches nothing (TEST-NET-1): check_spf evaluates with it to
# walk the whole record, includes and redirect included.  No packet goes to it.
PROBE_IP = "192.0.2.1"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class SpfVerdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    SOFTFAIL = "softfail"
    NEUTRAL = "neutral"
    NONE = "none"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"


@dataclass(frozen=True)
class SpfResult:
    """The outcome of check_host(): the verdict, what matched, and why."""

    verdict: SpfVerdict
    domain: str
    lookups: int  # DNS-querying terms evaluated, includes and redirect counted
    void_lookups: int
    mechanism: Mechanism | None = None  # the one that matched
    matched_in: str | None = None  # the domain whose record held it
    findings: list[Finding] = field(default_factory=list)


class _PermError(Exception):
    def __init__(self, message: str, fix: str, code: str) -> None:
        super().__init__(message)
        self.fix = fix
        self.code = code
        self.where: str | None = None  # the domain whose record is at fault


class _TempError(Exception):
    pass


@dataclass
class _Evaluation:
    resolver: dns.resolver.Resolver
    ip: IPAddress
    sender: str
    helo: str
    lookups: int = 0
    void_lookups: int = 0
    stack: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def context(self, domain: str) -> MacroContext:
        return MacroContext(self.sender, domain, self.ip, self.helo)

    def count_lookup(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > LOOKUP_LIMIT:
            raise _PermError(
                f"more than {LOOKUP_LIMIT} DNS lookups ({term} is number "
                f"{self.lookups}); receivers give permerror",
                "flatten includes into ip4:/ip6: or remove mechanisms",
                "spf.too-many-lookups",
            )

    def query(self, name: str, what: str, rdtype: str) -> list[str]:
        try:
            if rdtype == "MX":
                answer = lookups.mail_exchangers(self.resolver, name)
            elif rdtype == "PTR":
                answer = lookups.pointer_names(self.resolver, name)
            else:
                answer = lookups.addresses(
                    self.resolver, name, 4 if rdtype == "A" else 6
                )
        except DnsQueryError as exc:
            raise _TempError(str(exc)) from exc
        if not answer and rdtype != "PTR":
            self.count_void(what, name)
        return answer

    def count_void(self, what: str, name: str) -> None:
        self.void_lookups += 1
        if self.void_lookups > VOID_LIMIT:
            raise _PermError(
                f"more than {VOID_LIMIT} void lookups ({what}: {name} has no record)",
                "remove mechanisms that name domains without records",
                "spf.void-lookups",
            )


def check_host(
    ip: str,
    domain: str,
    sender: str,
    *,
    resolver: dns.resolver.Resolver,
    helo: str | None = None,
) -> SpfResult:
    """RFC 7208's check_host(ip, domain, sender): the verdict and the findings."""
    address = _address(ip)
    state = _Evaluation(
        resolver, address, sender or f"postmaster@{helo}", helo or domain
    )
    verdict, mechanism, where = SpfVerdict.PERMERROR, None, None
    try:
        verdict, mechanism, where = _check(state, domain.rstrip(".").lower())
    except _PermError as exc:
        state.findings.append(
            Finding(
                Severity.ERROR, exc.where or domain, None, str(exc), exc.fix, exc.code
            )
        )
    except _TempError as exc:
        verdict = SpfVerdict.TEMPERROR
        state.findings.append(
            Finding(
                Severity.ERROR, domain, None, str(exc), "retry later", "spf.dns-error"
            )
        )
    log.debug("SPF %s %s: %s (%d lookups)", ip, domain, verdict, state.lookups)
    return SpfResult(
        verdict,
        domain,
        state.lookups,
        state.void_lookups,
        mechanism,
        where,
        _unique(state.findings),
    )


def _address(ip: str) -> IPAddress:
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


Outcome = tuple[SpfVerdict, Mechanism | None, str | None]


def _check(state: _Evaluation, domain: str) -> Outcome:
    if not _is_domain(domain):
        return SpfVerdict.NONE, None, None
    if domain in state.stack:
        chain = " -> ".join([*state.stack, domain])
        loop = _PermError(
            f"include/redirect loop: {chain}", "break the loop", "spf.include-loop"
        )
        loop.where = state.stack[-1]
        raise loop
    try:
        record = _record(state, domain)
        if record is None:
            return SpfVerdict.NONE, None, None
        state.stack.append(domain)
        try:
            return _evaluate(state, record, domain)
        finally:
            state.stack.pop()
    except _PermError as exc:
        exc.where = exc.where or domain
        raise


def _is_domain(domain: str) -> bool:
    labels = domain.split(".")
    return (
        len(labels) >= 2
        and len(domain) <= 253
        and all(0 < len(label) <= 63 for label in labels)
    )


def _record(state: _Evaluation, domain: str) -> SpfRecord | None:
    try:
        texts = [t for t in lookups.txt_records(state.resolver, domain) if is_spf(t)]
    except DnsQueryError as exc:
        raise _TempError(str(exc)) from exc
    if not texts:
        return None
    if len(texts) > 1:
        raise _PermError(
            f"{len(texts)} SPF records at {domain}; receivers give permerror",
            "merge them into one v=spf1 record",
            "spf.multiple-records",
        )
    try:
        record = parse_spf(texts[0], name=domain)
    except RecordSyntaxError as exc:
        raise _PermError(exc.message, exc.fix, "spf.syntax") from exc
    state.findings.extend(lint_spf(record, name=domain))
    return record


def _evaluate(state: _Evaluation, record: SpfRecord, domain: str) -> Outcome:
    for mechanism in record.mechanisms:
        if _matches(state, mechanism, domain):
            return SpfVerdict(mechanism.result), mechanism, domain
    target = record.redirect
    if target is None or record.has_all:
        return SpfVerdict.NEUTRAL, None, None
    state.count_lookup(f"redirect={target}")
    name = expand(target, state.context(domain))
    outcome = _check(state, name.rstrip(".").lower())
    if outcome[0] == SpfVerdict.NONE:
        raise _PermError(
            f"redirect={name}: that domain has no SPF record",
            "redirect to a domain with an SPF record",
            "spf.redirect-none",
        )
    return outcome


def _matches(state: _Evaluation, mechanism: Mechanism, domain: str) -> bool:
    if mechanism.counts_lookup:
        state.count_lookup(str(mechanism))
    target = domain
    if mechanism.domain_spec is not None:
        target = expand(mechanism.domain_spec, state.context(domain)).rstrip(".")
    name = mechanism.name
    if name == "all":
        return True
    if name in ("ip4", "ip6"):
        network = mechanism.network
        return network is not None and state.ip in network
    if name == "include":
        return _include(state, target)
    if name == "exists":
        return bool(state.query(target, "exists", "A"))
    if name == "ptr":
        return _ptr(state, target)
    return _address_match(state, mechanism, target)


def _include(state: _Evaluation, target: str) -> bool:
    verdict = _check(state, target.lower())[0]
    if verdict == SpfVerdict.NONE:
        raise _PermError(
            f"include:{target}: that domain has no SPF record",
            "include only domains that publish SPF",
            "spf.include-none",
        )
    return verdict == SpfVerdict.PASS


def _address_match(state: _Evaluation, mechanism: Mechanism, target: str) -> bool:
    """a and mx: the client address within /cidr of one of the host addresses."""
    v4 = state.ip.version == 4
    prefix = mechanism.cidr4 if v4 else mechanism.cidr6
    rdtype = "A" if v4 else "AAAA"
    if mechanism.name == "a":
        hosts = [target]
    else:
        hosts = state.query(target, "mx", "MX")
        if len(hosts) > NAME_LIMIT:
            raise _PermError(
                f"mx:{target} has {len(hosts)} MX names, more than {NAME_LIMIT}",
                "use ip4:/ip6: instead",
                "spf.too-many-mx",
            )
    for host in hosts:
        addresses = (
            state.query(host, mechanism.name, rdtype)
            if mechanism.name == "a"
            else _mx_addresses(state, host, rdtype)
        )
        for address in addresses:
            length = prefix if prefix is not None else state.ip.max_prefixlen
            if state.ip in ipaddress.ip_network(f"{address}/{length}", strict=False):
                return True
    return False


def _mx_addresses(state: _Evaluation, host: str, rdtype: str) -> list[str]:
    """An MX host's addresses (not counted as void lookups).

    Shortcoming: RFC 7208 (4.6.4) does not say whether an MX host without an
    address is a void lookup; only the MX query itself is counted here.
    """
    try:
        return lookups.addresses(state.resolver, host, 4 if rdtype == "A" else 6)
    except DnsQueryError as exc:
        raise _TempError(str(exc)) from exc


def _ptr(state: _Evaluation, target: str) -> bool:
    """ptr: a PTR name of the client, validated by its A/AAAA, in target."""
    names = state.query(str(state.ip), "ptr", "PTR")[:NAME_LIMIT]
    rdtype = "A" if state.ip.version == 4 else "AAAA"
    target = target.lower()
    for name in names:
        if name.lower() != target and not name.lower().endswith("." + target):
            continue
        try:
            found = lookups.addresses(state.resolver, name, state.ip.version)
        except DnsQueryError:
            continue  # RFC 7208, 5.5: a failed validation lookup is skipped
        if str(state.ip) in found:
            log.debug("ptr %s validated by %s", name, rdtype)
            return True
    return False


def check_spf(domain: str, *, resolver: dns.resolver.Resolver) -> SpfResult:
    """The domain's SPF record checked: syntax, risky terms, the lookup limits.

    It evaluates check_host() with an address that matches no mechanism
    (192.0.2.1, TEST-NET-1), so that every include and redirect is followed.  A record
    with `exists:` on a macro may still match it; the counts are then those
    up to the match.
    """
    # Shortcoming: the lookup count is the one of this evaluation, not a static
    # worst case over every branch; they differ only when exists: matches.
    result = check_host(PROBE_IP, domain, f"postmaster@{domain}", resolver=resolver)
    if result.verdict == SpfVerdict.NONE:
        missing = Finding(
            Severity.ERROR,
            domain,
            None,
            "no SPF record (v=spf1 TXT)",
            'publish one, e.g. "v=spf1 mx -all"',
            "spf.no-record",
        )
        return SpfResult(
            result.verdict,
            domain,
            result.lookups,
            result.void_lookups,
            None,
            None,
            [missing],
        )
    return result
