"""SSH settings for a host: from ssh_config(5) files and from `vagrant ssh-config`.

paramiko reads the Host blocks; this module adds what paramiko leaves out
(Include, the check that an alias really exists) and turns a lookup into a
typed `SSHSettings`.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import shlex
import subprocess
from dataclasses import dataclass, field, replace
from pathlib import Path

import paramiko

from maillab.errors import UnknownHost, VagrantError

DEFAULT_CONFIG = Path("~/.ssh/config")
DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts",)


@dataclass(frozen=True)
class SSHSettings:
    """Everything needed to open one SSH connection."""

    hostname: str
    port: int = 22
    user: str | None = None
    identity_files: tuple[str, ...] = ()
    known_hosts: tuple[str, ...] = DEFAULT_KNOWN_HOSTS
    # "yes": refuse unknown keys; "accept-new": pin on first use; "no": accept any.
    strict_host_key_checking: str = "yes"
    proxy_jump: str | None = None
    proxy_command: str | None = None
    connect_timeout: float | None = None
    alias: str | None = None
    config_path: str | None = field(default=None, compare=False)

    @property
    def label(self) -> str:
        """How the host is named in messages: its alias, or user@host:port."""
        if self.alias:
            return self.alias
        user = f"{self.user}@" if self.user else ""
        return f"{user}{self.hostname}:{self.port}"


def read_config_text(path: Path) -> str:
    """The text of an ssh_config file with its Include lines expanded in place."""
    lines: list[str] = []
    for line in path.read_text().splitlines():
        words = line.strip().split(None, 1)
        if len(words) == 2 and words[0].lower() == "include":
            for pattern in shlex.split(words[1]):
                lines.extend(_included(pattern, path.parent))
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def _included(pattern: str, base: Path) -> list[str]:
    pattern = os.path.expanduser(pattern)
    if not os.path.isabs(pattern):
        pattern = str(base / pattern)
    text: list[str] = []
    for name in sorted(glob.glob(pattern)):
        text.extend(read_config_text(Path(name)).splitlines())
    return text


def parse_config(text: str) -> paramiko.SSHConfig:
    """Parse ssh_config text (no Include expansion: see `read_config_text`)."""
    return paramiko.SSHConfig.from_text(text)


def has_host(config: paramiko.SSHConfig, alias: str) -> bool:
    """Whether a Host block other than a bare `*` names this alias."""
    for pattern in config.get_hostnames():
        if pattern == "*" or pattern.startswith("!"):
            continue
        if fnmatch.fnmatchcase(alias, pattern):
            return True
    return False


def settings_for(
    alias: str, *, config: paramiko.SSHConfig, config_path: str | None = None
) -> SSHSettings:
    """The settings ssh would use for `alias` under this configuration."""
    entry = config.lookup(alias)
    known = entry.get("userknownhostsfile")
    timeout = entry.get("connecttimeout")
    return SSHSettings(
        hostname=entry.get("hostname", alias),
        port=int(entry.get("port", 22)),
        user=entry.get("user"),
        identity_files=tuple(
            os.path.expanduser(f) for f in entry.get("identityfile", [])
        ),
        known_hosts=tuple(shlex.split(known)) if known else DEFAULT_KNOWN_HOSTS,
        strict_host_key_checking=_strictness(entry.get("stricthostkeychecking")),
        proxy_jump=_none_if_none(entry.get("proxyjump")),
        proxy_command=entry.get("proxycommand"),
        connect_timeout=float(timeout) if timeout else None,
        alias=alias,
        config_path=config_path,
    )


def _strictness(value: str | None) -> str:
    value = (value or "ask").lower()
    if value in ("no", "off"):
        return "no"
    if value == "accept-new":
        return "accept-new"
    return "yes"


def _none_if_none(value: str | None) -> str | None:
    return None if value is None or value.lower() == "none" else value


def settings_from_config(
    alias: str, *, path: str | os.PathLike[str] | None = None
) -> SSHSettings:
    """Look `alias` up in an ssh_config file (by default ~/.ssh/config)."""
    config_path = Path(path or DEFAULT_CONFIG).expanduser()
    if not config_path.is_file():
        raise UnknownHost(
            f"no SSH configuration at {config_path}, so no host {alias!r}; "
            "add a Host block there, or pass host=, port=, user= and key="
        )
    config = parse_config(read_config_text(config_path))
    if not has_host(config, alias):
        raise UnknownHost(
            f"{config_path} has no Host entry for {alias!r}; add one "
            f"(Host {alias} / HostName ... / User ...), or pass host= instead"
        )
    return settings_for(alias, config=config, config_path=str(config_path))


def parse_vagrant_ssh_config(text: str, *, machine: str | None = None) -> SSHSettings:
    """Settings from the output of `vagrant ssh-config`, for one machine.

    Vagrant prints one Host block per running machine.  Ports, key paths and
    options vary with the provider and the Vagrant version, so every field is
    read from the text rather than assumed.
    """
    config = parse_config(text)
    names = [h for h in config.get_hostnames() if h != "*"]
    if not names:
        raise VagrantError("`vagrant ssh-config` printed no Host block")
    if machine is None:
        if len(names) > 1:
            raise VagrantError(
                "this Vagrant project has several machines "
                f"({', '.join(sorted(names))}); "
                "pass machine= to choose one"
            )
        machine = names[0]
    elif machine not in names:
        raise VagrantError(
            f"no running Vagrant machine {machine!r} "
            f"(running: {', '.join(sorted(names))})"
        )
    settings = settings_for(machine, config=config)
    return replace(settings, alias=f"vagrant:{machine}")


def vagrant_settings(
    directory: str | os.PathLike[str],
    *,
    machine: str | None = None,
    timeout: float = 120,
) -> SSHSettings:
    """Run `vagrant ssh-config` in `directory` and parse its output."""
    directory = Path(directory).expanduser()
    if not (directory / "Vagrantfile").is_file():
        raise VagrantError(
            f"{directory} has no Vagrantfile; pass the folder that holds it"
        )
    argv = ["vagrant", "ssh-config"] + ([machine] if machine else [])
    try:
        proc = subprocess.run(
            argv,
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise VagrantError(
            "vagrant is not installed; install it, or use the lab box (`maillab up`)"
        ) from None
    except subprocess.TimeoutExpired:
        raise VagrantError(
            f"`vagrant ssh-config` in {directory} took more than {timeout:g} s"
        ) from None
    if proc.returncode != 0:
        raise VagrantError(_vagrant_failure(directory, proc.stderr or proc.stdout))
    return parse_vagrant_ssh_config(proc.stdout, machine=machine)


def _vagrant_failure(directory: Path, output: str) -> str:
    lowered = output.lower()
    if (
        "not yet ready for ssh" in lowered
        or "not created" in lowered
        or "must be running" in lowered
    ):
        return (
            f"the Vagrant VM in {directory} is not running; "
            "start it with `vagrant up` there"
        )
    last = output.strip().splitlines()[-1:] or ["no output"]
    return f"`vagrant ssh-config` failed in {directory}: {last[0]}"
