"""Every chapter snippet, linted: exactly the problems docs/errata.md lists.

docs/errata.md marks each problem a linter finds with a line
`- Lint: `CODE` at `FIXTURE:LINE``; FIXTURE is a chapter snippet copied
verbatim under tests/fixtures/config/.  Each snippet is linted where it
belongs (a Dovecot conf.d file inside Debian's tree, a zone record inside
the lab's zone), and warnings and errors are compared with those lines.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from maillab.config.findings import Severity
from maillab.config.lint import lint_paths

ROOT = Path(__file__).parent.parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "config"
MARK = re.compile(r"^- Lint: `([\w.-]+)` at `([\w./-]+):(\d+)`", re.MULTILINE)

SNIPPETS = {
    "postfix/chapter-main-base.cf": "main.cf",
    "postfix/chapter-main-tls.cf": "main.cf",
    "postfix/chapter-main-dovecot.cf": "main.cf",
    "postfix/chapter-main-content-filter.cf": "main.cf",
    "postfix/chapter-main-spamass-milter.cf": "main.cf",
    "postfix/chapter-main-dkim.cf": "main.cf",
    "postfix/chapter-master.cf": "master.cf",
    "postfix/chapter-master-spamassassin.cf": "master.cf",
    "aliases/chapter-aliases": "aliases",
    "dovecot/chapter-dovecot.conf": "dovecot.conf",
    "dovecot/chapter-10-auth.conf": "conf.d/10-auth.conf",
    "dovecot/chapter-10-mail.conf": "conf.d/10-mail.conf",
    "dovecot/chapter-10-ssl.conf": "conf.d/10-ssl.conf",
    "dovecot/chapter-10-master.conf": "conf.d/10-master.conf",
    "spamassassin/chapter-local.cf": "local.cf",
    "opendkim/chapter-opendkim.conf": "opendkim",
    "roundcube/chapter-config.inc.php": "roundcube",
    "zone/chapter-spf.zone": "zone",
    "zone/chapter-dkim.zone": "zone",
    "zone/chapter-dmarc.zone": "zone",
    "autoconfig/chapter-config-v1.1.xml": "autoconfig",
    "autoconfig/chapter-autodiscover.xml": "autoconfig",
}


def listed() -> set[tuple[str, int, str]]:
    text = (ROOT / "docs" / "errata.md").read_text()
    return {(f, int(line), code) for code, f, line in MARK.findall(text)}


def lint_in_place(snippet: str, where: str, tmp: Path) -> set[tuple[str, int, str]]:
    source = FIXTURES / snippet
    if snippet.startswith("dovecot/"):
        shutil.copytree(FIXTURES / "dovecot/debian12-tree", tmp, dirs_exist_ok=True)
        target = tmp / "etc/dovecot" / where
        target.write_bytes(source.read_bytes())
        findings = lint_paths([str(tmp / "etc/dovecot/dovecot.conf")])
    elif where == "zone":
        # A record on its own is no zone: put it in the lab's zone, at the end.
        base = (FIXTURES / "zone/box-db.monentreprise.local").read_text()
        offset = base.count("\n")
        target = tmp / "db.monentreprise.local"
        target.write_text(base + source.read_text())
        findings = lint_paths([str(target)])
        return {
            (snippet, f.line - offset, f.code)
            for f in _serious(findings)
            if f.line and f.line > offset
        }
    else:
        findings = lint_paths([str(source)], format=where)
        target = source
    return {
        (snippet, f.line or 0, f.code)
        for f in _serious(findings)
        if Path(f.file).resolve() == target.resolve()
    }


def _serious(findings):
    return [f for f in findings if f.severity != Severity.INFO]


@pytest.mark.parametrize("snippet", sorted(SNIPPETS))
def test_snippet_gets_exactly_the_errata_s_problems(snippet, tmp_path):
    found = lint_in_place(snippet, SNIPPETS[snippet], tmp_path)
    expected = {item for item in listed() if item[0] == snippet}
    assert found == expected


def test_every_marked_fixture_exists():
    assert listed()
    for snippet, _, _ in listed():
        assert snippet in SNIPPETS, f"errata.md marks {snippet}, which is not linted"
