"""Long-lived root shells on a host: many short commands for one sudo each.

Each `Host.run(..., sudo=True)` costs the host an SSH channel, a shell and a
sudo session (PAM, logging) before the command itself: measured on the box,
about 9 ms of CPU per command, more than most commands grading runs.  A
`ShellPool` keeps a few `sudo -n -- sh` processes open, one SSH channel each,
and writes one command line at a time to their standard input.

Each command's output is framed on both streams by marks holding a random
token the command cannot guess, the end mark followed by its exit status.
Every command runs under coreutils `timeout`, so one that hangs is killed on
the host itself, and it reads its input (or /dev/null), never the shell's.

Shortcoming: a command that leaves a background process writing to its
output shares the shell's streams with it.  Output arriving between two
commands is dropped (it precedes the next start mark), but output arriving
during a later command would be read as that command's.  The pool is for
the grader's own short, read-only commands, which start nothing.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import secrets
import select
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from maillab.errors import CommandTimeout, HostUnreachable, MaillabError
from maillab.remote.result import CommandResult

log = logging.getLogger(__name__)

TIMED_OUT = {124, 137}  # coreutils timeout: TERM sent, then KILL


class Channel(Protocol):
    """A running shell's three streams and its exit (paramiko's channel names)."""

    def sendall(self, data: bytes) -> None: ...
    def recv_ready(self) -> bool: ...
    def recv_stderr_ready(self) -> bool: ...
    def recv(self, nbytes: int) -> bytes: ...
    def recv_stderr(self, nbytes: int) -> bytes: ...
    def exited(self) -> bool: ...
    def exit_status(self) -> int: ...
    def wait(self, timeout: float) -> None:
        """Return when there is output to read (or after `timeout` seconds)."""

    def close(self) -> None: ...


class ParamikoChannel:
    """A paramiko channel as a `Channel`."""

    def __init__(self, channel: Any) -> None:
        self._channel = channel
        self.sendall = channel.sendall
        self.recv_ready = channel.recv_ready
        self.recv_stderr_ready = channel.recv_stderr_ready
        self.recv = channel.recv
        self.recv_stderr = channel.recv_stderr
        self.close = channel.close

    def exited(self) -> bool:
        return bool(self._channel.exit_status_ready() or self._channel.closed)

    def exit_status(self) -> int:
        return int(self._channel.recv_exit_status())

    def wait(self, timeout: float) -> None:
        select.select([self._channel], [], [], timeout)


class ProcessChannel:
    """A local `sh` started with pipes, as a `Channel`."""

    def __init__(self, command: str) -> None:
        self._proc = subprocess.Popen(  # noqa: S603 - our own fixed command line
            ["/bin/sh", "-c", command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self._proc.stdin and self._proc.stdout and self._proc.stderr
        self._in, self._out, self._err = (
            self._proc.stdin,
            self._proc.stdout.fileno(),
            self._proc.stderr.fileno(),
        )
        self._ended: set[int] = set()

    def sendall(self, data: bytes) -> None:
        try:
            self._in.write(data)
            self._in.flush()
        except BrokenPipeError:
            pass  # the shell is gone: the reader sees it exit

    def _ready(self, fd: int) -> bool:
        return fd not in self._ended and bool(select.select([fd], [], [], 0)[0])

    def _read(self, fd: int, nbytes: int) -> bytes:
        data = os.read(fd, nbytes)
        if not data:
            self._ended.add(fd)  # end of file: readable, but nothing to read
        return data

    def recv_ready(self) -> bool:
        return self._ready(self._out)

    def recv_stderr_ready(self) -> bool:
        return self._ready(self._err)

    def recv(self, nbytes: int) -> bytes:
        return self._read(self._out, nbytes)

    def recv_stderr(self, nbytes: int) -> bytes:
        return self._read(self._err, nbytes)

    def exited(self) -> bool:
        return self._proc.poll() is not None

    def exit_status(self) -> int:
        return self._proc.wait()

    def wait(self, timeout: float) -> None:
        open_fds = [fd for fd in (self._out, self._err) if fd not in self._ended]
        if open_fds:
            select.select(open_fds, [], [], timeout)
        else:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(timeout)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for stream in (self._in, self._proc.stdout, self._proc.stderr):
            if stream is not None:
                with contextlib.suppress(BrokenPipeError):  # unsent input
                    stream.close()


class Shell:
    """One `sh` on the host, fed one command at a time."""

    def __init__(self, channel: Channel, name: str) -> None:
        self.channel = channel
        self.name = name
        self.alive = True
        self._token = secrets.token_hex(12).encode()

    def run(
        self, argv: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        """Run one command; after a timeout or a dead shell, `alive` is False."""
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout:g}")
        start = time.monotonic()
        shown = shlex.join(argv)
        try:
            self.channel.sendall(self._line(argv, input, timeout))
        except OSError as exc:
            self.close()
            raise HostUnreachable(
                self.name, f"the root shell is gone ({exc}) before `{shown}`"
            ) from None
        try:
            rc, out, err = self._read_until_marked(start + timeout + 5)
        except _Deadline:
            self.close()
            raise CommandTimeout(self.name, shown, timeout) from None
        if rc < 0:
            raise HostUnreachable(
                self.name, f"the root shell ended during `{shown}` (connection lost?)"
            )
        if rc in TIMED_OUT and time.monotonic() - start >= timeout:
            raise CommandTimeout(self.name, shown, timeout)
        return CommandResult(
            shown,
            rc,
            out.decode(errors="replace"),
            err.decode(errors="replace"),
            time.monotonic() - start,
        )

    def close(self) -> None:
        self.alive = False
        self.channel.close()

    def _line(self, argv: Sequence[str], input: bytes | None, timeout: float) -> bytes:
        command = f"timeout -k 2 {timeout:g} {shlex.join(argv)}"
        if input:
            data = base64.b64encode(input).decode()
            command = f"printf %s {data} | base64 -d | {command}"
        else:
            command += " </dev/null"
        t = self._token.decode()
        return (
            f"printf '{t}<\\n'; printf '{t}<\\n' >&2; {command}; "
            f"printf '\\n{t} %d\\n' $?; printf '\\n{t}\\n' >&2\n"
        ).encode()

    def _read_until_marked(self, deadline: float) -> tuple[int, bytes, bytes]:
        begin = self._token + b"<\n"
        out = _Marked(begin, b"\n" + self._token + b" ", status=True)
        err = _Marked(begin, b"\n" + self._token + b"\n")
        while True:
            while self.channel.recv_ready():
                out.feed(self.channel.recv(65536))
            while self.channel.recv_stderr_ready():
                err.feed(self.channel.recv_stderr(65536))
            if out.done and err.done:
                return out.status, out.text, err.text
            if self.channel.exited():
                # The shell itself is gone (sudo refused, or it was killed).
                self.alive = False
                if not (self.channel.recv_ready() or self.channel.recv_stderr_ready()):
                    return self.channel.exit_status(), out.leftover, err.leftover
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Deadline
            self.channel.wait(min(remaining, 0.5))


class _Marked:
    """One stream of one command: what comes between its start and end marks.

    What arrives before the start mark is dropped: late output of a process
    an earlier command left in the background.  The marks are searched in
    the new bytes only, so a long output is read in linear time.
    """

    def __init__(self, begin: bytes, end: bytes, *, status: bool = False) -> None:
        self._buf = bytearray()
        self._begin, self._end, self._status = begin, end, status
        self._start = -1  # where the command's output starts
        self._stop = -1  # where the end mark is
        self._scanned = 0

    def feed(self, data: bytes) -> None:
        self._buf += data
        if self._start < 0:
            at = self._buf.find(self._begin, max(0, self._scanned - len(self._begin)))
            self._scanned = len(self._buf)
            if at < 0:
                return
            self._start = self._scanned = at + len(self._begin)
        if self._stop < 0:
            since = max(self._start, self._scanned - len(self._end))
            at = self._buf.find(self._end, since)
            self._scanned = len(self._buf)
            if at >= 0:
                self._stop = at

    @property
    def done(self) -> bool:
        if self._stop < 0:
            return False
        return not self._status or self._buf.find(b"\n", self._stop + 1) >= 0

    @property
    def text(self) -> bytes:
        return bytes(self._buf[self._start : self._stop])

    @property
    def status(self) -> int:
        line = self._buf[self._stop + len(self._end) :].split(b"\n", 1)[0]
        return int(line)

    @property
    def leftover(self) -> bytes:
        """Everything after the start mark (or all), when the shell died."""
        return bytes(self._buf[max(self._start, 0) :])


class _Deadline(Exception):
    pass


class PoolClosed(MaillabError):
    """A command for a ShellPool after its close (a check that outlived grading)."""


class Opener(Protocol):
    def __call__(self, command: str, timeout: float) -> Channel: ...


class ShellPool:
    """Up to `size` shells, opened when all the others are busy."""

    def __init__(
        self, opener: Opener, name: str, *, size: int = 4, as_root: bool = False
    ) -> None:
        self._open = opener
        self.name = name
        self._command = "sh" if as_root else "sudo -n -- sh"
        self.size = size
        self._idle: list[Shell] = []
        self._count = 0
        self._ready = threading.Condition()
        self._closed = False
        self.opened = 0  # how many shells were started: one sudo each

    def run(
        self, argv: Sequence[str], *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        """Run a command as root in one of the pool's shells."""
        with self._shell(timeout) as shell:
            try:
                return shell.run(argv, input=input, timeout=timeout)
            except BaseException:
                shell.close()  # it may hold half a command line: never reuse it
                raise

    def close(self) -> None:
        with self._ready:
            self._closed = True
            for shell in self._idle:
                shell.close()
            self._count -= len(self._idle)
            self._idle.clear()
            self._ready.notify_all()

    @contextmanager
    def _shell(self, timeout: float) -> Iterator[Shell]:
        shell = self._take(timeout)
        try:
            yield shell
        finally:
            self._give_back(shell)

    def _take(self, timeout: float) -> Shell:
        with self._ready:
            while not self._closed and not self._idle and self._count >= self.size:
                self._ready.wait()
            if self._closed:
                raise PoolClosed(f"{self.name}: the root shells are closed")
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            channel = self._open(self._command, timeout)
        except BaseException:
            with self._ready:
                self._count -= 1
                self._ready.notify()
            raise
        self.opened += 1
        log.debug("%s: root shell %d opened", self.name, self.opened)
        return Shell(channel, self.name)

    def _give_back(self, shell: Shell) -> None:
        with self._ready:
            if shell.alive and not self._closed:
                self._idle.append(shell)
            else:
                self._count -= 1
                shell.close()
            self._ready.notify()
