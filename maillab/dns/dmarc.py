"""DMARC policy records (RFC 7489): parse, lint, and identifier alignment.

A record is a tag-list at `_dmarc.<domain>` that starts with `v=DMARC1`.
Verdicts follow RFC 7489; where RFC 9989 (DMARCbis, which obsoletes it)
says otherwise, the finding says so: p= anywhere and optional (missing p
means none), pct/rf/ri historic, new np/psd/t tags, no `!size` on URIs.

The organizational domain is taken as the last two labels of a name.  Both
RFCs want better (RFC 7489 the Public Suffix List, RFC 9989 a DNS tree
walk); this lab has neither the list nor a public DNS tree, so
`example.co.uk` would wrongly give `co.uk`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from maillab.dns.resolver import RecordSyntaxError
from maillab.dns.tags import parse_tag_list

VERSION = "DMARC1"
POLICIES = ("none", "quarantine", "reject")
MODES = {"r": "relaxed", "s": "strict"}
RFC7489_TAGS = frozenset(
    {"v", "p", "sp", "adkim", "aspf", "pct", "rua", "ruf", "fo", "rf", "ri"}
)
RFC9989_TAGS = frozenset({"np", "psd", "t"})
HISTORIC_TAGS = ("pct", "rf", "ri")  # removed by RFC 9989
_SIZE = re.compile(r"\d+[kmgt]?", re.IGNORECASE)


@dataclass(frozen=True)
class ReportUri:
    """One rua= or ruf= destination: `mailto:dmarc@example.com!10m`."""

    uri: str
    scheme: str
    address: str  # what follows "scheme:", without the !size
    max_size: str | None = None

    @property
    def domain(self) -> str | None:
        """The mailbox's domain for a mailto: URI."""
        if self.scheme != "mailto" or "@" not in self.address:
            return None
        return self.address.rpartition("@")[2].lower().rstrip(".")


@dataclass(frozen=True)
class DmarcRecord:
    text: str
    tags: dict[str, str] = field(hash=False)

    def value(self, tag: str, default: str | None = None) -> str | None:
        value = self.tags.get(tag)
        return value.strip().lower() if value is not None else default

    @property
    def policy(self) -> str | None:
        """p=, or None when absent (RFC 9989 then reads it as none)."""
        return self.value("p")

    @property
    def subdomain_policy(self) -> str | None:
        return self.value("sp") or self.policy

    @property
    def adkim(self) -> str:
        return self.value("adkim", "r") or "r"

    @property
    def aspf(self) -> str:
        return self.value("aspf", "r") or "r"

    @property
    def pct(self) -> str:
        return self.value("pct", "100") or "100"

    @property
    def rua(self) -> list[ReportUri]:
        return parse_uris(self.tags.get("rua", ""))

    @property
    def ruf(self) -> list[ReportUri]:
        return parse_uris(self.tags.get("ruf", ""))

    @property
    def fo(self) -> tuple[str, ...]:
        return tuple((self.value("fo", "0") or "0").replace(" ", "").split(":"))


def is_dmarc(text: str) -> bool:
    """Whether a TXT record at _dmarc is a DMARC record (begins with v=DMARC1)."""
    return re.match(r"v\s*=\s*DMARC1\s*(;|$)", text) is not None


def parse_dmarc(text: str, *, name: str = "DMARC record") -> DmarcRecord:
    """The tags; `RecordSyntaxError` if not a tag-list or not v=DMARC1 first."""
    tags = parse_tag_list(text, name=name)
    if not tags or next(iter(tags)) != "v" or tags["v"] != VERSION:
        raise RecordSyntaxError(
            name, "a DMARC record must start with v=DMARC1", "begin with v=DMARC1;"
        )
    return DmarcRecord(text, tags)


def parse_uris(value: str) -> list[ReportUri]:
    """The comma-separated URIs of rua= or ruf= (an unreadable one has scheme "")."""
    uris = []
    for item in value.split(","):
        item = item.strip()
        if not item:
            continue
        body, bang, size = item.partition("!")
        scheme, colon, address = body.partition(":")
        if not colon or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
            scheme, address = "", body
        uris.append(ReportUri(item, scheme.lower(), address, size if bang else None))
    return uris


def is_valid_size(size: str) -> bool:
    return _SIZE.fullmatch(size) is not None


def organizational_domain(domain: str) -> str:
    """The last two labels of a name (no Public Suffix List: see the module doc)."""
    # Shortcoming: no Public Suffix List (RFC 7489) nor DNS tree walk (RFC 9989);
    # the lab is offline and has no PSL file, so example.co.uk gives co.uk.
    labels = domain.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


def is_aligned(from_domain: str, auth_domain: str, mode: str = "r") -> bool:
    """Whether an SPF or DKIM domain is aligned with the From: domain.

    Strict ("s"): the same name.  Relaxed ("r"): the same organizational
    domain (RFC 7489, 3.1), here the last two labels.
    """
    left = from_domain.lower().rstrip(".")
    right = auth_domain.lower().rstrip(".")
    if not left or not right:
        return False
    if mode.lower() in ("s", "strict"):
        return left == right
    return organizational_domain(left) == organizational_domain(right)
