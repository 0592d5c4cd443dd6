"""main.cf and master.cf against the real postconf on the lab box."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.config.findings import Finding
from maillab.config.postfix_main import (
    effective,
    lint_main_cf,
    parse_main_cf,
    read_postconf_defaults,
)
from maillab.config.postfix_master import (
    lint_master_cf,
    parse_master_cf,
    postconf_m,
    postconf_p,
)
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

CORPUS = Path(__file__).parents[1] / "fixtures" / "config" / "postfix"
MAIN_FILES = sorted(p.name for p in CORPUS.glob("*.cf") if "master" not in p.name)
MASTER_FILES = sorted(p.name for p in CORPUS.glob("*master*.cf"))
POSTCONF = "/usr/sbin/postconf"
# postconf warnings that a linter finding must repeat
_TOOL_CODES = {
    "postfix.duplicate-parameter",
    "postfix.unused-parameter",
    "postfix.undefined-parameter",
    "postfix.truncated",
    "postfix.empty-macro-name",
    "postfix.leading-whitespace",
    "postfix.master.missing-brace",
}
_WARNING = re.compile(r"^\S+: warning: (?:(\S+?), line (\d+): |\S+: )?(.*)$")


@pytest.fixture
def box_dir(lab: Host) -> Iterator[str]:
    """A fresh directory under /tmp on the box, removed afterwards."""
    path = lab.check_output(["mktemp", "-d", "/tmp/cfgpf-XXXXXX"]).strip()
    yield path
    lab.run(["rm", "-rf", "--", path])


def put(lab: Host, path: str, text: str) -> None:
    """Write a file on the box, dated a minute back.

    Postfix's dict_load_file() reads a file again and again while its mtime
    is within the last second (it may still be changing), and each new read
    warns "overriding earlier entry" against the read before.
    """
    script = 'cat > "$1" && touch -d "1 minute ago" "$1"'
    lab.run(["sh", "-c", script, "sh", path], input=text, check=True)


def warnings(stderr: str) -> set[tuple[int | None, str]]:
    """postconf's distinct warnings, as (line or None, message)."""
    found = set()
    for line in stderr.splitlines():
        match = _WARNING.match(line)
        if match:
            number = int(match.group(2)) if match.group(2) else None
            found.add((number, match.group(3)))
    return found


def assert_same_warnings(
    tool: set[tuple[int | None, str]], findings: list[Finding]
) -> None:
    """Each postconf warning is a finding, and each such finding a warning."""
    ours = [f for f in findings if f.code in _TOOL_CODES]
    for line, message in tool:
        assert any(
            f.message.startswith(message) and (line is None or f.line == line)
            for f in ours
        ), f"postconf warns {message!r} (line {line}); lint: {ours}"
    for finding in ours:
        assert any(finding.message.startswith(m) for _, m in tool), finding


@pytest.mark.parametrize("name", MAIN_FILES)
def test_main_cf_agrees_with_postconf_n_and_nx(
    lab: Host, box_dir: str, name: str
) -> None:
    text = (CORPUS / name).read_text()
    lab.run(["cp", "/etc/postfix/master.cf", f"{box_dir}/master.cf"], check=True)
    put(lab, f"{box_dir}/main.cf", text)
    defaults = read_postconf_defaults(lab)
    master = parse_master_cf(lab.read("/etc/postfix/master.cf"))
    conf = parse_main_cf(text, path=f"{box_dir}/main.cf")
    view = effective(conf, defaults, master=master, config_directory=box_dir)

    plain = lab.run([POSTCONF, "-c", box_dir, "-n"])
    expanded = lab.run([POSTCONF, "-c", box_dir, "-nx"])

    assert plain.exit_status == 0, plain.stderr
    assert view.postconf_n().splitlines() == plain.stdout.splitlines()
    assert view.postconf_nx().splitlines() == expanded.stdout.splitlines()
    findings = lint_main_cf(conf, defaults=defaults, master=master)
    assert_same_warnings(warnings(plain.stderr), findings)


@pytest.mark.parametrize("name", MAIN_FILES)
def test_postmap_fatal_errors_are_lint_errors(
    lab: Host, box_dir: str, name: str
) -> None:
    """postmap checks every global parameter: its fatal error must be a finding."""
    text = (CORPUS / name).read_text()
    put(lab, f"{box_dir}/main.cf", text)
    defaults = read_postconf_defaults(lab)
    command = f"/usr/sbin/postmap -c {shlex.quote(box_dir)} -q a 'inline:{{a=b}}'"
    result = lab.run(command)
    errors = [f for f in lint_main_cf(text, defaults=defaults) if f.severity == "error"]
    fatal = re.search(r"fatal: (.*)", result.stderr)
    if fatal:
        assert any(f.message.startswith(fatal.group(1)) for f in errors), errors
    else:
        assert result.stdout == "b\n", result.stderr
        assert errors == []


@pytest.mark.parametrize(
    "line",
    [
        "not a parameter line",
        "= novalue",
        "sp ace = 1",
    ],
)
def test_fatal_syntax_is_an_error_finding(lab: Host, box_dir: str, line: str) -> None:
    text = f"myhostname = a.example\n{line}\n"
    put(lab, f"{box_dir}/main.cf", text)
    result = lab.run([POSTCONF, "-c", box_dir, "-n"])
    fatal = re.search(r"fatal: \S+, line (\d+): (.*)", result.stderr)
    assert result.exit_status == 1 and fatal, result.stderr
    findings = [f for f in lint_main_cf(text) if f.severity == "error"]
    assert [(f.line, f.message.split("; ")[0]) for f in findings] == [
        (int(fatal.group(1)), fatal.group(2))
    ]


@pytest.mark.parametrize("name", MASTER_FILES)
def test_master_cf_agrees_with_postconf_m_and_p(
    lab: Host, box_dir: str, name: str
) -> None:
    text = (CORPUS / name).read_text()
    put(lab, f"{box_dir}/main.cf", "")
    put(lab, f"{box_dir}/master.cf", text)
    conf = parse_master_cf(text, path=f"{box_dir}/master.cf")

    services = lab.run([POSTCONF, "-c", box_dir, "-M"])
    options = lab.run([POSTCONF, "-c", box_dir, "-P"])

    assert services.exit_status == 0, services.stderr
    assert postconf_m(conf).splitlines() == services.stdout.splitlines()
    assert postconf_p(conf).splitlines() == options.stdout.splitlines()
    defaults = read_postconf_defaults(lab)
    findings = lint_master_cf(text, defaults=defaults, main_values={})
    assert_same_warnings(warnings(services.stderr + options.stderr), findings)


@pytest.mark.parametrize(
    "entry",
    [
        "smtp inet n - y - -",
        "smtp tcp n - y - - smtpd",
        "smtp inet x - y - - smtpd",
        "smtp inet n - q - - smtpd",
        "smtp inet n - y abc - smtpd",
        "smtp inet n - y - z smtpd",
    ],
)
def test_master_field_errors_match_postconf(
    lab: Host, box_dir: str, entry: str
) -> None:
    put(lab, f"{box_dir}/main.cf", "")
    put(lab, f"{box_dir}/master.cf", entry + "\n")
    result = lab.run([POSTCONF, "-c", box_dir, "-M"])
    fatal = re.search(r"fatal: (.*)", result.stderr)
    assert result.exit_status == 1 and fatal, result.stderr
    findings = lint_master_cf(entry + "\n", path=f"{box_dir}/master.cf")
    assert [f.severity for f in findings] == ["error"]
    assert findings[0].message.startswith(fatal.group(1)), findings
