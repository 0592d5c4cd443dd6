"""`Host`: run commands, read and write files, and look at services on a lab machine."""

from __future__ import annotations

import logging
import shlex
from collections.abc import Sequence

from maillab.errors import (
    CommandFailed,
    CommandTimeout,
    RemoteFileError,
    ValidationFailed,
)
from maillab.remote.backend import Backend
from maillab.remote.listeners import Listener, parse_ss
from maillab.remote.result import CommandResult, WriteResult
from maillab.remote.service import Service
from maillab.remote.shell import ShellPool

log = logging.getLogger(__name__)

BACKUP_ROOT = "/var/backups/maillab"

# Runs as root on the host.  $1 path, $2 owner, $3 mode, $4 backup root.
# Exit 3: no such directory.  Prints "unchanged" or "changed BACKUP".
_WRITE_SCRIPT = r"""
set -eu
path=$1 owner=$2 mode=$3 root=$4
dir=$(dirname -- "$path")
[ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit 3; }
tmp=$(mktemp "$dir/.maillab.XXXXXX")
trap 'rm -f -- "$tmp"' EXIT
cat > "$tmp"
backup=
if [ -e "$path" ] && cmp -s -- "$tmp" "$path"; then
  before=$(stat -c %U:%G:%a -- "$path")
  [ -z "$owner" ] || chown -- "$owner" "$path"
  [ -z "$mode" ] || chmod -- "$mode" "$path"
  [ "$(stat -c %U:%G:%a -- "$path")" = "$before" ] && echo unchanged || echo changed
  exit 0
fi
if [ -e "$path" ]; then
  chown --reference="$path" -- "$tmp"
  chmod --reference="$path" -- "$tmp"
  backup="$root$path.$(date +%Y%m%d-%H%M%S)"
  n=1; base=$backup
  while [ -e "$backup" ]; do backup="$base.$n"; n=$((n + 1)); done
  mkdir -p -- "$(dirname -- "$backup")"
  cp -p -- "$path" "$backup"
fi
[ -n "$backup" ] || chmod 0644 -- "$tmp"  # a new file: mktemp made it 0600
[ -z "$owner" ] || chown -- "$owner" "$tmp"
[ -z "$mode" ] || chmod -- "$mode" "$tmp"
mv -f -- "$tmp" "$path"
trap - EXIT
echo "changed $backup"
"""

# $1 path, $2 backup ("" when the file did not exist before).
_ROLLBACK_SCRIPT = r"""
set -eu
if [ -n "$2" ]; then cp -p -- "$2" "$1"; else rm -f -- "$1"; fi
"""


