"""Agreement with the real doveconf on the lab box.

Each case copies the box's /etc/dovecot into a fresh /tmp directory, puts
the case's files in it, runs `doveconf -c DIR/dovecot.conf -n`, and compares
its output line for line with maillab's parser and formatter.  Where
doveconf fails or warns, the linter must report the same file and line.
"""

from __future__ import annotations

import base64
import io
import os
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from maillab.box import Box
from maillab.config.dovecot import DovecotConfig, parse_dovecot, read_dovecot_tree
from maillab.config.dovecot_defaults import (
    DovecotDefaults,
    fetch_dovecot_defaults,
    load_dovecot_defaults,
)
from maillab.config.dovecot_format import diff_doveconf_n, format_doveconf_n
from maillab.config.dovecot_lint import lint_dovecot
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "dovecot"
CASES = FIXTURES / "cases"
PREFIX = f"/tmp/maillab-dc-{os.getpid()}"

CHAPTER = {
    "dovecot.conf": "chapter-dovecot.conf",
    "conf.d/10-auth.conf": "chapter-10-auth.conf",
    "conf.d/10-mail.conf": "chapter-10-mail.conf",
    "conf.d/10-ssl.conf": "chapter-10-ssl.conf",
    "conf.d/10-master.conf": "chapter-10-master.conf",
}


# $1 case directory.  stdin: base64 tar of the case's files (relative paths).
# Copies the box's /etc/dovecot (read only), applies the case, runs doveconf.
_CASE_SCRIPT = r"""
set -u
d=$1
rm -rf -- "$d"; mkdir -p -- "$d"; chmod 700 -- "$d"
cp -a /etc/dovecot/. "$d/"
base64 -d | tar xf - -C "$d"
doveconf -c "$d/dovecot.conf" -n > "$d.out" 2> "$d.err"
rc=$?
cat "$d.out"; printf '\n@@stderr\n'; cat "$d.err"; printf '@@rc %s\n' "$rc"
rm -rf -- "$d" "$d.out" "$d.err"
"""

_ERROR_RE = re.compile(
    r"(?:Fatal|Error): Error in configuration file (?P<file>[^ :]+)"
    r"(?: line (?P<line>\d+))?: (?P<message>.*)"
)
_WARNING_RE = re.compile(
    r"Warning: (?:Configuration file )?(?P<file>/[^ :]+)(?: line |:)(?P<line>\d+): "
    r"(?P<message>.*)"
)


@dataclass(frozen=True)
class DoveconfRun:
    exit_status: int
    stdout: str
    stderr: str

    def errors(self) -> set[tuple[str, int | None, str]]:
        return _matches(_ERROR_RE, self.stderr)

    def warnings(self) -> set[tuple[str, int | None, str]]:
        return _matches(_WARNING_RE, self.stderr)


