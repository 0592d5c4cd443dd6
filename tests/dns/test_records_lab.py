"""SPF, DKIM and DMARC against the real BIND of a provisioned box.

The reference records of 7.3.5 come from the box's own zone.  The tricky
and broken ones live in scratch zones (piege.lab, rapports.lab, and
piege.test for OpenDKIM's blind spot) added to this test box only (it is
destroyed after the run).  Every query
goes to the box's address, port 53; nothing else is asked.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from maillab.dns import (
    check_dkim_key,
    check_dmarc,
    check_host,
    check_spf,
    lab_resolver,
    matches_private_key,
    parse_dkim_key,
    parse_dmarc,
    parse_spf,
    read_private_key,
    txt_records,
)

pytestmark = pytest.mark.lab

DOMAIN = "monentreprise.local"
HOST_SIDE = "192.168.56.1"  # this machine, on the lab network: not in the SPF record
NAMED_LOCAL = "/etc/bind/named.conf.local"


def quoted(text: str, size: int = 200) -> str:
    """A TXT value as zone-file strings of at most `size` characters."""
    parts = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    return "( " + " ".join(f'"{p}"' for p in parts) + " )"


def public_p(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def scratch_zone(box_ip: str, lab_p: str, other_p: str, weak_p: str) -> str:
    many = " ".join(f"a:h{i}.piege.lab" for i in range(1, 12))
    deep = " ".join(f"a:h{i}.piege.lab" for i in range(1, 6))
    deeper = " ".join(f"a:h{i}.piege.lab" for i in range(6, 11))
    records = {
        "chain": "v=spf1 include:chain1.piege.lab -all",
        "chain1": "v=spf1 include:chain2.piege.lab -all",
        "chain2": f"v=spf1 ip4:{box_ip} -all",
        "loop1": "v=spf1 include:loop2.piege.lab -all",
        "loop2": "v=spf1 include:loop1.piege.lab -all",
        "many": f"v=spf1 {many} -all",
        "deep": f"v=spf1 {deep} include:deep2.piege.lab -all",
        "deep2": f"v=spf1 {deeper} -all",
        "redir": "v=spf1 redirect=monentreprise.local",
        "void": "v=spf1 a:nx1.piege.lab mx:nx2.piege.lab exists:nx3.piege.lab -all",
        "ptr": "v=spf1 ptr:monentreprise.local -all",
        "bad": "v=spf1 ip4:192.168.56.300 -all",
        "macro": "v=spf1 exists:%{i}.ok.piege.lab -all",
        "revoked._domainkey": "v=DKIM1; p=",
        "truncated._domainkey": "v=DKIM1; k=rsa; p=" + lab_p[:40],
        "testing._domainkey": f"v=DKIM1; t=y; k=rsa; p={lab_p}",
        "autre._domainkey": f"v=DKIM1; k=rsa; p={other_p}",
        "weak._domainkey": f"v=DKIM1; k=rsa; p={weak_p}",
        "_dmarc": "v=DMARC1; sp=reject; p=quarantine; rua=mailto:d@rapports.lab; "
        "ruf=mailto:f@exterieur.test; foo=bar",
    }
    lines = [
        "$TTL 60",
        "@ IN SOA ns.monentreprise.local. hostmaster.monentreprise.local. "
        "(1 3600 600 86400 60)",
        "@ IN NS ns.monentreprise.local.",
        *(f"{name} IN TXT {quoted(value)}" for name, value in records.items()),
        'multi IN TXT "v=spf1 -all"',
        'multi IN TXT "v=spf1 +all"',
        'split IN TXT ( "v=spf1 ip4:192.168.56.0/24" "-all" )',
        '_dmarc.multi IN TXT "v=DMARC1; p=none"',
        '_dmarc.multi IN TXT "v=DMARC1; p=reject"',
        f"{box_ip}.ok IN A 127.0.0.2",
        *(f"h{i} IN A 10.0.0.{i}" for i in range(1, 12)),
        "sub IN A 10.0.1.1",
    ]
    return "\n".join(lines) + "\n"


REPORTS_ZONE = """$TTL 60
@ IN SOA ns.monentreprise.local. hostmaster.monentreprise.local. (1 3600 600 86400 60)
@ IN NS ns.monentreprise.local.
piege.lab._report._dmarc IN TXT "v=DMARC1"
"""


def dot_test_zone(lab_p: str) -> str:
    """A .test zone with the lab's own key: OpenDKIM (libunbound) never asks for it."""
    head = REPORTS_ZONE.splitlines()[:3]
    return (
        "\n".join([*head, f"mail._domainkey IN TXT {quoted('v=DKIM1; p=' + lab_p)}"])
        + "\n"
    )


