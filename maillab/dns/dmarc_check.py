"""DMARC records checked: lint a record, find it in DNS, authorize external reports.

Each finding names the RFC its verdict follows: RFC 7489, or RFC 9989
(DMARCbis) where the two differ.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import dns.resolver

from maillab.config.findings import Finding, Severity
from maillab.dns.dmarc import (
    HISTORIC_TAGS,
    MODES,
    POLICIES,
    RFC7489_TAGS,
    RFC9989_TAGS,
    DmarcRecord,
    ReportUri,
    is_dmarc,
    is_valid_size,
    organizational_domain,
    parse_dmarc,
)
from maillab.dns.report import Findings
from maillab.dns.resolver import DnsQueryError, RecordSyntaxError, txt_records

log = logging.getLogger(__name__)


def lint_dmarc(record: DmarcRecord, *, name: str = "DMARC record") -> list[Finding]:
    """What is wrong or risky in a parsed record (no DNS: see check_dmarc)."""
    out = Findings(name)
    _lint_policy(record, out)
    _lint_values(record, out)
    for tag in ("rua", "ruf"):
        _lint_uris(tag, getattr(record, tag), out)
    _lint_tags(record, out)
    return out.items


def _lint_policy(record: DmarcRecord, out: Findings) -> None:
    tags = list(record.tags)
    if "p" not in record.tags:
        out.add(
            Severity.ERROR,
            "no p= tag: RFC 7489 (6.6.3) applies no DMARC at all unless rua= is "
            "valid; RFC 9989 reads it as p=none",
            "add p=none, p=quarantine or p=reject right after v=DMARC1",
            "dmarc.no-policy",
        )
    elif tags[1] != "p":
        out.add(
            Severity.WARNING,
            "p= is not right after v=DMARC1: RFC 7489 (6.4) requires it there, "
            "RFC 9989 allows any order",
            "move p= right after v=DMARC1",
            "dmarc.policy-order",
        )
    if record.policy == "none":
        out.add(
            Severity.INFO,
            "p=none: receivers only report, they quarantine or reject nothing",
            "move to p=quarantine, then p=reject, once the reports are clean",
            "dmarc.monitoring-only",
        )


def _lint_values(record: DmarcRecord, out: Findings) -> None:
    for tag in ("p", "sp", "np"):
        _lint_choice(record, tag, POLICIES, out)
    for tag in ("adkim", "aspf"):
        _lint_choice(record, tag, tuple(MODES), out)
    _lint_choice(record, "t", ("y", "n"), out)
    _lint_choice(record, "psd", ("y", "n", "u"), out)
    _lint_pct(record, out)
    _lint_reporting(record, out)


def _lint_pct(record: DmarcRecord, out: Findings) -> None:
    pct = record.value("pct")
    if pct is not None and not (pct.isdigit() and 0 <= int(pct) <= 100):
        out.add(
            Severity.ERROR,
            f"pct={pct} is not 0-100",
            "write pct=100",
            "dmarc.bad-value",
        )
    elif pct is not None and int(pct) < 100:
        out.add(
            Severity.INFO,
            f"pct={pct}: the policy applies to {pct}% of failing mail (RFC 7489)",
            "raise it to 100 when ready",
            "dmarc.partial",
        )


def _lint_reporting(record: DmarcRecord, out: Findings) -> None:
    """fo=, ri= and rf=: the failure report options and the report interval."""
    if "fo" in record.tags and not set(record.fo) <= {"0", "1", "d", "s"}:
        out.add(
            Severity.ERROR,
            f"fo={record.tags['fo']}: only 0, 1, d, s",
            "write fo=1",
            "dmarc.bad-value",
        )
    ri = record.value("ri")
    if ri is not None and not ri.isdigit():
        out.add(
            Severity.ERROR,
            f"ri={ri} is not a number of seconds",
            "write ri=86400",
            "dmarc.bad-value",
        )
    rf = record.value("rf")
    if rf is not None and not set(rf.replace(" ", "").split(":")) <= {"afrf"}:
        out.add(
            Severity.ERROR,
            f"rf={rf}: RFC 7489 knows only afrf",
            "write rf=afrf",
            "dmarc.bad-value",
        )


def _lint_choice(
    record: DmarcRecord, tag: str, choices: tuple[str, ...], out: Findings
) -> None:
    value = record.value(tag)
    if value is not None and value not in choices:
        out.add(
            Severity.ERROR,
            f"{tag}={record.tags[tag]} is not one of {', '.join(choices)}",
            f"write {tag}={choices[-1] if tag in ('p', 'sp', 'np') else choices[0]}",
            "dmarc.bad-value",
        )


def _lint_uris(tag: str, uris: list[ReportUri], out: Findings) -> None:
    for uri in uris:
        if uri.scheme == "":
            out.add(
                Severity.ERROR,
                f"{tag}: {uri.uri!r} is not a URI",
                f"write {tag}=mailto:dmarc@domain",
                "dmarc.bad-uri",
            )
        elif uri.scheme != "mailto":
            out.add(
                Severity.WARNING,
                f"{tag}: {uri.scheme}: reports are not sent by common receivers",
                "use mailto:",
                "dmarc.uri-scheme",
            )
        elif not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", uri.address):
            out.add(
                Severity.ERROR,
                f"{tag}: {uri.address!r} is not a mail address",
                "write mailto:user@domain",
                "dmarc.bad-uri",
            )
        if uri.max_size is not None and not is_valid_size(uri.max_size):
            out.add(
                Severity.ERROR,
                f"{tag}: bad size !{uri.max_size}",
                "write !10m, or no size",
                "dmarc.bad-uri",
            )


def _lint_tags(record: DmarcRecord, out: Findings) -> None:
    for tag in record.tags:
        if tag in HISTORIC_TAGS:
            out.add(
                Severity.INFO,
                f"{tag}= is historic in RFC 9989 (RFC 7489 receivers still read it)",
                f"drop {tag}= when receivers follow RFC 9989",
                "dmarc.historic-tag",
            )
        elif tag in RFC9989_TAGS:
            out.add(
                Severity.INFO,
                f"{tag}= is RFC 9989 only: RFC 7489 receivers ignore it",
                "none needed",
                "dmarc.dmarcbis-tag",
            )
        elif tag not in RFC7489_TAGS:
            out.add(
                Severity.WARNING,
                f"unknown tag {tag}= (receivers ignore it)",
                "remove it or fix its spelling",
                "dmarc.unknown-tag",
            )


@dataclass(frozen=True)
class DmarcCheck:
    """A domain's DMARC record as discovered, and what is wrong with it."""

    domain: str  # the From: domain asked about
    name: str | None  # where the record was found: _dmarc.<domain or org domain>
    text: str | None
    record: DmarcRecord | None
    inherited: bool = False  # found at the organizational domain: sp= applies
    findings: list[Finding] = field(default_factory=list)

    @property
    def policy(self) -> str | None:
        """The policy for mail from `domain`: sp= when inherited, else p=."""
        if self.record is None:
            return None
        return self.record.subdomain_policy if self.inherited else self.record.policy


