"""What a check gets: the host, its address, and cached read-only commands."""

from __future__ import annotations

import logging
import shlex
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from maillab.errors import MaillabError
from maillab.remote.host import Host
from maillab.remote.result import CommandResult
from maillab.remote.shell import ShellPool

log = logging.getLogger(__name__)

T = TypeVar("T")

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
    "postalias": {"-q", "-s"},  # any other use rebuilds the database
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
    """One machine being graded.  Commands are memoised: each runs once a grading.

    With `shells` (see `Host.shell_pool`) commands run in long-lived root
    shells instead of one SSH channel and one sudo each.
    """

    host: Host
    address: str
    timeout: float = 10.0
    # command results and memoised values, by key; one lock per key
    _done: dict[tuple[str, ...], object] = field(default_factory=dict, repr=False)
    _locks: dict[tuple[str, ...], threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)
    shells: ShellPool | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the root shells the commands ran in."""
        if self.shells is not None:
            self.shells.close()

    def run(self, argv: Sequence[str], *, input: str = "") -> CommandResult:
        """A read-only command's result, as root, from the cache after the first."""
        if not is_read_only(argv):
            raise NotReadOnly(f"refused to run `{shlex.join(argv)}` while grading")
        key = ("run", shlex.join(argv), input)
        return self._once(key, lambda: self._execute(argv, input))

    def _execute(self, argv: Sequence[str], input: str) -> CommandResult:
        if self.shells is None:
            return self.host.run(
                list(argv), sudo=True, input=input or None, timeout=self.timeout
            )
        data = input.encode() if input else None
        return self.shells.run(argv, input=data, timeout=self.timeout)

    def read(self, path: str) -> str | None:
        """A file's text, or None when it does not exist."""
        result = self.run(["cat", "--", path])
        return result.stdout if result.ok else None

    def password(self, user: str) -> str:
        """A chapter user's mail password, from the box (never logged)."""
        from maillab.course.lab import PASSWORDS, parse_passwords

        passwords = self.memo(
            "passwords", lambda: parse_passwords(self.read(PASSWORDS) or "")
        )
        if user not in passwords:
            raise MaillabError(f"no lab password known for {user}")
        return passwords[user]

    def memo(self, name: str, compute: Callable[[], T]) -> T:
        """`compute()`, once a grading: for what checks derive from commands."""
        return self._once(("memo", name), compute)

    def _once(self, key: tuple[str, ...], compute: Callable[[], T]) -> T:
        """One computation per key, even when several checks ask at once."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                self._done[key] = compute()
            return cast(T, self._done[key])