@pytest.fixture(scope="module")
def lab(provisioned):
    """The provisioned box with the scratch zones loaded; yields (box, resolver)."""
    host = provisioned.host
    resolver = lab_resolver(host)
    lab_p = parse_dkim_key(txt_records(resolver, f"mail._domainkey.{DOMAIN}")[0])
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    zones = {
        "piege.lab": scratch_zone(
            provisioned.address, lab_p.tags["p"], public_p(other), public_p(weak)
        ),
        "rapports.lab": REPORTS_ZONE,
        "piege.test": dot_test_zone(lab_p.tags["p"]),
    }
    config = host.read(NAMED_LOCAL)
    for zone, text in zones.items():
        path = f"/etc/bind/zones/db.{zone}"
        host.write(path, text, validate=["named-checkzone", zone, path])
        config += f'zone "{zone}" {{ type primary; file "{path}"; }};\n'
    host.write(NAMED_LOCAL, config, validate="named-checkconf")
    host.run(["rndc", "reconfig"], sudo=True, check=True)
    _wait_for_zone(resolver, "rapports.lab")
    return provisioned, resolver


def _wait_for_zone(resolver, zone: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if txt_records(resolver, f"piege.lab._report._dmarc.{zone}"):
            return
        time.sleep(0.2)
    raise AssertionError(f"BIND did not load {zone}")


# The reference records ----------------------------------------------------------


def test_lab_resolver_takes_a_host_or_an_address(provisioned):
    by_host = lab_resolver(provisioned.host)
    assert by_host.nameservers == [provisioned.address] and by_host.port == 53
    assert lab_resolver(provisioned.address).nameservers == [provisioned.address]


def test_reference_spf_record_parses_and_the_box_passes(lab):
    box, resolver = lab
    (text,) = [t for t in txt_records(resolver, DOMAIN) if t.startswith("v=spf1")]
    assert text == f"v=spf1 mx a ip4:{box.address} -all"
    assert [str(m) for m in parse_spf(text).mechanisms][-1] == "-all"

    passed = check_host(box.address, DOMAIN, f"jean@{DOMAIN}", resolver=resolver)
    assert (passed.verdict, str(passed.mechanism), passed.findings) == (
        "pass",
        "mx",
        [],
    )
    failed = check_host(HOST_SIDE, DOMAIN, f"jean@{DOMAIN}", resolver=resolver)
    assert (failed.verdict, str(failed.mechanism), failed.lookups) == (
        "fail",
        "-all",
        2,
    )
    checked = check_spf(DOMAIN, resolver=resolver)
    assert checked.findings == [] and checked.lookups == 2


def test_reference_dkim_record_is_2048_bits_and_matches_the_box_key(lab):
    box, resolver = lab
    private = read_private_key(box.host)
    check = check_dkim_key("mail", DOMAIN, resolver=resolver, private_pem=private)
    assert (check.key_type, check.key_bits, check.findings) == ("rsa", 2048, [])
    assert check.key is not None and check.key.hashes == ("sha256",)
    assert matches_private_key(check.text or "", private)
    assert "PRIVATE" not in repr(private) and "PRIVATE KEY" in private


def test_reference_dmarc_record_is_clean_and_subdomains_inherit(lab):
    _, resolver = lab
    top = check_dmarc(DOMAIN, resolver=resolver)
    assert (top.name, top.policy, top.findings) == (
        f"_dmarc.{DOMAIN}",
        "quarantine",
        [],
    )
    assert parse_dmarc(top.text or "").tags["adkim"] == "r"
    sub = check_dmarc(f"mail.{DOMAIN}", resolver=resolver)
    assert (sub.name, sub.inherited, sub.policy) == (
        f"_dmarc.{DOMAIN}",
        True,
        "quarantine",
    )


# Tricky SPF records ----------------------------------------------------------------


def spf(resolver, name: str, ip: str):
    return check_host(ip, f"{name}.piege.lab", "jean@piege.lab", resolver=resolver)


def test_include_chain(lab):
    box, resolver = lab
    result = spf(resolver, "chain", box.address)
    assert (result.verdict, result.lookups, str(result.mechanism)) == (
        "pass",
        2,
        "include:chain1.piege.lab",
    )
    assert spf(resolver, "chain", HOST_SIDE).verdict == "fail"


def test_include_loop(lab):
    _, resolver = lab
    result = spf(resolver, "loop1", HOST_SIDE)
    assert result.verdict == "permerror"
    assert [f.code for f in result.findings] == ["spf.include-loop"]


@pytest.mark.parametrize("name", ["many", "deep"])
def test_more_than_ten_lookups(lab, name):
    _, resolver = lab
    result = spf(resolver, name, HOST_SIDE)
    assert (result.verdict, result.lookups) == ("permerror", 11)
    assert result.findings[0].code == "spf.too-many-lookups"


def test_redirect_to_the_lab_domain(lab):
    box, resolver = lab
    result = spf(resolver, "redir", box.address)
    assert (result.verdict, result.matched_in) == ("pass", DOMAIN)
    assert spf(resolver, "redir", HOST_SIDE).verdict == "fail"


def test_void_lookups(lab):
    _, resolver = lab
    result = spf(resolver, "void", HOST_SIDE)
    assert (result.verdict, result.void_lookups) == ("permerror", 3)
    assert result.findings[0].code == "spf.void-lookups"


def test_multiple_records_and_syntax_errors(lab):
    _, resolver = lab
    assert [f.code for f in spf(resolver, "multi", HOST_SIDE).findings] == [
        "spf.multiple-records"
    ]
    assert [f.code for f in spf(resolver, "bad", HOST_SIDE).findings] == ["spf.syntax"]
    # Strings are joined without a space: "/24" "-all" reads "/24-all".
    split = spf(resolver, "split", HOST_SIDE)
    assert split.verdict == "permerror" and "24-all" in split.findings[0].message


def test_ptr_uses_the_lab_reverse_zone_and_warns(lab):
    box, resolver = lab
    # 192.168.56.1 is hote.monentreprise.local in the reverse zone and back.
    result = spf(resolver, "ptr", HOST_SIDE)
    assert result.verdict == "pass"
    assert [f.code for f in result.findings] == ["spf.ptr"]
    assert spf(resolver, "ptr", "192.168.56.250").verdict == "fail"


def test_exists_with_the_ip_macro(lab):
    box, resolver = lab
    assert spf(resolver, "macro", box.address).verdict == "pass"
    assert spf(resolver, "macro", HOST_SIDE).verdict == "fail"


# Broken DKIM and DMARC records --------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "codes"),
    [
        ("revoked", ["dkim.revoked"]),
        ("truncated", ["dkim.bad-key"]),
        ("testing", ["dkim.testing"]),
        ("weak", ["dkim.short-key"]),
        ("absent", ["dkim.no-record"]),
    ],
)
def test_broken_dkim_records(lab, selector, codes):
    _, resolver = lab
    check = check_dkim_key(selector, "piege.lab", resolver=resolver)
    assert [f.code for f in check.findings] == codes


