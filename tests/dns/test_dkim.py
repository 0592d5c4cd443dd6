"""DKIM key records: the tag-list parser, the linter, and key matching."""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from maillab.dns.dkim import DkimKeyError, parse_dkim_key
from maillab.dns.dkim_check import check_dkim_key, lint_dkim_key, matches_private_key
from maillab.dns.resolver import RecordSyntaxError
from maillab.dns.tags import parse_tag_list

MAIL_TXT = Path(__file__).parents[1] / "fixtures" / "dns" / "mail.txt"
NAME = "mail._domainkey.monentreprise.local"


def opendkim_strings() -> list[str]:
    """The quoted strings of opendkim-genkey's mail.txt, as BIND serves them."""
    return re.findall(r'"([^"]*)"', MAIL_TXT.read_text())


@cache
def rsa_key(bits: int) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def weak_record(bits: int) -> str:
    """A record with an RSA modulus of `bits` bits (too short to generate a key)."""
    modulus = (1 << (bits - 1)) | 0xC0FFEE1  # odd, top bit set: just a public number
    key = rsa.RSAPublicNumbers(65537, modulus).public_key()
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(der).decode()


def pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def record_for(key, prefix: str = "v=DKIM1; k=rsa; ") -> str:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    else:
        raw = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    return prefix + "p=" + base64.b64encode(raw).decode()


def codes(text: str) -> list[str]:
    return [f.code for f in lint_dkim_key(parse_dkim_key(text))]


def test_opendkim_record_split_in_strings_is_joined_without_spaces(fake_dns):
    strings = opendkim_strings()
    assert len(strings) == 3
    resolver = fake_dns({(NAME, "TXT"): [strings]})
    check = check_dkim_key("mail", "monentreprise.local", resolver=resolver)
    assert check.text == "".join(strings)
    assert (check.key_type, check.key_bits) == ("rsa", 2048)
    assert check.findings == []
    assert check.key.hashes == ("sha256",) and check.key.version == "DKIM1"


def test_tag_list_grammar():
    assert parse_tag_list(" v = DKIM1 ;k=rsa; p=ab\r\n cd; ") == {
        "v": "DKIM1",
        "k": "rsa",
        "p": "ab\r\n cd",
    }
    assert parse_tag_list("v=DKIM1; p=") == {"v": "DKIM1", "p": ""}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("v=DKIM1; k=rsa; k=ed25519; p=", "appears twice"),
        ("v=DKIM1; rsa; p=", "is not tag=value"),
        ("v=DKIM1;; p=", "is not tag=value"),
        ("1v=DKIM1", "is not tag=value"),
        ("v=DKIM1; n=caf\u00e9", "bad character"),
    ],
)
def test_unreadable_tag_lists_raise(text, words):
    with pytest.raises(RecordSyntaxError, match=words):
        parse_dkim_key(text, name=NAME)


def test_a_good_2048_bit_key_has_no_findings():
    assert codes(record_for(rsa_key(2048))) == []


@pytest.mark.parametrize(
    ("bits", "expected"),
    [(1024, ["dkim.short-key"]), (1023, ["dkim.weak-key"]), (512, ["dkim.weak-key"])],
)
def test_short_keys(bits, expected):
    key = parse_dkim_key(weak_record(bits))
    assert key.key_bits == bits
    assert [f.code for f in lint_dkim_key(key)] == expected


def test_ed25519_key():
    key = parse_dkim_key(
        record_for(ed25519.Ed25519PrivateKey.generate(), "v=DKIM1; k=ed25519; ")
    )
    assert (key.key_type, key.key_bits) == ("ed25519", 256)
    assert lint_dkim_key(key) == []


def test_bare_pkcs1_rsa_key_is_accepted():
    raw = (
        rsa_key(2048)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    )
    key = parse_dkim_key("p=" + base64.b64encode(raw).decode())
    assert key.key_bits == 2048 and key.key_type == "rsa"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k=rsa; v=DKIM1; p=", ["dkim.version", "dkim.revoked"]),
        ("v=DKIM2; p=", ["dkim.version", "dkim.revoked"]),
        ("v=DKIM1; k=dsa; p=AAAA", ["dkim.key-type"]),
        ("v=DKIM1; h=md5; p=", ["dkim.hash", "dkim.revoked"]),
        ("v=DKIM1; h=sha1; p=", ["dkim.sha1", "dkim.revoked"]),
        ("v=DKIM1; s=tlsrpt; p=", ["dkim.service", "dkim.revoked"]),
        ("v=DKIM1; t=y:s; p=", ["dkim.testing", "dkim.revoked"]),
        ("v=DKIM1; k=rsa", ["dkim.no-key"]),
        ("v=DKIM1; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKC", ["dkim.bad-key"]),
        ("v=DKIM1; p=not*base64", ["dkim.bad-key"]),
        ("v=DKIM1; p=; x=1", ["dkim.revoked", "dkim.unknown-tag"]),
    ],
)
def test_lint_findings(text, expected):
    assert codes(text) == expected


def test_flags_services_and_notes():
    key = parse_dkim_key("v=DKIM1; t=y:s; s=email:*; n=test key; p=")
    assert key.is_testing and key.flags == ("y", "s")
    assert key.services == ("email", "*") and key.notes == "test key"
    assert key.is_revoked


def test_the_published_key_matches_its_private_key_only():
    mine, other = rsa_key(2048), rsa_key(1024)
    record = record_for(mine)
    assert matches_private_key(record, pem(mine))
    assert not matches_private_key(record, pem(other))
    assert not matches_private_key("v=DKIM1; p=", pem(mine))
    edkey = ed25519.Ed25519PrivateKey.generate()
    edrecord = record_for(edkey, "k=ed25519; ")
    assert matches_private_key(edrecord, pem(edkey))
    assert not matches_private_key(edrecord, pem(mine))


def test_an_unreadable_private_key_raises_without_quoting_it():
    with pytest.raises(DkimKeyError) as error:
        matches_private_key(
            # Not a key: a PEM header over junk (split so no scan takes it for one).
            record_for(rsa_key(1024)),
            "-----BEGIN " + "PRIVATE KEY-----\nSECRET\n",
        )
    assert "SECRET" not in str(error.value)


def test_check_reports_mismatch_missing_duplicate_and_dns_errors(fake_dns):
    mine, other = rsa_key(2048), rsa_key(2048 + 8)
    resolver = fake_dns(
        {
            ("mail._domainkey.ex.test", "TXT"): [record_for(mine)],
            ("two._domainkey.ex.test", "TXT"): [record_for(mine), record_for(mine)],
            ("slow._domainkey.ex.test", "TXT"): ["TIMEOUT"],
            ("bad._domainkey.ex.test", "TXT"): ["v=DKIM1; p=; p="],
        }
    )
    ok = check_dkim_key("mail", "ex.test", resolver=resolver, private_pem=pem(mine))
    assert ok.findings == []
    wrong = check_dkim_key("mail", "ex.test", resolver=resolver, private_pem=pem(other))
    assert [f.code for f in wrong.findings] == ["dkim.key-mismatch"]
    assert wrong.findings[0].file == "mail._domainkey.ex.test"

    def found(selector: str) -> list[str]:
        return [
            f.code
            for f in check_dkim_key(selector, "ex.test", resolver=resolver).findings
        ]

    assert found("none") == ["dkim.no-record"]
    assert found("two") == ["dkim.multiple-records"]
    assert found("slow") == ["dkim.dns-error"]
    assert found("bad") == ["dkim.syntax"]
