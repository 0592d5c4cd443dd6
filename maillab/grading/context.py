"""What a check gets: the host, its address, and cached read-only commands."""

from __future__ import annotations

import logging
import shlex
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from maillab.errors import MaillabError
from maillab.remote.host import Host
from maillab.remote.result import CommandResult

log = logging.getLogger(__name__)

# Grading never changes the student's machine: only these commands may run,
# and postconf only without its editing flags.
READ_ONLY_COMMANDS = frozenset(
    {
        "postconf",
        "postalias",
        "doveconf",
        "cat",
        "test",
        "stat",
        "systemctl",
        "ss",
        "spamc",
        "spamassassin",
        "opendkim-testkey",
        "named-checkzone",
        "apachectl",
        "php",
        "bash",
        "id",
        "getent",
        "ssh-keygen",
        "openssl",
    }
)
_EDITING_FLAGS = {
    "postconf": {"-e", "-X", "-#", "-M#", "-MX", "-PX", "-o"},
    "systemctl": set(),
    "bash": set(),
}
_ALLOWED_SUBCOMMANDS = {
    "systemctl": {"is-active", "is-enabled", "show"},
    "bash": {"-n"},
    "apachectl": {"-t", "configtest", "-S"},
    "php": {"-l"},
    "spamassassin": {"--lint"},
    "openssl": {"x509"},
    "ssh-keygen": {"-l"},
}


class NotReadOnly(MaillabError):
    """A check tried to run a command that could change the student's machine."""


def is_read_only(argv: Sequence[str]) -> bool:
    """Whether a command is one the grader may run (a read, never a change)."""
    if not argv or argv[0] not in READ_ONLY_COMMANDS:
        return False
    if set(argv[1:]) & _EDITING_FLAGS.get(argv[0], set()):
        return False
    allowed = _ALLOWED_SUBCOMMANDS.get(argv[0])
    return allowed is None or (len(argv) > 1 and argv[1] in allowed)


@dataclass
class Context:
    """One machine being graded.  Commands are memoised: each runs once a grading."""

    host: Host
    address: str
    timeout: float = 10.0
    _cache: dict[tuple[str, str], CommandResult] = field(default_factory=dict)
    _locks: dict[tuple[str, str], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    _passwords: dict[str, str] | None = field(default=None, repr=False)

    def run(self, argv: Sequence[str], *, input: str = "") -> CommandResult:
        """A read-only command's result, as root, from the cache after the first."""
        if not is_read_only(argv):
            raise NotReadOnly(f"refused to run `{shlex.join(argv)}` while grading")
        key = (shlex.join(argv), input)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = self.host.run(
                    list(argv), sudo=True, input=input or None, timeout=self.timeout
                )
            return self._cache[key]

    def read(self, path: str) -> str | None:
        """A file's text, or None when it does not exist."""
        result = self.run(["cat", "--", path])
        return result.stdout if result.ok else None

    def password(self, user: str) -> str:
        """A chapter user's mail password, from the box (never logged)."""
        from maillab.course.lab import read_passwords

        with self._guard:
            if self._passwords is None:
                self._passwords = read_passwords(self.host)
        if user not in self._passwords:
            raise MaillabError(f"no lab password known for {user}")
        return self._passwords[user]
