"""The SSH backend: paramiko, with pinned host keys, ProxyJump and timeouts."""

from __future__ import annotations

import logging
import os
import select
import socket
import time
from typing import Any

import paramiko

from maillab.errors import (
    AuthenticationRefused,
    CommandTimeout,
    HostKeyChanged,
    HostUnreachable,
    MaillabError,
)
from maillab.remote.result import CommandResult
from maillab.remote.shell import ParamikoChannel
from maillab.remote.sshconfig import SSHSettings, settings_from_config

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0


class SSHBackend:
    """Runs commands on a host over one SSH connection, opened on first use."""

    def __init__(
        self, settings: SSHSettings, *, connect_timeout: float | None = None
    ) -> None:
        self.settings = settings
        self.name = settings.label
        self.connect_timeout = (
            connect_timeout or settings.connect_timeout or CONNECT_TIMEOUT
        )
        self._client: paramiko.SSHClient | None = None
        self._jump: SSHBackend | None = None

    def execute(
        self, command: str, *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        log.debug("%s: %s", self.name, command)
        start = time.monotonic()
        channel = self._open_session(timeout)
        try:
            channel.exec_command(command)
            if input:
                channel.sendall(input)
            channel.shutdown_write()
            stdout, stderr = _drain(channel, start + timeout)
        except _Deadline:
            raise CommandTimeout(self.name, command, timeout) from None
        finally:
            channel.close()
        return CommandResult(
            command,
            channel.recv_exit_status(),
            stdout.decode(errors="replace"),
            stderr.decode(errors="replace"),
            time.monotonic() - start,
        )

    def open_shell(self, command: str, timeout: float) -> ParamikoChannel:
        """A channel running `command` (a shell), left open for `ShellPool`."""
        channel = self._open_session(timeout)
        channel.exec_command(command)
        return ParamikoChannel(channel)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._jump is not None:
            self._jump.close()
            self._jump = None

    def transport(self) -> paramiko.Transport:
        """The live transport, connecting (again) if needed."""
        client = self._client
        if client is None or not _is_alive(client):
            self.close()
            client = self._client = self._connect()
        transport = client.get_transport()
        assert transport is not None
        return transport

    def _open_session(self, timeout: float) -> paramiko.Channel:
        try:
            return self.transport().open_session(timeout=min(timeout, 30))
        except (paramiko.SSHException, OSError) as exc:
            # A connection that died between two commands: try once more.
            log.debug("%s: reopening the connection (%s)", self.name, exc)
            self.close()
            return self.transport().open_session(timeout=min(timeout, 30))

    def _connect(self) -> paramiko.SSHClient:
        s = self.settings
        client = paramiko.SSHClient()
        _load_known_hosts(client, s)
        client.set_missing_host_key_policy(_policy(s))
        try:
            client.connect(
                s.hostname,
                port=s.port,
                username=s.user,
                key_filename=list(s.identity_files) or None,
                timeout=self.connect_timeout,
                banner_timeout=self.connect_timeout,
                auth_timeout=self.connect_timeout,
                sock=self._proxy_socket(),
                allow_agent=not s.identity_files,
                look_for_keys=not s.identity_files,
            )
        except paramiko.BadHostKeyException as exc:
            raise HostKeyChanged(
                self.name,
                f"the host key ({exc.key.get_name()}) is not the one pinned in "
                f"{', '.join(s.known_hosts)}. If the machine was rebuilt, remove its "
                "line there; otherwise do not connect: someone may be in between",
            ) from None
        except paramiko.AuthenticationException:
            keys = ", ".join(s.identity_files) or "your SSH agent and default keys"
            raise AuthenticationRefused(
                self.name,
                f"user {s.user or os.environ.get('USER', '?')} was refused "
                f"with {keys}; "
                "check User and IdentityFile for this host",
            ) from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise HostKeyChanged(
                    self.name,
                    f"its host key is unknown ({', '.join(s.known_hosts)}); "
                    "connect once with `ssh` to check and accept it",
                ) from None
            raise HostUnreachable(self.name, f"SSH failed: {exc}") from None
        except (OSError, EOFError) as exc:
            raise HostUnreachable(
                self.name,
                f"cannot reach {s.hostname}:{s.port} ({_reason(exc)}); "
                "is the machine up? (`maillab status`, or `vagrant status`)",
            ) from None
        transport = client.get_transport()
        if transport is not None:
            transport.set_keepalive(30)
        return client

    def _proxy_socket(self) -> Any:
        s = self.settings
        if s.proxy_command:
            return paramiko.ProxyCommand(s.proxy_command)
        if not s.proxy_jump:
            return None
        first, _, rest = s.proxy_jump.partition(",")
        jump = _jump_settings(first, s)
        if rest:
            jump = SSHSettings(**{**jump.__dict__, "proxy_jump": rest})
        self._jump = SSHBackend(jump, connect_timeout=self.connect_timeout)
        try:
            return self._jump.transport().open_channel(
                "direct-tcpip",
                (s.hostname, s.port),
                ("127.0.0.1", 0),
                timeout=self.connect_timeout,
            )
        except paramiko.ChannelException as exc:
            raise HostUnreachable(
                self.name, f"the jump host {first} cannot reach {s.hostname}: {exc}"
            ) from None


class _Deadline(Exception):
    pass


def _drain(channel: paramiko.Channel, deadline: float) -> tuple[bytes, bytes]:
    out, err = bytearray(), bytearray()
    while True:
        while channel.recv_ready():
            out += channel.recv(65536)
        while channel.recv_stderr_ready():
            err += channel.recv_stderr(65536)
        pending = channel.recv_ready() or channel.recv_stderr_ready()
        finished = channel.eof_received or channel.closed
        if channel.exit_status_ready() and finished and not pending:
            return bytes(out), bytes(err)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Deadline
        select.select([channel], [], [], min(remaining, 0.5))


def _is_alive(client: paramiko.SSHClient) -> bool:
    transport = client.get_transport()
    return transport is not None and transport.is_active()


def _load_known_hosts(client: paramiko.SSHClient, s: SSHSettings) -> None:
    for name in s.known_hosts:
        path = os.path.expanduser(name)
        if path != os.devnull and os.path.isfile(path):
            client.load_host_keys(path)


def _policy(s: SSHSettings) -> paramiko.MissingHostKeyPolicy:
    if s.strict_host_key_checking == "no":
        return _AcceptPolicy()
    if s.strict_host_key_checking == "accept-new":
        return paramiko.AutoAddPolicy()
    return paramiko.RejectPolicy()


class _AcceptPolicy(paramiko.MissingHostKeyPolicy):
    """StrictHostKeyChecking no: accept the key without saving it (as Vagrant asks)."""

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        log.debug("%s: accepting an unpinned host key, as configured", hostname)


def _jump_settings(spec: str, target: SSHSettings) -> SSHSettings:
    user, _, hostport = spec.rpartition("@")
    host, _, port = hostport.partition(":")
    if target.config_path:
        try:
            jump = settings_from_config(host, path=target.config_path)
        except MaillabError:
            jump = None
        if jump is not None:
            return SSHSettings(
                **{
                    **jump.__dict__,
                    "user": user or jump.user,
                    "port": int(port) if port else jump.port,
                }
            )
    return SSHSettings(
        hostname=host,
        port=int(port or 22),
        user=user or None,
        known_hosts=target.known_hosts,
        strict_host_key_checking=target.strict_host_key_checking,
    )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
        # one socket error per address tried: say what the first one was
        for error in exc.errors.values():
            text = getattr(error, "strerror", None)
            if text:
                return str(text)[0].lower() + str(text)[1:]
        return "connection refused"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
