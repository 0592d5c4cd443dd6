"""The facts about a lab machine that the reference configuration needs."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

from maillab.course.step import ManagedFile
from maillab.remote.host import Host

DOMAIN = "monentreprise.local"
HOSTNAME = f"mail.{DOMAIN}"
OUTSIDE_DOMAIN = "exterieur.test"


@dataclass(frozen=True)
class Lab:
    """One lab machine as the chapter sees it."""

    ip: str
    domain: str = DOMAIN
    hostname: str = HOSTNAME

    @property
    def network(self) -> str:
        return self.ip.rsplit(".", 1)[0] + ".0/24"

    def render(self, name: str) -> str:
        """A reference file of maillab/course/files/, with the lab's values in it."""
        text = resources.files("maillab.course").joinpath("files", name).read_text()
        for token, value in {
            "@LAB_IP@": self.ip,
            "@LAB_NETWORK@": self.network,
            "@DOMAIN@": self.domain,
            "@HOSTNAME@": self.hostname,
        }.items():
            text = text.replace(token, value)
        return text


def read_lab(host: Host) -> Lab:
    """The lab's address, as its own /etc/hosts gives it for mail.<domain>."""
    line = host.check_output(["getent", "ahostsv4", HOSTNAME]).split()
    return Lab(ip=line[0])


PASSWORDS = "/etc/maillab/passwords"


def read_passwords(host: Host) -> dict[str, str]:
    """The chapter users' mail passwords, from the lab's root-only file.

    Never log or print them: they are the lab's secrets.
    """
    return parse_passwords(host.read(PASSWORDS))


def parse_passwords(text: str) -> dict[str, str]:
    """`user:password` lines (the format of /etc/maillab/passwords)."""
    pairs = (line.split(":", 1) for line in text.splitlines() if ":" in line)
    return {user: password for user, password in pairs}


_POSTCONF_EDIT = r"""
set -eu
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
cp -p /etc/postfix/main.cf /etc/postfix/master.cf "$d"
file=$1; shift
postconf -c "$d" "$@"
cat "$d/$file"
"""


def postconf_edit(file: str, *batches: Sequence[str]) -> Callable[[Host], ManagedFile]:
    """main.cf or master.cf as `postconf` edits it, computed on a copy.

    Each batch is one postconf call's options, for example
    `["-e", "myhostname=mail.x"]` or `["-M", "-e", "submission/inet=..."]`.
    The real tool does the editing, so the student's comments and layout
    stay as they were.
    """

    def compute(host: Host) -> ManagedFile:
        script = _POSTCONF_EDIT.replace(
            'postconf -c "$d" "$@"',
            "\n".join(
                'postconf -c "$d" ' + " ".join(shlex.quote(a) for a in batch)
                for batch in batches
            ),
        )
        text = host.check_output(["sh", "-c", script, "sh", file], sudo=True)
        return ManagedFile(f"/etc/postfix/{file}", text)

    return compute


def main_cf(
    params: Mapping[str, str], remove: Sequence[str] = ()
) -> Callable[[Host], ManagedFile]:
    """main.cf with these parameters set (and those removed), by `postconf -e`."""
    batches = [["-e", *[f"{k}={v}" for k, v in params.items()]]]
    if remove:
        batches.append(["-X", *remove])
    return postconf_edit("main.cf", *batches)
