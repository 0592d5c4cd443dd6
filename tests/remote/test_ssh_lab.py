"""The SSH backend's errors, provoked for real against the lab box."""

import socket
import subprocess
import time

import pytest

import maillab
from maillab.errors import (
    AuthenticationRefused,
    CommandFailed,
    CommandTimeout,
    HostKeyChanged,
    HostUnreachable,
)
from maillab.remote.host import Host
from maillab.remote.ssh import SSHBackend
from maillab.remote.sshconfig import SSHSettings

pytestmark = pytest.mark.lab


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_host_says_so():
    with pytest.raises(HostUnreachable, match="connection refused.*is the machine up"):
        maillab.connect(host="127.0.0.1", port=_closed_port(), user="x").run("true")


def test_wrong_key_is_refused(lab_box, tmp_path):
    key = tmp_path / "stranger"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
    )
    settings = lab_box.ssh_settings()
    stranger = SSHSettings(**{**settings.__dict__, "identity_files": (str(key),)})
    with pytest.raises(AuthenticationRefused, match="user vagrant was refused"):
        Host(SSHBackend(stranger)).run("true")


def test_changed_host_key_is_refused(lab_box, tmp_path):
    other = tmp_path / "other"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True
    )
    kind, blob = other.with_suffix(".pub").read_text().split()[:2]
    known = tmp_path / "known_hosts"
    known.write_text(f"{lab_box.address} {kind} {blob}\n")
    settings = lab_box.ssh_settings()
    pinned = SSHSettings(**{**settings.__dict__, "known_hosts": (str(known),)})
    with pytest.raises(HostKeyChanged, match="not the one pinned"):
        Host(SSHBackend(pinned)).run("true")


def test_unknown_host_key_is_refused_by_default(lab_box, tmp_path):
    settings = lab_box.ssh_settings()
    unknown = SSHSettings(
        **{**settings.__dict__, "known_hosts": (str(tmp_path / "empty"),)}
    )
    with pytest.raises(HostKeyChanged, match="host key is unknown"):
        Host(SSHBackend(unknown)).run("true")


def test_timeout_over_ssh_and_the_connection_survives(lab):
    with pytest.raises(CommandTimeout, match="`sleep 10` did not finish within 0.5 s"):
        lab.run("sleep 10", timeout=0.5)
    assert lab.run("echo encore").stdout == "encore\n"
    # and the command does not go on running on the box
    time.sleep(1.5)
    assert "sleep 10" not in lab.run(["ps", "-o", "args=", "-C", "sleep"]).stdout


def test_failed_command_over_ssh(lab):
    with pytest.raises(CommandFailed, match="exited with status 1"):
        lab.run(["false"], check=True)


def test_sudo_and_quoting_over_ssh(lab):
    assert lab.run(["printf", "%s", "l'été $HOME"], sudo=True).stdout == "l'été $HOME"
    assert lab.run("id -un", sudo=True).stdout == "root\n"


def test_large_output_and_input(lab):
    text = "x" * 2_000_000
    assert len(lab.run("head -c 3000000 /dev/zero | tr '\\0' y").stdout) == 3_000_000
    assert lab.run("wc -c", input=text).stdout.strip() == "2000000"


def test_connection_is_reopened_after_it_drops(lab):
    lab.backend.close()
    assert lab.run("echo retour").stdout == "retour\n"


def test_root_shells_over_ssh(lab):
    shells = lab.shell_pool(2)
    assert shells is not None
    try:
        assert shells.run(["id", "-un"], timeout=5).stdout == "root\n"
        big = shells.run(
            ["sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' y"], timeout=20
        )
        assert len(big.stdout) == 3_000_000
        text = "x" * 2_000_000
        assert (
            shells.run(["wc", "-c"], input=text.encode(), timeout=20).stdout
            == "2000000\n"
        )
        with pytest.raises(CommandTimeout, match="`sleep 30` did not finish"):
            shells.run(["sleep", "30"], timeout=0.5)
        # coreutils timeout killed it on the box
        left = shells.run(["ps", "-o", "args=", "-C", "sleep"], timeout=5).stdout
        assert "sleep 30" not in left
        assert shells.run(["echo", "encore"], timeout=5).stdout == "encore\n"
    finally:
        shells.close()
