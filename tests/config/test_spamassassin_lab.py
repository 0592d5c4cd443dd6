"""local.cf agreement with `spamassassin --lint` and real scans on the lab box."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.config.findings import Severity
from maillab.config.spamassassin import BEYOND_SA_LINT, lint_local_cf, parse_local_cf
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "spamassassin"
CORPUS = sorted(p.name for p in FIXTURES.glob("*.cf"))


@pytest.fixture
def sitedir(lab: Host) -> Iterator[str]:
    """A copy of the box's /etc/spamassassin under a fresh /tmp directory."""
    path = f"/tmp/maillab-sa-{uuid.uuid4().hex[:8]}"
    lab.run(["mkdir", path], sudo=True, check=True)
    lab.run(f"cp /etc/spamassassin/*.pre /etc/spamassassin/*.cf {path}/", sudo=True)
    yield path
    lab.run(["rm", "-rf", "--", path], sudo=True)


def put(lab: Host, path: str, data: bytes) -> None:
    lab.run(["sh", "-c", 'cat > "$1"', "sh", path], sudo=True, input=data, check=True)


def real_lint(lab: Host, sitedir: str, data: bytes) -> tuple[int, list[str]]:
    put(lab, f"{sitedir}/local.cf", data)
    result = lab.run(
        ["spamassassin", "--lint", f"--siteconfigpath={sitedir}"],
        sudo=True,
        timeout=180,
    )
    warns = [
        line.split(" warn: ", 1)[1]
        for line in result.stderr.splitlines()
        if " warn: " in line and " warn: lint: " not in line
    ]
    return result.exit_status, warns


def real_key(warning: str, rule_lines: dict[str, int]) -> object:
    """Where a lint warning points: a line number, or a network for netset."""
    line = re.search(r"\(line (\d+)\)", warning)
    if line:
        return int(line[1])
    rule = re.search(r"(?:regexp for|head test|rule name '?)\s*([A-Z_0-9]+)", warning)
    if rule:
        return rule_lines[rule[1]]
    net = re.search(r"cannot include (\S+) as", warning)
    assert net, f"a warning this test does not know: {warning}"
    return str(ipaddress.ip_network(net[1]))


def my_key(finding_line: int | None, code: str, message: str) -> object:
    if code == "spamassassin.network-already-included":
        return str(ipaddress.ip_network(message.split()[0]))
    return finding_line


@pytest.mark.parametrize("name", CORPUS)
def test_lint_agrees_with_spamassassin(lab: Host, sitedir: str, name: str) -> None:
    data = (FIXTURES / name).read_bytes()
    status, warnings = real_lint(lab, sitedir, data)
    conf = parse_local_cf(data)
    rule_lines = {rule.name: rule.line for rule in conf.rules.values()}
    findings = [
        f
        for f in lint_local_cf(conf)
        if f.code not in BEYOND_SA_LINT and f.severity != Severity.INFO
    ]
    assert sorted(map(str, (real_key(w, rule_lines) for w in warnings))) == sorted(
        str(my_key(f.line, f.code, f.message)) for f in findings
    )
    # lint fails (exit 1) exactly when one of our findings is an error
    has_error = any(f.severity == Severity.ERROR for f in findings)
    assert (status != 0) == has_error


def scan(lab: Host, sitedir: str, sender: str) -> set[str]:
    message = (
        f"From: {sender}\nTo: marie@monentreprise.local\nSubject: test\n"
        "Message-ID: <t1@monentreprise.local>\n"
        "Date: Fri, 04 Dec 2026 08:00:00 +0000\n\nBonjour\n"
    )
    result = lab.run(
        ["spamassassin", f"--siteconfigpath={sitedir}", "-L", "-t"],
        sudo=True,
        input=message,
        timeout=180,
    )
    status = re.search(r"tests=(.*?)\s+autolearn=", result.stdout, flags=re.S)
    assert status, result.stdout
    return set(re.sub(r"\s+", "", status[1]).split(","))


def test_chapter_anchor_misses_a_display_name(lab: Host, sitedir: str) -> None:
    chapter = (FIXTURES / "chapter-local.cf").read_text()
    chapter = chapter.replace("LOCAL_INTERNAL", "CH_INTERNAL")
    chapter = chapter.replace("SUSPICIOUS_TLD", "CH_SUSPICIOUS")
    both = chapter + (FIXTURES / "reference-local.cf").read_text()
    put(lab, f"{sitedir}/local.cf", both.encode())

    named = scan(lab, sitedir, "Jean <jean@monentreprise.local>")
    bare = scan(lab, sitedir, "jean@monentreprise.local")
    tld = scan(lab, sitedir, "Bob <bob@spam.tk>")
    assert "CH_INTERNAL" not in named and "LOCAL_INTERNAL" in named
    assert {"CH_INTERNAL", "LOCAL_INTERNAL"} <= bare
    assert "CH_SUSPICIOUS" not in tld and "SUSPICIOUS_TLD" in tld
    anchors = [
        f.line
        for f in lint_local_cf(chapter)
        if f.code == "spamassassin.address-anchor"
    ]
    assert anchors == [38, 42]