def check_dmarc(domain: str, *, resolver: dns.resolver.Resolver) -> DmarcCheck:
    """Find the policy of a From: domain (RFC 7489, 6.6.3), lint it; never raises.

    No record at `_dmarc.<domain>`: the organizational domain's is used (the
    last two labels, not the Public Suffix List; RFC 9989 walks the DNS tree
    instead).  External report addresses must be authorized (RFC 7489, 7.1).
    """
    domain = domain.lower().rstrip(".")
    out = Findings(f"_dmarc.{domain}")
    try:
        name, texts = _discover(resolver, domain)
    except DnsQueryError as exc:
        out.add(Severity.ERROR, str(exc), "check the lab's DNS", "dmarc.dns-error")
        return DmarcCheck(domain, None, None, None, False, out.items)
    out.name = name if texts else out.name
    inherited = name != f"_dmarc.{domain}"
    if len(texts) != 1:
        _no_single_record(texts, out)
        found = bool(texts)
        return DmarcCheck(
            domain, name if found else None, None, None, inherited and found, out.items
        )
    try:
        record = parse_dmarc(texts[0], name=name)
    except RecordSyntaxError as exc:
        out.add(Severity.ERROR, exc.message, exc.fix, "dmarc.syntax")
        return DmarcCheck(domain, name, texts[0], None, inherited, out.items)
    out.items.extend(lint_dmarc(record, name=name))
    _check_authorizations(record, name.removeprefix("_dmarc."), resolver, out)
    return DmarcCheck(domain, name, texts[0], record, inherited, out.items)


def _no_single_record(texts: list[str], out: Findings) -> None:
    if not texts:
        out.add(
            Severity.ERROR,
            "no DMARC record (here or at the organizational domain)",
            'publish "v=DMARC1; p=none; rua=mailto:..." at _dmarc',
            "dmarc.no-record",
        )
    else:
        out.add(
            Severity.ERROR,
            f"{len(texts)} DMARC records: receivers apply no DMARC at all "
            "(RFC 7489, 6.6.3)",
            "keep one v=DMARC1 record",
            "dmarc.multiple-records",
        )


def _discover(resolver: dns.resolver.Resolver, domain: str) -> tuple[str, list[str]]:
    """The name holding the DMARC record(s), and the v=DMARC1 texts found there."""
    name = f"_dmarc.{domain}"
    texts = [t for t in txt_records(resolver, name) if is_dmarc(t)]
    org = organizational_domain(domain)
    if texts or org == domain:
        return name, texts
    log.debug("no DMARC record at %s; trying %s", name, org)
    org_name = f"_dmarc.{org}"
    return org_name, [t for t in txt_records(resolver, org_name) if is_dmarc(t)]


def authorization_name(policy_domain: str, report_domain: str) -> str:
    """Where a report domain authorizes reports for another domain (RFC 7489, 7.1)."""
    return f"{policy_domain}._report._dmarc.{report_domain}"


def _check_authorizations(
    record: DmarcRecord,
    policy_domain: str,
    resolver: dns.resolver.Resolver,
    out: Findings,
) -> None:
    external = {
        uri.domain
        for uri in [*record.rua, *record.ruf]
        if uri.domain
        and organizational_domain(uri.domain) != organizational_domain(policy_domain)
    }
    for report_domain in sorted(external):
        name = authorization_name(policy_domain, report_domain)
        try:
            authorized = any(is_dmarc(t) for t in txt_records(resolver, name))
        except DnsQueryError as exc:
            out.add(
                Severity.WARNING,
                f"cannot tell whether {report_domain} accepts reports: {exc}",
                "retry",
                "dmarc.dns-error",
            )
            continue
        if not authorized:
            out.add(
                Severity.WARNING,
                f"reports go to {report_domain}, which does not authorize them: "
                f"no v=DMARC1 record at {name}, so receivers send none there",
                f'publish "v=DMARC1" at {name}',
                "dmarc.external-unauthorized",
            )
