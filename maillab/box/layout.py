"""Where the lab box keeps its files, and the lab network's fixed addresses."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from maillab.errors import BoxError

DEFAULT_HOME = "/var/lib/maillab"
DEFAULT_NAME = "default"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,10}$")

# The lab network: one bridge on this machine, the host side of every box.
BRIDGE = "maillab0"
NETWORK_PREFIX = "192.168.56."
HOST_ADDRESS = "192.168.56.1"
DEFAULT_ADDRESS = "192.168.56.10"
PREFIX_LENGTH = 24
LAB_HOSTNAME = "mail.monentreprise.local"


def home() -> Path:
    """The root of maillab's state: $MAILLAB_HOME, or /var/lib/maillab."""
    return Path(os.environ.get("MAILLAB_HOME", DEFAULT_HOME))


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise BoxError(
            f"{name!r} is not a valid box name: use 1 to 11 lower-case letters, "
            "digits or dashes (it becomes part of network interface names)"
        )
    return name


@dataclass(frozen=True)
class BoxLayout:
    """The files of one box, under <home>/boxes/<name>/."""

    name: str
    root_dir: Path

    @classmethod
    def of(cls, name: str, base: Path | None = None) -> BoxLayout:
        return cls(check_name(name), (base or home()) / "boxes" / name)

    @property
    def state(self) -> Path:
        return self.root_dir / "box.json"

    @property
    def upper(self) -> Path:
        return self.root_dir / "upper"

    @property
    def work(self) -> Path:
        return self.root_dir / "work"

    @property
    def mountpoint(self) -> Path:
        return self.root_dir / "root"

    @property
    def console_log(self) -> Path:
        return self.root_dir / "console.log"

    @property
    def key(self) -> Path:
        return self.root_dir / "id_ed25519"

    @property
    def host_key(self) -> Path:
        return self.root_dir / "ssh_host_ed25519_key"

    @property
    def known_hosts(self) -> Path:
        return self.root_dir / "known_hosts"

    @property
    def ssh_config(self) -> Path:
        return self.root_dir / "ssh_config"

    @property
    def lock(self) -> Path:
        return self.root_dir.parent / f".{self.name}.lock"

    @property
    def netns(self) -> str:
        return f"maillab-{self.name}"

    @property
    def veth(self) -> str:
        return f"mlv-{self.name}"

    @property
    def ssh_alias(self) -> str:
        return "maillab" if self.name == DEFAULT_NAME else f"maillab-{self.name}"
