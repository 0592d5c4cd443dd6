"""Unit tests for maillab.config.zone on the box's zone and the chapter's records."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from maillab.config.zone import (
    add_record,
    dkim_key_problem,
    entries,
    is_serial_newer,
    lint_zone,
    next_serial,
    parse_zone,
    remove_records,
    set_serial,
    txt_record,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "zone"
ORIGIN = "monentreprise.local"
BASE = (FIXTURES / "box-db.monentreprise.local").read_text()


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def found(name: str) -> list[tuple[int | None, str]]:
    return [(f.line, f.code) for f in lint_zone(text(name), origin=ORIGIN)]


def test_box_zone_records_and_lines() -> None:
    zone = parse_zone(BASE, origin=ORIGIN)
    assert zone.serial == 1
    mx = zone.find("@", "MX")
    assert [(r.rdata, r.line, r.ttl) for r in mx] == [
        ("10 mail.monentreprise.local.", 4, 300)
    ]
    assert zone.find("autodiscover", "A")[0].rdata == "192.168.56.10"
    assert len(zone.records) == 10


def test_chapter_snippets() -> None:
    spf = parse_zone(BASE + text("chapter-spf.zone"), origin=ORIGIN)
    assert spf.txt("@") == ["v=spf1 mx a ip4:192.168.1.10 -all"]
    dmarc = parse_zone(BASE + text("chapter-dmarc.zone"), origin=ORIGIN)
    assert dmarc.txt("_dmarc")[0].startswith("v=DMARC1; p=quarantine; rua=mailto:")
    dkim = BASE + text("chapter-dkim.zone")
    assert [(f.line, f.code) for f in lint_zone(dkim, origin=ORIGIN)] == [
        (13, "zone.dkim-key")
    ]
    assert lint_zone(BASE + text("chapter-spf.zone"), origin=ORIGIN) == []


def test_reference_dkim_joined_without_spaces() -> None:
    zone = parse_zone(text("reference-db.monentreprise.local"), origin=ORIGIN)
    (value,) = zone.txt("mail._domainkey")
    assert value.startswith("v=DKIM1; h=sha256; k=rsa; p=MIIBIjAN")
    assert value.endswith("nUoWfSWQIDAQAB") and " " not in value.split("p=")[1]
    record = zone.find("mail._domainkey", "TXT")[0]
    assert len(record.strings) == 3 and record.line == 15
    assert found("reference-db.monentreprise.local") == []


def test_tricky_findings() -> None:
    assert found("tricky-missing-dot.zone") == [
        (12, "zone.missing-dot"),
        (13, "zone.missing-dot"),
        (14, "zone.missing-dot"),
    ]
    assert found("tricky-long-txt.zone") == [(12, "zone.syntax")]
    assert found("tricky-dkim-newline.zone") == [(14, "zone.syntax")]
    assert found("tricky-dkim-noparens.zone") == [
        (12, "zone.dkim-key"),
        (13, "zone.syntax"),
    ]
    assert found("tricky-dkim-space.zone") == [(12, "zone.dkim-key")]
    assert found("tricky-dkim-truncated.zone") == [(12, "zone.dkim-key")]
    assert found("tricky-dkim-split-ok.zone") == []
    assert found("tricky-unquoted.zone") == [(12, "zone.txt-unquoted")]
    assert found("tricky-spf-double.zone") == [(13, "zone.spf-multiple")]
    assert found("tricky-cname-conflict.zone") == [(12, "zone.cname-and-other-data")]
    assert found("tricky-no-ns.zone") == [(None, "zone.no-ns")]
    assert found("tricky-bad-ip.zone") == [(12, "zone.syntax")]


def test_fixes_name_the_right_form() -> None:
    findings = lint_zone(text("tricky-missing-dot.zone"), origin=ORIGIN)
    assert findings[0].fix == "end full names with a dot: mail.monentreprise.local."
    long = lint_zone(text("tricky-long-txt.zone"), origin=ORIGIN)[0]
    assert "255 bytes" in long.fix


def test_unquoted_txt_loses_the_rest() -> None:
    zone = parse_zone(text("tricky-unquoted.zone"), origin=ORIGIN)
    assert zone.txt("_dmarc") == ["v=DMARC1"]


def test_serial_not_bumped() -> None:
    edited = add_record(BASE, "www IN CNAME webmail")
    assert [(f.line, f.code) for f in lint_zone(edited, old_text=BASE)] == [
        (2, "zone.serial-not-bumped")
    ]
    bumped = set_serial(edited, 2026120401, origin=ORIGIN)
    assert parse_zone(bumped, origin=ORIGIN).serial == 2026120401
    assert lint_zone(bumped, old_text=BASE) == []
    assert lint_zone(BASE, old_text=BASE) == []  # nothing changed: fine
    assert bumped.replace("2026120401", "1", 1) == edited


def test_serial_arithmetic() -> None:
    assert is_serial_newer(2, 1) and not is_serial_newer(1, 1)
    assert is_serial_newer(0, 2**32 - 1)  # RFC 1982 wrap
    assert next_serial(1, today="20261204") == 2026120400
    assert next_serial(2026120400, today="20261204") == 2026120401


def test_remove_and_txt_record() -> None:
    reference = text("reference-db.monentreprise.local")
    without = remove_records(reference, "mail._domainkey", "TXT", origin=ORIGIN)
    assert "_domainkey" not in without and "v=spf1" in without
    assert len(without.splitlines()) == len(reference.splitlines()) - 3
    line = txt_record("mail._domainkey", "v=DKIM1; p=" + "A" * 300)
    zone = parse_zone(add_record(BASE, line), origin=ORIGIN)
    assert zone.txt("mail._domainkey") == ["v=DKIM1; p=" + "A" * 300]
    assert [len(s) for s in zone.find("mail._domainkey")[0].strings] == [255, 56]


def test_dkim_key_problem() -> None:
    assert dkim_key_problem("v=DKIM1; p=") == "p= is empty: the key is revoked"
    assert "no p=" in (dkim_key_problem("v=DKIM1; k=rsa") or "")
    assert "base64" in (dkim_key_problem("v=DKIM1; p=abc") or "")


def test_entries_join_parentheses() -> None:
    found_entries = entries('a IN TXT ( "x" ; c\n "y" )\nb IN A 1.2.3.4 ; c\n')
    assert [(e.line, e.text) for e in found_entries] == [
        (1, 'a IN TXT ( "x" \n "y" )'),
        (3, "b IN A 1.2.3.4"),
    ]


def test_bytes_and_empty() -> None:
    findings = lint_zone(BASE.encode() + b"; caf\xe9\n", origin=ORIGIN, path="/z")
    assert [(f.file, f.code) for f in findings] == [("/z", "zone.not-utf8")]
    assert [f.code for f in lint_zone("", origin=ORIGIN)] == ["zone.no-soa"]


LINE = st.lists(
    st.sampled_from(
        [
            "@",
            "mail",
            "IN",
            "TXT",
            "MX",
            "10",
            "A",
            "1.2.3.4",
            "SOA",
            "(",
            ")",
            '"v=DKIM1; p=x"',
            '"',
            ";",
            "\n",
            "\\",
            "$TTL",
            "300",
            "$ORIGIN",
            "x.",
            "CNAME",
            "a.b.c",
            "NS",
            "_dmarc",
        ]
    ),
    max_size=30,
).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(LINE, st.text(max_size=200))
def test_fuzz(structured: str, noise: str) -> None:
    for data in (BASE + structured, structured, noise, BASE + noise):
        findings = lint_zone(data, origin=ORIGIN, old_text=BASE)
        assert all(f.code != "zone.lint-failed" for f in findings)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_bytes(data: bytes) -> None:
    findings = lint_zone(BASE.encode() + data, origin=ORIGIN)
    assert all(f.code != "zone.lint-failed" for f in findings)