def test_a_key_that_is_not_the_box_s_is_a_mismatch_for_opendkim_too(lab):
    box, resolver = lab
    private = read_private_key(box.host)
    mine = check_dkim_key(
        "testing", "piege.lab", resolver=resolver, private_pem=private
    )
    assert "dkim.key-mismatch" not in [f.code for f in mine.findings]
    other = check_dkim_key("autre", "piege.lab", resolver=resolver, private_pem=private)
    assert [f.code for f in other.findings] == ["dkim.key-mismatch"]
    assert "key OK" in _opendkim_testkey(box.host, DOMAIN, "mail")
    assert "keys do not match" in _opendkim_testkey(box.host, "piege.lab", "autre")


def _opendkim_testkey(host, domain: str, selector: str) -> str:
    key = "/etc/opendkim/keys/monentreprise.local/mail.private"
    result = host.run(
        ["opendkim-testkey", "-d", domain, "-s", selector, "-k", key, "-vvv"], sudo=True
    )
    return re.sub(r"\s+", " ", result.stdout + result.stderr)


def test_broken_dmarc_record(lab):
    _, resolver = lab
    check = check_dmarc("piege.lab", resolver=resolver)
    codes = [f.code for f in check.findings]
    assert codes == [
        "dmarc.policy-order",
        "dmarc.unknown-tag",
        "dmarc.external-unauthorized",
    ]
    assert "exterieur.test" in check.findings[-1].message  # rapports.lab is authorized
    assert check_dmarc("sub.piege.lab", resolver=resolver).policy == "reject"
    multi = check_dmarc("multi.piege.lab", resolver=resolver)
    assert [f.code for f in multi.findings] == ["dmarc.multiple-records"]


