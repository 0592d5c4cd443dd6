"""How a large receiver judges a message: DKIM, SPF, DMARC, spam headers, a score.

An offline stand-in for mail-tester: the DNS it asks is the sending lab's
own BIND (each box is authoritative for monentreprise.local), so the
verdicts are those the Internet would reach if the lab's zone were public.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
from dataclasses import asdict, dataclass, field

import dkim
import dns.resolver

from maillab.dns.dmarc import is_aligned, is_dmarc, parse_dmarc
from maillab.dns.resolver import lab_resolver, txt_records
from maillab.dns.spf_check import check_host
from maillab.errors import MaillabError


@dataclass(frozen=True)
class Check:
    """One verdict of the report, with the points it cost and why."""

    name: str
    result: str
    detail: str
    penalty: float = 0.0


@dataclass
class Report:
    """The receiver's verdict on one message: a score out of 10 and the reasons."""

    client_address: str
    helo: str
    mail_from: str
    recipients: list[str]
    header_from: str
    subject: str
    checks: list[Check] = field(default_factory=list)

    @property
    def score(self) -> float:
        return max(0.0, round(10.0 - sum(c.penalty for c in self.checks), 1))

    def result(self, name: str) -> str:
        return next((c.result for c in self.checks if c.name == name), "none")

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["score"] = self.score
        return data


def judge(
    raw: bytes,
    *,
    client_address: str,
    helo: str,
    mail_from: str,
    recipients: list[str],
    resolver: dns.resolver.Resolver | None = None,
) -> Report:
    """Every check on one received message; never raises."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    header_from = email.utils.parseaddr(str(message.get("From", "")))[1]
    report = Report(
        client_address,
        helo,
        mail_from,
        recipients,
        header_from,
        str(message.get("Subject", "")),
    )
    resolver = resolver or lab_resolver(client_address)
    dkim_check, dkim_domain = _dkim(raw, resolver)
    spf_check = _spf(client_address, mail_from, helo, resolver)
    report.checks += [dkim_check, spf_check]
    report.checks.append(
        _dmarc(header_from, dkim_domain, spf_check, mail_from, resolver)
    )
    report.checks.append(_spam(message))
    return report


def _dkim(raw: bytes, resolver: dns.resolver.Resolver) -> tuple[Check, str | None]:
    if b"dkim-signature:" not in raw.lower():
        return Check("dkim", "none", "the message carries no DKIM signature", 2.0), None

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        try:
            return "".join(txt_records(resolver, name.decode().rstrip("."))).encode()
        except MaillabError:
            return b""

    verifier = dkim.DKIM(raw)
    try:
        ok = verifier.verify(dnsfunc=dnsfunc)
    except dkim.DKIMException as exc:
        return Check(
            "dkim", "fail", f"the signature cannot be checked: {exc}", 3.0
        ), None
    domain = verifier.domain.decode() if verifier.domain else None
    selector = verifier.selector.decode() if verifier.selector else "?"
    if ok:
        return Check(
            "dkim", "pass", f"d={domain} s={selector}: signature verified"
        ), domain
    return Check(
        "dkim",
        "fail",
        f"d={domain} s={selector}: the signature does not verify against "
        f"the key published at {selector}._domainkey.{domain}",
        3.0,
    ), None


def _spf(ip: str, mail_from: str, helo: str, resolver: dns.resolver.Resolver) -> Check:
    domain = mail_from.rpartition("@")[2] or helo
    result = check_host(
        ip, domain, mail_from or f"postmaster@{helo}", resolver=resolver, helo=helo
    )
    verdict = str(result.verdict)
    penalty = {"pass": 0.0, "none": 1.0, "neutral": 1.0, "softfail": 1.5}.get(
        verdict, 2.5
    )
    matched = f" (matched {result.mechanism})" if result.mechanism else ""
    return Check(
        "spf",
        verdict,
        f"{ip} for {domain}: {verdict}{matched}, {result.lookups} DNS lookup(s)",
        penalty,
    )


def _dmarc(
    header_from: str,
    dkim_domain: str | None,
    spf: Check,
    mail_from: str,
    resolver: dns.resolver.Resolver,
) -> Check:
    domain = header_from.rpartition("@")[2]
    try:
        texts = [t for t in txt_records(resolver, f"_dmarc.{domain}") if is_dmarc(t)]
    except MaillabError:
        texts = []
    if len(texts) != 1:
        found = "no DMARC record" if not texts else "several DMARC records"
        return Check("dmarc", "none", f"_dmarc.{domain}: {found}", 1.0)
    record = parse_dmarc(texts[0])
    dkim_ok = dkim_domain is not None and is_aligned(domain, dkim_domain, record.adkim)
    spf_domain = mail_from.rpartition("@")[2]
    spf_ok = spf.result == "pass" and is_aligned(domain, spf_domain, record.aspf)
    if dkim_ok or spf_ok:
        how = " and ".join(n for n, ok in (("DKIM", dkim_ok), ("SPF", spf_ok)) if ok)
        return Check(
            "dmarc",
            "pass",
            f"p={record.policy}: aligned through {how} (RFC 7489 alignment)",
        )
    return Check(
        "dmarc",
        "fail",
        f"p={record.policy}: neither DKIM nor SPF aligns with "
        f"From: {domain}; a receiver applies the policy",
        3.0,
    )


def _spam(message: email.message.Message) -> Check:
    flag = str(message.get("X-Spam-Flag", "")).strip().upper()
    status = " ".join(str(message.get("X-Spam-Status", "")).split())
    if flag == "YES":
        return Check(
            "spam", "spam", f"the sender's SpamAssassin says spam: {status}", 5.0
        )
    if status:
        return Check("spam", "ham", f"the sender's SpamAssassin: {status}")
    return Check("spam", "unscanned", "no X-Spam-Status header")
