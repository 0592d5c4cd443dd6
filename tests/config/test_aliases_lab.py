"""/etc/aliases against the real postalias on the lab box (a copy under /tmp)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.config.aliases import lint_aliases, parse_aliases
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

CORPUS = Path(__file__).parents[1] / "fixtures" / "config" / "aliases"
FILES = sorted(p.name for p in CORPUS.iterdir())
_INTERNAL = ("@", "YP_LAST_MODIFIED", "YP_MASTER_NAME")


@pytest.fixture
def box_dir(lab: Host) -> Iterator[str]:
    path = lab.check_output(["mktemp", "-d", "/tmp/cfgpf-XXXXXX"]).strip()
    yield path
    lab.run(["rm", "-rf", "--", path])


def dump(output: str) -> dict[str, str]:
    """`postalias -s` output as a table, without sendmail's internal entries."""
    table = {}
    for line in output.splitlines():
        name, _, value = line.partition(":\t")
        if name not in _INTERNAL:
            table[name] = value
    return table


@pytest.mark.parametrize("name", FILES)
def test_aliases_agree_with_postalias(lab: Host, box_dir: str, name: str) -> None:
    text = (CORPUS / name).read_text()
    path = f"{box_dir}/aliases"
    lab.run(["sh", "-c", 'cat > "$1"', "sh", path], input=text, check=True)

    built = lab.run(["/usr/sbin/postalias", path])
    shown = lab.run(["/usr/sbin/postalias", "-s", f"hash:{path}"])

    assert built.exit_status == 0, built.stderr
    aliases = parse_aliases(text, path=path)
    assert aliases.table == dump(shown.stdout)
    findings = lint_aliases(aliases)
    skipped = re.findall(r"line (\d+): need name:value pair", built.stderr)
    assert sorted(int(n) for n in skipped) == [
        f.line for f in findings if f.code == "aliases.need-name-value"
    ]
    duplicates = re.findall(r'duplicate entry: "([^"]*)"', built.stderr)
    ours = [f.message for f in findings if f.code == "aliases.duplicate"]
    assert sorted(f'duplicate entry: "{d}"' for d in duplicates) == sorted(
        m.split(";")[0] for m in ours
    )


def test_chapter_aliases_on_the_box(lab: Host) -> None:
    """The chapter's aliases, linted with the box's real users and domains."""
    users = lab.check_output(["getent", "passwd"]).splitlines()
    local_users = {line.split(":")[0] for line in users}
    text = (CORPUS / "chapter-aliases").read_text()
    findings = lint_aliases(
        text,
        local_users=local_users,
        mailbox_users={"jean", "marie", "direction"},
        local_domains={"monentreprise.local", "mail.monentreprise.local"},
    )
    assert [(f.line, f.code) for f in findings] == [
        (14, "aliases.domain-typo"),
        (16, "aliases.shadows-user"),
    ]
