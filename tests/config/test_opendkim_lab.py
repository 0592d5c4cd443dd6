"""OpenDKIM agreement with `opendkim -n`, `opendkim -e` and test-mode signing."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.config.findings import Severity
from maillab.config.opendkim import (
    BEYOND_OPENDKIM_N,
    BOOLEAN_PARAMETERS,
    INTEGER_PARAMETERS,
    OpendkimConf,
    check_files,
    lint_opendkim,
    parse_key_table,
    parse_opendkim_conf,
    parse_signing_table,
    referenced_files,
    signing_key_for,
)
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "opendkim"
CONFS = sorted(p.name for p in FIXTURES.glob("*.conf"))
# The first error `opendkim -n` prints, and the code our linter gives it.
TOOL_CODES = {
    "unrecognized parameter": "opendkim.unknown-parameter",
    "illegal value": "opendkim.invalid-value",
    "required value missing": "opendkim.missing-value",
    "unknown mode": "opendkim.invalid-value",
    "unknown canonicalization": "opendkim.invalid-value",
    "unknown signing algorithm": "opendkim.invalid-value",
    "Unknown database type": "opendkim.invalid-value",
    "KeyFile and Selector must both": "opendkim.keyfile-selector",
    "Domain requires KeyFile": "opendkim.domain-needs-key",
    "KeyTable requires either": "opendkim.keytable-alone",
    "SigningTable requires KeyTable": "opendkim.signingtable-alone",
}


@pytest.fixture
def workdir(lab: Host) -> Iterator[str]:
    """A fresh /tmp directory on the box with a generated key in keys/."""
    path = f"/tmp/maillab-dkim-{uuid.uuid4().hex[:8]}"
    keys = f"{path}/keys/monentreprise.local"
    lab.run(["mkdir", "-p", keys], sudo=True, check=True)
    genkey = ["opendkim-genkey", "-s", "mail", "-d", "monentreprise.local", "-D", keys]
    lab.run(genkey, sudo=True, check=True)
    yield path
    lab.run(["rm", "-rf", "--", path], sudo=True)


def put(lab: Host, path: str, text: str) -> None:
    lab.run(["sh", "-c", 'cat > "$1"', "sh", path], sudo=True, input=text, check=True)


def install(lab: Host, workdir: str, conf: str, tables: str = "reference") -> str:
    """Put a conf and the tables on the box, /etc/opendkim moved to workdir."""
    for table in ("KeyTable", "SigningTable", "TrustedHosts"):
        text = (FIXTURES / f"{tables}-{table}").read_text()
        put(lab, f"{workdir}/{table}", text.replace("/etc/opendkim", workdir))
    put(lab, f"{workdir}/opendkim.conf", conf.replace("/etc/opendkim", workdir))
    return f"{workdir}/opendkim.conf"


def tool_error(message: str) -> tuple[int | None, str]:
    line = re.search(r"at line (\d+)", message)
    code = next(c for text, c in TOOL_CODES.items() if text in message)
    return (int(line[1]) if line else None), code


@pytest.mark.parametrize("name", CONFS)
def test_lint_agrees_with_opendkim_n(lab: Host, workdir: str, name: str) -> None:
    conf = (FIXTURES / name).read_text()
    path = install(lab, workdir, conf)
    result = lab.run(["opendkim", "-n", "-x", path], sudo=True)
    errors = [
        f
        for f in lint_opendkim(conf, path=path)
        if f.severity == Severity.ERROR and f.code not in BEYOND_OPENDKIM_N
    ]
    if result.exit_status == 0:
        assert errors == [], result
        return
    line, code = tool_error(result.stdout + result.stderr)
    assert code in {f.code for f in errors}, result
    if line is not None:
        assert line in {f.line for f in errors if f.code == code}


@pytest.mark.parametrize("name", ["reference-opendkim.conf", "tricky-values.conf"])
def test_values_agree_with_opendkim_e(lab: Host, workdir: str, name: str) -> None:
    text = (FIXTURES / name).read_text()
    path = install(lab, workdir, text)
    conf = parse_opendkim_conf(text.replace("/etc/opendkim", workdir))
    names = {s.name.lower(): s.name for s in conf.settings}
    assert len(names) >= 10
    for setting_name in names.values():
        result = lab.run(["opendkim", "-x", path, "-e", setting_name], sudo=True)
        assert result.exit_status == 0, result
        assert result.stdout.splitlines()[0] == expected(conf, setting_name)


def expected(conf: OpendkimConf, name: str) -> str | None:
    """The value as `opendkim -e` prints it (booleans as True/False)."""
    if name.lower() in BOOLEAN_PARAMETERS:
        return str(conf.boolean(name))
    if name.lower() in INTEGER_PARAMETERS:
        return str(conf.integer(name))
    return conf.value(name)


def test_missing_files_agree_with_opendkim_n(lab: Host, workdir: str) -> None:
    # The chapter's tables, moved to a folder that does not exist (the lab's
    # own /etc/opendkim may exist: the quick start provisions it).
    conf = (
        (FIXTURES / "chapter-opendkim.conf")
        .read_text()
        .replace("/etc/opendkim/", f"{workdir}/absent/")
    )
    put(lab, f"{workdir}/opendkim.conf", conf)
    result = lab.run(["opendkim", "-n", "-x", f"{workdir}/opendkim.conf"], sudo=True)
    assert result.exit_status != 0
    output = result.stdout + result.stderr
    missing = re.search(r"(/\S+): dkimf_db_open\(\): No such file", output)
    assert missing, result
    found = check_files(lab, referenced_files(parse_opendkim_conf(conf)))
    assert missing[1] in {f.message.split()[1] for f in found}
    assert {f.code for f in found} == {"opendkim.missing-file"}


def sign(
    lab: Host, workdir: str, conf_path: str, sender: str
) -> tuple[str, str] | None:
    message = (
        f"From: {sender}\nTo: marie@monentreprise.local\nSubject: t\n"
        "Date: Fri, 04 Dec 2026 08:00:00 +0000\nMessage-ID: <t@monentreprise.local>\n"
        "\nBonjour\n"
    )
    put(lab, f"{workdir}/msg.eml", message)
    command = ["opendkim", "-x", conf_path, "-b", "s", "-t", f"{workdir}/msg.eml"]
    result = lab.run(command, sudo=True)
    signature = re.search(r"\bd=([^;]+);\s*s=([^;]+);", result.stdout)
    return (signature[1], signature[2]) if signature else None


SENDERS = [
    "jean@monentreprise.local",
    "Marie <marie@monentreprise.local>",
    "Jean <JEAN@MonEntreprise.Local>",
    "paul@ventes.monentreprise.local",
    "bob@exterieur.test",
    "eve@autre.test",
]


@pytest.mark.parametrize(
    ("tables", "refile"),
    [("chapter", False), ("reference", True), ("tricky", True), ("tricky", False)],
)
def test_signing_key_for_agrees(
    lab: Host, workdir: str, tables: str, refile: bool
) -> None:
    prefix = "refile:" if refile else ""
    conf = (
        "Socket local:/tmp/x.sock\nRequireSafeKeys no\nMode sv\n"
        f"KeyTable {workdir}/KeyTable\nSigningTable {prefix}{workdir}/SigningTable\n"
    )
    path = install(lab, workdir, conf, tables=tables)
    keys = parse_key_table((FIXTURES / f"{tables}-KeyTable").read_text())
    signing = parse_signing_table(
        (FIXTURES / f"{tables}-SigningTable").read_text(), refile=refile
    )
    for sender in SENDERS:
        address = re.sub(r".*<(.*)>", r"\1", sender)
        key = signing_key_for(address, signing, keys)
        expected = (key.domain, key.selector) if key else None
        assert sign(lab, workdir, path, sender) == expected, (sender, tables, refile)