def run_doveconf_case(host: Host, directory: str, files: dict[str, str]) -> DoveconfRun:
    """doveconf -n on a copy of /etc/dovecot in `directory`, with `files` replaced."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    payload = base64.b64encode(archive.getvalue()).decode()
    result = host.run(
        ["bash", "-c", _CASE_SCRIPT, "bash", directory], sudo=True, input=payload
    )
    out, _, rest = result.stdout.rpartition("\n@@stderr\n")
    err, _, rc = rest.rpartition("@@rc ")
    return DoveconfRun(int(rc.strip()), out, err)


def _matches(pattern: re.Pattern[str], text: str) -> set[tuple[str, int | None, str]]:
    found = set()
    for line in text.splitlines():
        match = pattern.search(line)
        if match:
            number = int(match["line"]) if match["line"] else None
            found.add((match["file"], number, match["message"]))
    return found


def _chapter_case(names: list[str]) -> dict[str, str]:
    return {name: (FIXTURES / CHAPTER[name]).read_text() for name in names}


def _fixture_case(name: str) -> dict[str, str]:
    folder = CASES / name
    return {
        str(path.relative_to(folder)): path.read_text()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _all_cases() -> dict[str, dict[str, str]]:
    cases = {f"chapter-{Path(n).stem}": _chapter_case([n]) for n in CHAPTER}
    cases["chapter-all"] = _chapter_case(list(CHAPTER))
    cases |= {path.name: _fixture_case(path.name) for path in sorted(CASES.iterdir())}
    return cases


ALL_CASES = _all_cases()


@pytest.fixture(scope="module")
def box_host(lab_box: Box) -> Iterator[Host]:
    with lab_box.host() as host:
        yield host
        host.run(f"rm -rf -- {PREFIX}-*", sudo=True)


@pytest.fixture(scope="module")
def tree(box_host: Host) -> dict[str, str]:
    return read_dovecot_tree(box_host)


@pytest.fixture(scope="module")
def defaults(
    box_host: Host, tmp_path_factory: pytest.TempPathFactory
) -> DovecotDefaults:
    return fetch_dovecot_defaults(box_host, cache_dir=tmp_path_factory.mktemp("cache"))


def _parse_case(
    tree: dict[str, str],
    directory: str,
    files: dict[str, str],
    defaults: DovecotDefaults,
) -> DovecotConfig:
    moved = {
        path.replace("/etc/dovecot/", directory + "/", 1): text
        for path, text in tree.items()
    }
    moved |= {f"{directory}/{name}": text for name, text in files.items()}
    return parse_dovecot(f"{directory}/dovecot.conf", files=moved, defaults=defaults)


def _run(host: Host, name: str) -> tuple[str, DoveconfRun]:
    directory = f"{PREFIX}-{name}"
    return directory, run_doveconf_case(host, directory, ALL_CASES[name])


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_doveconf_agrees(
    box_host: Host, tree: dict[str, str], defaults: DovecotDefaults, name: str
) -> None:
    directory, run = _run(box_host, name)
    config = _parse_case(tree, directory, ALL_CASES[name], defaults)
    findings = lint_dovecot(config, defaults=defaults)
    errors = {(f.file, f.line) for f in findings if f.severity == "error"}
    if run.exit_status == 0:
        assert diff_doveconf_n(run.stdout, format_doveconf_n(config, defaults)) == []
    else:
        assert run.errors(), run.stderr
    for file, line, message in run.errors():
        assert (file, line) in errors, (message, findings)
    warned = {(f.file, f.line) for f in findings}
    for file, line, message in run.warnings():
        assert (file, line) in warned, (message, findings)


@pytest.mark.parametrize("name", sorted(ALL_CASES))
def test_error_messages_are_doveconfs_own(
    box_host: Host, tree: dict[str, str], defaults: DovecotDefaults, name: str
) -> None:
    directory, run = _run(box_host, name)
    config = _parse_case(tree, directory, ALL_CASES[name], defaults)
    messages = {f.message for f in lint_dovecot(config, defaults=defaults)}
    told = {message for _, _, message in run.errors() | run.warnings()}
    told |= set(re.findall(r"Error: (Could not .*)", run.stderr))
    assert told <= messages


def test_chapter_plugin_message_is_doveadms(box_host: Host) -> None:
    directory = f"{PREFIX}-plugin"
    script = (
        'set -u; d=$1; rm -rf -- "$d"; mkdir -p -- "$d"; chmod 700 -- "$d"; '
        'cp -a /etc/dovecot/. "$d/"; '
        "echo 'mail_plugins = autocreate' >> \"$d/conf.d/10-mail.conf\"; "
        'doveadm -c "$d/dovecot.conf" -o mail_location=maildir:$d/m '
        '-o mail_home=$d/h mailbox list -u jean 2>&1; rc=$?; rm -rf -- "$d"; exit $rc'
    )
    result = box_host.run(["bash", "-c", script, "bash", directory], sudo=True)
    config_text = "mail_plugins = autocreate\n"
    message = [f.message for f in lint_dovecot(config_text)][0]
    assert result.exit_status != 0
    assert f"Fatal: {message}" in result.stdout


def test_committed_defaults_match_the_box(defaults: DovecotDefaults) -> None:
    committed = load_dovecot_defaults(FIXTURES / "debian12-defaults")
    assert committed.version == defaults.version
    assert committed.settings == defaults.settings
    assert committed.types == defaults.types


def test_tree_is_the_box_tree(box_host: Host, tree: dict[str, str]) -> None:
    assert tree["/etc/dovecot/dovecot.conf"] == box_host.read(
        "/etc/dovecot/dovecot.conf"
    )
    assert "/etc/dovecot/conf.d/10-master.conf" in tree
    assert not any("/private/" in path for path in tree)


def test_box_dovecot_n_agrees(
    box_host: Host, tree: dict[str, str], defaults: DovecotDefaults
) -> None:
    expected = box_host.check_output(["doveconf", "-n"], sudo=True)
    config = parse_dovecot(files=tree, defaults=defaults)
    assert diff_doveconf_n(expected, format_doveconf_n(config, defaults)) == []
