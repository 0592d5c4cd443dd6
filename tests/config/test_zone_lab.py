"""Zone files: agreement with named-checkzone (errors, lines, and -D values)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import dns.rdatatype
import dns.zonefile
import pytest

from maillab.config.findings import Severity
from maillab.config.zone import (
    BEYOND_NAMED_CHECKZONE,
    entries,
    lint_zone,
    parse_zone,
)
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "zone"
ORIGIN = "monentreprise.local"


def corpus() -> dict[str, str]:
    base = (FIXTURES / "box-db.monentreprise.local").read_text()
    files = {p.name: p.read_text() for p in FIXTURES.glob("tricky-*.zone")}
    for name in ("box-db.monentreprise.local", "reference-db.monentreprise.local"):
        files[name] = (FIXTURES / name).read_text()
    for snippet in FIXTURES.glob("chapter-*.zone"):
        files[f"box+{snippet.name}"] = base + snippet.read_text()
    return files


CORPUS = corpus()


@pytest.fixture
def zonefile(lab: Host) -> Iterator[str]:
    path = f"/tmp/maillab-zone-{uuid.uuid4().hex[:8]}"
    lab.run(["mkdir", path], sudo=True, check=True)
    yield f"{path}/db.{ORIGIN}"
    lab.run(["rm", "-rf", "--", path], sudo=True)


def checkzone(lab: Host, path: str, text: str) -> tuple[int, str, str]:
    lab.run(["sh", "-c", 'cat > "$1"', "sh", path], sudo=True, input=text, check=True)
    result = lab.run(["named-checkzone", "-D", "-o", "-", ORIGIN, path], sudo=True)
    return result.exit_status, result.stdout, result.stderr


def entry_lines(text: str, line: int) -> set[int]:
    """Every line of the entry (record) that holds `line`."""
    for entry in entries(text):
        covered = range(entry.line, entry.line + entry.text.count("\n") + 1)
        if line in covered:
            return set(covered)
    return {line}


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_lint_agrees_with_named_checkzone(lab: Host, zonefile: str, name: str) -> None:
    text = CORPUS[name]
    status, dump, messages = checkzone(lab, zonefile, text)
    errors = [
        f
        for f in lint_zone(text, origin=ORIGIN, path=zonefile)
        if f.severity == Severity.ERROR and f.code not in BEYOND_NAMED_CHECKZONE
    ]
    if status != 0:
        assert errors, messages
        first = re.search(rf"{re.escape(zonefile)}:(\d+):", dump + messages)
        if first:
            lines = {n for f in errors if f.line for n in entry_lines(text, f.line)}
            assert int(first[1]) in lines, (messages, errors)
        return
    assert errors == [], dump
    real = dns.zonefile.read_rrsets(dump, origin=f"{ORIGIN}.", rdclass=None)
    named = {
        (r.name.to_text(), r.ttl, dns.rdatatype.to_text(r.rdtype), rd.to_text())
        for r in real
        for rd in r
    }
    zone = parse_zone(text, origin=ORIGIN)
    mine = {(r.name, r.ttl, r.rdtype, r.rdata) for r in zone.records}
    assert mine == named


def test_named_warns_on_the_missing_dot(lab: Host, zonefile: str) -> None:
    text = CORPUS["tricky-missing-dot.zone"]
    status, dump, messages = checkzone(lab, zonefile, text)
    assert status == 0
    warned = re.findall(r"MX '([^']+)' has no address records", dump + messages)
    assert warned == ["mail.monentreprise.local.monentreprise.local"]
    findings = lint_zone(text, origin=ORIGIN)
    dots = [f.message.split()[0] for f in findings if f.code == "zone.missing-dot"]
    assert f"{warned[0]}." in dots


def test_dkim_strings_join_as_a_resolver_sees_them(lab: Host, zonefile: str) -> None:
    text = CORPUS["reference-db.monentreprise.local"]
    status, dump, _ = checkzone(lab, zonefile, text)
    assert status == 0
    real = dns.zonefile.read_rrsets(dump, origin=f"{ORIGIN}.", rdclass=None)
    txt = next(r for r in real if r.name.to_text().startswith("mail._domainkey"))
    joined = b"".join(next(iter(txt)).strings).decode()
    assert parse_zone(text, origin=ORIGIN).txt("mail._domainkey") == [joined]
    assert " " not in joined.split("p=", 1)[1]
