"""DKIM key records (RFC 6376, 3.6.1): parse, lint, and match with a private key.

A key record is a tag-list at `<selector>._domainkey.<domain>`: `v=DKIM1`
(first, if present), `k=` key type, `h=` hashes, `p=` the public key in
base64 (empty: revoked), `t=` flags (y: testing, s: strict), `s=` service
types and `n=` notes.  `parse_dkim_key` raises `RecordSyntaxError` only when
the tag-list cannot be read at all (RFC 6376, 3.2); the rest are findings.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from maillab.dns.tags import parse_tag_list
from maillab.errors import MaillabError

log = logging.getLogger(__name__)

KEY_TYPES = frozenset({"rsa", "ed25519"})  # RFC 6376 and RFC 8463
HASHES = frozenset({"sha1", "sha256"})
KNOWN_TAGS = frozenset("vhknpst")
MIN_BITS = 1024  # RFC 8301: verifiers must not accept less
GOOD_BITS = 2048
LAB_KEY = "/etc/opendkim/keys/monentreprise.local/mail.private"

PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey


class DkimKeyError(MaillabError):
    """A DKIM private key that cannot be read (not PEM, or encrypted)."""


def _colon_list(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(item.strip().lower() for item in value.split(":") if item.strip())


@dataclass(frozen=True)
class DkimKey:
    """A parsed key record; `key_data` is p= decoded (None: absent or not base64)."""

    text: str
    tags: dict[str, str] = field(hash=False)

    @property
    def version(self) -> str | None:
        return self.tags.get("v")

    @property
    def key_type(self) -> str:
        return self.tags.get("k", "rsa").lower()

    @property
    def hashes(self) -> tuple[str, ...]:
        """h=: the hashes a signature may use (empty: any)."""
        return _colon_list(self.tags.get("h"))

    @property
    def flags(self) -> tuple[str, ...]:
        return _colon_list(self.tags.get("t"))

    @property
    def services(self) -> tuple[str, ...]:
        return _colon_list(self.tags.get("s")) or ("*",)

    @property
    def notes(self) -> str | None:
        return self.tags.get("n")

    @property
    def is_revoked(self) -> bool:
        return self.tags.get("p") == ""

    @property
    def is_testing(self) -> bool:
        return "y" in self.flags

    @property
    def key_data(self) -> bytes | None:
        value = re.sub(r"\s+", "", self.tags.get("p", ""))
        try:
            return base64.b64decode(value, validate=True) if value else None
        except (binascii.Error, ValueError):
            return None

    def public_key(self) -> PublicKey | None:
        """The public key of p=, or None when it cannot be read."""
        data = self.key_data
        return None if data is None else load_public_key(data, self.key_type)

    @property
    def key_bits(self) -> int | None:
        key = self.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            return key.key_size
        return 256 if key is not None else None


def parse_dkim_key(text: str, *, name: str = "DKIM key record") -> DkimKey:
    """The key record's tags; `RecordSyntaxError` if the tag-list is unreadable."""
    return DkimKey(text, parse_tag_list(text, name=name))


def load_public_key(data: bytes, key_type: str) -> PublicKey | None:
    """An RSA key (SubjectPublicKeyInfo, or bare RSAPublicKey) or a raw Ed25519 key."""
    if key_type == "ed25519":
        if len(data) != 32:
            return None
        return ed25519.Ed25519PublicKey.from_public_bytes(data)
    try:
        key = serialization.load_der_public_key(data)
    except ValueError:
        # Some publish the PKCS#1 RSAPublicKey without the SPKI wrapping.
        pem = b"-----BEGIN RSA PUBLIC KEY-----\n" + base64.encodebytes(data)
        try:
            key = serialization.load_pem_public_key(
                pem + b"-----END RSA PUBLIC KEY-----\n"
            )
        except ValueError:
            return None
    return key if isinstance(key, rsa.RSAPublicKey) else None
