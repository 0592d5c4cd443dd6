"""Helpers for the Dovecot agreement tests: run doveconf on a copy of /etc/dovecot."""

from __future__ import annotations

import base64
import io
import re
import tarfile
from dataclasses import dataclass

from maillab.remote.host import Host

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
