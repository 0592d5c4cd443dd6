"""DKIM key records checked: lint, query, and match with the private key."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import dns.resolver
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from maillab.config.findings import Finding, Severity
from maillab.dns.dkim import (
    GOOD_BITS,
    HASHES,
    KEY_TYPES,
    KNOWN_TAGS,
    LAB_KEY,
    MIN_BITS,
    DkimKey,
    DkimKeyError,
    parse_dkim_key,
)
from maillab.dns.report import Findings
from maillab.dns.resolver import DnsQueryError, RecordSyntaxError, txt_records
from maillab.remote.host import Host

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DkimCheck:
    """A selector's key record as published, and what is wrong with it."""

    name: str  # <selector>._domainkey.<domain>
    text: str | None  # the record, strings joined (None: not found)
    key: DkimKey | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def key_type(self) -> str | None:
        return self.key.key_type if self.key else None

    @property
    def key_bits(self) -> int | None:
        return self.key.key_bits if self.key else None


def lint_dkim_key(key: DkimKey, *, name: str = "DKIM key record") -> list[Finding]:
    """Everything RFC 6376 and RFC 8301 say about a parsed key record."""
    out = Findings(name)
    tags = list(key.tags)
    if key.version is not None and (tags[0] != "v" or key.version != "DKIM1"):
        out.error(
            f"v={key.version} must come first and be DKIM1; verifiers ignore the key",
            "start with v=DKIM1;",
            "dkim.version",
        )
    if key.key_type not in KEY_TYPES:
        out.error(
            f"unknown key type k={key.key_type}",
            "use k=rsa or k=ed25519",
            "dkim.key-type",
        )
    _lint_lists(key, out)
    _lint_key(key, out)
    for tag in tags:
        if tag not in KNOWN_TAGS:
            out.add(
                Severity.INFO,
                f"unknown tag {tag}= (ignored)",
                "remove it",
                "dkim.unknown-tag",
            )
    return out.items


def _lint_lists(key: DkimKey, out: Findings) -> None:
    if key.hashes and not set(key.hashes) & HASHES:
        out.error(f"h={key.tags['h']} names no known hash", "use h=sha256", "dkim.hash")
    elif key.hashes and "sha256" not in key.hashes:
        out.warning(
            "h= allows only sha1 (RFC 8301: verifiers refuse it)",
            "use h=sha256",
            "dkim.sha1",
        )
    if not {"*", "email"} & set(key.services):
        out.error(
            f"s={key.tags['s']} excludes email",
            "remove s= or write s=email",
            "dkim.service",
        )
    if key.is_testing:
        out.warning(
            "t=y: testing mode, receivers may treat signed mail as unsigned",
            "remove t=y once signing works",
            "dkim.testing",
        )


def _lint_key(key: DkimKey, out: Findings) -> None:
    if "p" not in key.tags:
        out.error(
            "no p= tag: the record has no key", "publish p=<base64 key>", "dkim.no-key"
        )
        return
    if key.is_revoked:
        out.error(
            "p= is empty: the key is revoked",
            "publish the new key's p=",
            "dkim.revoked",
        )
        return
    if key.key_type not in KEY_TYPES:
        return
    if key.public_key() is None:
        out.error(
            f"p= is not a valid {key.key_type} public key (truncated or not base64?)",
            "copy p= again from mail.txt, joining every quoted string",
            "dkim.bad-key",
        )
        return
    _lint_size(key, out)


def _lint_size(key: DkimKey, out: Findings) -> None:
    bits = key.key_bits or 0
    if key.key_type != "rsa":
        return
    if bits < MIN_BITS:
        out.error(
            f"{bits}-bit RSA key: verifiers must refuse keys under {MIN_BITS} bits "
            "(RFC 8301)",
            "opendkim-genkey -b 2048",
            "dkim.weak-key",
        )
    elif bits < GOOD_BITS:
        out.warning(
            f"{bits}-bit RSA key: use at least {GOOD_BITS} bits",
            "opendkim-genkey -b 2048",
            "dkim.short-key",
        )


def check_dkim_key(
    selector: str,
    domain: str,
    *,
    resolver: dns.resolver.Resolver,
    private_pem: str | None = None,
) -> DkimCheck:
    """The key record of a selector, queried and linted; never raises.

    With `private_pem`, a published key that does not match it is an error.
    """
    name = f"{selector}._domainkey.{domain.rstrip('.')}"
    out = Findings(name)
    try:
        texts = txt_records(resolver, name)
    except DnsQueryError as exc:
        out.error(str(exc), "check the lab's DNS", "dkim.dns-error")
        return DkimCheck(name, None, None, out.items)
    if not texts:
        out.error(
            "no DKIM key record", "publish mail.txt in the zone", "dkim.no-record"
        )
        return DkimCheck(name, None, None, out.items)
    if len(texts) > 1:
        out.error(
            f"{len(texts)} TXT records: verifiers may pick either",
            "keep one",
            "dkim.multiple-records",
        )
    try:
        key = parse_dkim_key(texts[0], name=name)
    except RecordSyntaxError as exc:
        out.error(exc.message, exc.fix, "dkim.syntax")
        return DkimCheck(name, texts[0], None, out.items)
    out.items.extend(lint_dkim_key(key, name=name))
    if private_pem is not None:
        _check_pair(key, private_pem, out)
    return DkimCheck(name, texts[0], key, out.items)


def _check_pair(key: DkimKey, private_pem: str, out: Findings) -> None:
    try:
        matches = matches_private_key(key, private_pem)
    except DkimKeyError as exc:
        out.error(
            str(exc), "regenerate the key with opendkim-genkey", "dkim.private-key"
        )
        return
    if not matches and key.public_key() is not None:
        out.error(
            "the published key is not the public half of the signing key",
            "publish the mail.txt written with this mail.private",
            "dkim.key-mismatch",
        )


def matches_private_key(record: str | DkimKey, private_pem: str | bytes) -> bool:
    """Whether p= is the public half of this PEM private key (RSA or Ed25519).

    Raises `DkimKeyError` if the private key cannot be read, and
    `RecordSyntaxError` if a record given as text is not a tag-list.
    """
    key = record if isinstance(record, DkimKey) else parse_dkim_key(record)
    published = key.public_key()
    private = _load_private(private_pem)
    if published is None:
        return False
    if isinstance(private, rsa.RSAPrivateKey) and isinstance(
        published, rsa.RSAPublicKey
    ):
        return private.public_key().public_numbers() == published.public_numbers()
    if isinstance(private, ed25519.Ed25519PrivateKey) and isinstance(
        published, ed25519.Ed25519PublicKey
    ):
        raw = serialization.Encoding.Raw, serialization.PublicFormat.Raw
        return private.public_key().public_bytes(*raw) == published.public_bytes(*raw)
    return False


def _load_private(private_pem: str | bytes) -> object:
    data = private_pem.encode() if isinstance(private_pem, str) else private_pem
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        # The message never quotes the key itself.
        raise DkimKeyError(
            f"the private key cannot be read: {type(exc).__name__}"
        ) from None


class SecretText(str):
    """A secret string whose repr hides it (for tracebacks, test reports, notebooks)."""

    def __repr__(self) -> str:
        return "<secret text, hidden>"


def read_private_key(host: Host, path: str = LAB_KEY) -> SecretText:
    """The signing key's PEM text, read as root.  Secret: never log or print it."""
    log.debug("%s: reading the DKIM private key %s", host.name, path)
    return SecretText(host.read(path, sudo=True))