def test_opendkim_does_not_look_up_names_under_test(lab):
    """libunbound, which OpenDKIM uses, answers NXDOMAIN itself for .test (RFC 6761).

    BIND serves the record and dnspython finds it; opendkim-testkey never asks.
    So the lab's OpenDKIM cannot verify mail signed for exterieur.test either.
    """
    box, resolver = lab
    private = read_private_key(box.host)
    ours = check_dkim_key("mail", "piege.test", resolver=resolver, private_pem=private)
    assert ours.findings == [] and ours.key_bits == 2048
    assert "record not found" in _opendkim_testkey(box.host, "piege.test", "mail")


def _pyspf_lookup(resolver):
    """pyspf's DNS hook, answered by the lab's BIND only (never this machine's DNS)."""
    import dns.exception
    import dns.resolver
    import spf

    def lookup(name, qtype, strict=True, timeout=None):
        try:
            answer = resolver.resolve(name, qtype, search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as exc:
            raise spf.TempError(f"DNS {exc}") from exc
        values = {
            "A": lambda r: r.address,
            "AAAA": lambda r: r.address,
            "MX": lambda r: (r.preference, r.exchange),
            "PTR": lambda r: r.target.to_text(True),
            "TXT": lambda r: r.strings,
        }
        return [((name, qtype), values[qtype](r)) for r in answer]

    return lookup


@pytest.mark.parametrize(
    ("name", "client"),
    [
        ("chain", "box"),
        ("chain", HOST_SIDE),
        ("loop1", HOST_SIDE),
        ("many", HOST_SIDE),
        ("deep", HOST_SIDE),
        ("redir", "box"),
        ("redir", HOST_SIDE),
        ("void", HOST_SIDE),
        ("multi", HOST_SIDE),
        ("bad", HOST_SIDE),
        ("split", HOST_SIDE),
        ("ptr", HOST_SIDE),
        ("ptr", "192.168.56.250"),
        ("macro", "box"),
        ("macro", HOST_SIDE),
    ],
)
def test_pyspf_gives_the_same_verdict(lab, monkeypatch, name, client):
    """A second opinion: pyspf (PyPI), run over the same lab DNS."""
    spf = pytest.importorskip("spf", reason="pyspf is not installed")
    box, resolver = lab
    monkeypatch.setattr(spf, "DNSLookup", _pyspf_lookup(resolver))
    ip = box.address if client == "box" else client
    domain = f"{name}.piege.lab"
    theirs, _ = spf.check2(ip, f"jean@{domain}", "mx.exterieur.test")
    ours = check_host(ip, domain, f"jean@{domain}", resolver=resolver)
    assert (ours.verdict, name) == (theirs, name)
