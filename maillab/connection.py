"""`connect()`: one call from a notebook to any kind of lab machine."""

from __future__ import annotations

import os

from maillab.remote.host import Host
from maillab.remote.local import LocalBackend
from maillab.remote.ssh import SSHBackend
from maillab.remote.sshconfig import (
    SSHSettings,
    settings_from_config,
    vagrant_settings,
)


def connect(
    alias: str | None = None,
    *,
    box: str | None = None,
    vagrant: str | os.PathLike[str] | None = None,
    machine: str | None = None,
    host: str | None = None,
    port: int = 22,
    user: str | None = None,
    key: str | None = None,
    ssh_config: str | os.PathLike[str] | None = None,
    local: bool = False,
    timeout: float = 60.0,
) -> Host:
    """A `Host` for a lab machine.

    - `connect()`: the default lab box (`connect(box="b2")` for another one);
    - `connect(vagrant="vagrant/")`: a Vagrant VM, by `vagrant ssh-config`;
    - `connect("student42")`: a Host entry of ~/.ssh/config (or `ssh_config=`);
    - `connect(host="...", port=, user=, key=)`: any SSH server;
    - `connect(local=True)`: this very machine (inside the VM).

    `timeout` is the default for every command run on the host.
    """
    if local:
        return Host(LocalBackend(), timeout=timeout)
    if vagrant is not None:
        return Host(
            SSHBackend(vagrant_settings(vagrant, machine=machine)), timeout=timeout
        )
    if alias is not None:
        return Host(
            SSHBackend(settings_from_config(alias, path=ssh_config)), timeout=timeout
        )
    if host is not None:
        settings = SSHSettings(
            hostname=host,
            port=port,
            user=user,
            identity_files=(os.path.expanduser(key),) if key else (),
        )
        return Host(SSHBackend(settings), timeout=timeout)
    from maillab.box import Box

    return Box(box or "default").host(timeout=timeout)