class Host:
    """A lab machine, reached through a backend (SSH or local)."""

    def __init__(
        self, backend: Backend, *, timeout: float = 60.0, backup_root: str = BACKUP_ROOT
    ) -> None:
        self.backend = backend
        self.name = backend.name
        self.timeout = timeout
        self.backup_root = backup_root

    def __repr__(self) -> str:
        return f"Host({self.name!r})"

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.backend.close()

    def run(
        self,
        command: str | Sequence[str],
        *,
        sudo: bool = False,
        check: bool = False,
        input: str | bytes | None = None,
        timeout: float | None = None,
    ) -> CommandResult:
        """Run a command: a string goes through the shell, a list is quoted per word.

        With `check=True` a non-zero exit raises `CommandFailed`.  A command
        still running after `timeout` raises `CommandTimeout`, and coreutils
        `timeout` kills it on the host a second later (closing the channel
        alone would leave it running).
        """
        line = command if isinstance(command, str) else shlex.join(command)
        limit = timeout or self.timeout
        line = f"timeout -k 2 {limit + 1:g} sh -c {shlex.quote(line)}"
        if sudo and not getattr(self.backend, "runs_as_root", False):
            line = "sudo -n -- " + line
        data = input.encode() if isinstance(input, str) else input
        try:
            result = self.backend.execute(line, input=data, timeout=limit)
        except CommandTimeout:
            raise CommandTimeout(self.name, _shown(command), limit) from None
        if check and not result.ok:
            raise CommandFailed(self.name, _as_typed(result, command))
        return _as_typed(result, command)

    def shell_pool(self, size: int = 4) -> ShellPool | None:
        """Long-lived root shells for many short reads (None: backend has none)."""
        opener = getattr(self.backend, "open_shell", None)
        if opener is None:
            return None
        as_root = getattr(self.backend, "runs_as_root", False)
        return ShellPool(opener, self.name, size=size, as_root=as_root)

    def check_output(self, command: str | Sequence[str], **kwargs: object) -> str:
        """The standard output of a command that must succeed."""
        return self.run(command, check=True, **kwargs).stdout  # type: ignore[arg-type]

    def exists(self, path: str, *, sudo: bool = True) -> bool:
        return self.run(["test", "-e", path], sudo=sudo).ok

    def read(
        self, path: str, *, sudo: bool = True, timeout: float | None = None
    ) -> str:
        """The text of a file on the host (read as root unless sudo=False)."""
        result = self.run(["cat", "--", path], sudo=sudo, timeout=timeout)
        if not result.ok:
            raise RemoteFileError(self.name, path, _read_problem(result.stderr))
        return result.stdout

    def write(
        self,
        path: str,
        text: str,
        *,
        owner: str | None = None,
        mode: int | str | None = None,
        validate: str | Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> WriteResult:
        """Replace a file atomically, keeping a timestamped backup of the old one.

        The new file keeps the old one's owner and mode; a new file is
        root-owned, mode 0644, unless `owner` and `mode` say otherwise.

        The backup goes under /var/backups/maillab/<path>.<date-time>, out of
        reach of every service's include globs.  `validate` is a command run
        after the write (for example `postfix check`); when it fails, the
        previous file is put back and `ValidationFailed` is raised.
        """
        if not path.startswith("/"):
            raise RemoteFileError(self.name, path, "give an absolute path")
        mode_text = format(mode, "o") if isinstance(mode, int) else (mode or "")
        argv = [
            "sh",
            "-c",
            _WRITE_SCRIPT,
            "sh",
            path,
            owner or "",
            mode_text,
            self.backup_root,
        ]
        result = self.run(argv, sudo=True, input=text, timeout=timeout)
        if not result.ok:
            raise RemoteFileError(self.name, path, _write_problem(result))
        status, _, backup = result.stdout.strip().partition(" ")
        written = WriteResult(path, status == "changed", backup or None)
        log.debug(
            "%s: wrote %s (changed=%s, backup=%s)",
            self.name,
            path,
            written.changed,
            written.backup,
        )
        if validate is not None and written.changed:
            self._validate_or_roll_back(written, validate, timeout)
        return written

    def backups(self, path: str) -> list[str]:
        """The backups `write` kept of a file, oldest first."""
        pattern = shlex.quote(f"{self.backup_root}{path}.") + "[0-9]*"
        result = self.run(f"ls -1d -- {pattern} 2>/dev/null", sudo=True)
        return sorted(result.stdout.split())

    def restore(self, path: str, backup: str | None = None) -> WriteResult:
        """Put a backup back (the newest by default); the current file is backed up."""
        candidates = [backup] if backup else self.backups(path)[-1:]
        if not candidates:
            raise RemoteFileError(self.name, path, "has no backup to restore")
        return self.write(path, self.read(candidates[0]))

    def service(self, name: str) -> Service:
        return Service(self, name)

    def listening(self, *, udp: bool = False) -> list[Listener]:
        """The sockets in LISTEN state (and bound UDP sockets with udp=True)."""
        flags = "-Hlntup" if udp else "-Hlntp"
        output = self.check_output(["ss", flags], sudo=True)
        return parse_ss(output, netid="udp" if udp else "tcp")

    def _validate_or_roll_back(
        self, written: WriteResult, validate: str | Sequence[str], timeout: float | None
    ) -> None:
        check = self.run(validate, sudo=True, timeout=timeout)
        if check.ok:
            return
        rollback = [
            "sh",
            "-c",
            _ROLLBACK_SCRIPT,
            "sh",
            written.path,
            written.backup or "",
        ]
        self.run(rollback, sudo=True, check=True)
        log.warning("%s: %s failed validation; rolled back", self.name, written.path)
        raise ValidationFailed(self.name, written.path, check)


def _as_typed(result: CommandResult, command: str | Sequence[str]) -> CommandResult:
    """The result, naming the command as the caller wrote it (not the sudo wrapper)."""
    return CommandResult(
        _shown(command),
        result.exit_status,
        result.stdout,
        result.stderr,
        result.duration,
    )


def _shown(command: str | Sequence[str]) -> str:
    shown = command if isinstance(command, str) else shlex.join(command)
    return shown if len(shown) <= 200 else shown[:197] + "..."


def _read_problem(stderr: str) -> str:
    if "No such file" in stderr:
        return "no such file on the host"
    if "Is a directory" in stderr:
        return "is a directory, not a file"
    if "password is required" in stderr:
        return "sudo asks for a password; give this user passwordless sudo"
    return stderr.strip() or "cannot be read"


def _write_problem(result: CommandResult) -> str:
    if result.exit_status == 3:
        return (
            f"{result.stderr.strip()}; nothing was changed. "
            "Create the directory first (mkdir -p)"
        )
    if "password is required" in result.stderr:
        return "sudo asks for a password; give this user passwordless sudo"
    return f"write failed, nothing was changed: {result.stderr.strip()}"
