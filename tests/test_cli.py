"""The `maillab` command as a user meets it: clear messages, no tracebacks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

MAILLAB = [sys.executable, "-m", "maillab.cli"]


def maillab(*args: str, env: dict[str, str] | None = None, user: str | None = None):
    argv = [*MAILLAB, *args]
    if user:
        argv = [
            "setpriv",
            f"--reuid={user}",
            "--regid=nogroup",
            "--clear-groups",
            *argv,
        ]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_no_command_prints_help():
    proc = maillab()
    assert proc.returncode == 2
    assert "up" in proc.stdout and "reset" in proc.stdout


def test_run_without_a_command_explains_the_form():
    proc = maillab("run")
    assert proc.returncode == 2
    assert "maillab run -- sudo postqueue -p" in proc.stderr


def test_bad_box_name():
    proc = maillab("down", "--name", "Pas Bon")
    assert proc.returncode == 1
    assert "not a valid box name" in proc.stderr


def test_unknown_ssh_alias(tmp_path):
    (tmp_path / ".ssh").mkdir()
    (tmp_path / ".ssh" / "config").write_text("Host other\n  HostName 127.0.0.1\n")
    proc = maillab("status", "--host", "student99", env={"HOME": str(tmp_path)})
    assert proc.returncode == 1
    assert "has no Host entry for 'student99'" in proc.stderr


def test_vagrant_folder_with_no_running_vm(tmp_path):
    (tmp_path / "Vagrantfile").write_text(
        'Vagrant.configure("2") { |c| c.vm.box = "x" }\n'
    )
    proc = maillab("status", "--vagrant", str(tmp_path))
    assert proc.returncode == 1
    if shutil.which("vagrant"):
        assert "is not running; start it with `vagrant up` there" in proc.stderr
    else:
        assert "vagrant is not installed" in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
def test_not_root():
    proc = maillab("up", user="nobody", env={"HOME": "/tmp"})
    assert proc.returncode == 1
    assert "needs root" in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="the root check comes first")
def test_missing_tool_names_its_package(tmp_path):
    proc = maillab("up", "--name", "t-none", env={"PATH": str(tmp_path)})
    assert proc.returncode == 1
    assert "systemd-nspawn is not installed" in proc.stderr
    assert "apt-get install systemd-container" in proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="box commands need root")
@pytest.mark.parametrize("command", ["down", "ssh", "reset", "destroy", "status"])
def test_commands_on_a_box_that_does_not_exist(command):
    proc = maillab(command, "--name", "t-nosuch")
    assert proc.returncode == 1
    assert "no lab box named 't-nosuch'" in proc.stderr
    assert "maillab up --name t-nosuch" in proc.stderr


@pytest.mark.lab
def test_up_when_already_up_prints_the_status(lab_box):
    proc = maillab("up")
    assert proc.returncode == 0
    assert "already up" in proc.stdout
    assert "mail.monentreprise.local" in proc.stdout
    assert "postfix" in proc.stdout and "active" in proc.stdout


@pytest.mark.lab
def test_status_json(lab_box):
    import json

    proc = maillab("status", "--json")
    status = json.loads(proc.stdout)
    assert status["hostname"] == "mail.monentreprise.local"
    assert status["addresses"] == ["192.168.56.10"]
    assert status["services"]["dovecot"] == "active"
    assert {"protocol": "tcp", "address": "0.0.0.0", "port": 25}.items() <= next(
        s for s in status["listeners"] if s["port"] == 25 and s["address"] == "0.0.0.0"
    ).items()
    assert proc.returncode == 0


@pytest.mark.lab
def test_run_passes_output_and_exit_status(lab_box):
    proc = maillab("run", "--", "sudo", "postqueue", "-p")
    assert (proc.returncode, proc.stdout) == (0, "Mail queue is empty\n")
    failed = maillab("run", "--", "ls /nonexistent")
    assert failed.returncode == 2
    assert "No such file or directory" in failed.stderr


@pytest.mark.lab
def test_ssh_runs_through_the_written_ssh_config(lab_box):
    proc = maillab("ssh", "--", "hostname", "-f")
    assert (proc.returncode, proc.stdout) == (0, "mail.monentreprise.local\n")
    config = Path(lab_box.home) / "ssh_config"
    plain = subprocess.run(
        ["ssh", "-F", str(config), "maillab", "whoami"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert plain.stdout == "vagrant\n"


@pytest.mark.lab
def test_address_of_another_box_is_refused(lab_box):
    proc = maillab("up", "--name", "t-clash", "--address", lab_box.address)
    assert proc.returncode == 1
    assert "already the address of box 'default'" in proc.stderr
    assert not (Path(lab_box.home) / "boxes" / "t-clash").exists()


@pytest.mark.lab
def test_address_on_a_host_interface_is_refused(lab_box):
    subprocess.run(
        ["ip", "link", "add", "mltest0", "type", "veth", "peer", "name", "mltest1"],
        check=True,
    )
    try:
        subprocess.run(
            ["ip", "addr", "add", "192.168.56.77/32", "dev", "mltest0"], check=True
        )
        proc = maillab("up", "--name", "t-clash", "--address", "192.168.56.77")
    finally:
        subprocess.run(["ip", "link", "del", "mltest0"], check=True)
    assert proc.returncode == 1
    assert "192.168.56.77 is already used by interface mltest0" in proc.stderr


@pytest.mark.lab
def test_address_outside_the_lab_network_is_refused(lab_box):
    proc = maillab("up", "--name", "t-clash", "--address", "10.1.2.3")
    assert proc.returncode == 1
    assert "is not a box address" in proc.stderr


def test_drill_list_show_and_a_missing_name():
    listed = maillab("drill", "list")
    assert listed.returncode == 0
    assert "dkim-socket" in listed.stdout and "7.3.5" in listed.stdout
    shown = maillab("drill", "show", "dkim-socket")
    assert shown.returncode == 0
    assert "edit /etc/opendkim.conf" in shown.stdout
    assert "checks: 7.3.5/opendkim-conf, 7.3.5/milter-socket" in shown.stdout
    missing = maillab("drill", "start")
    assert missing.returncode == 2
    assert "the following arguments are required: drill" in missing.stderr
    unknown = maillab("drill", "show", "nope")
    assert unknown.returncode != 0
    assert "no drill 'nope'; choose one of aliases-equipe" in unknown.stderr


def test_check_of_an_unknown_check_names_the_section_s_checks():
    proc = maillab("check", "7.3.2/nope")
    assert proc.returncode == 1
    assert "no check '7.3.2/nope'; 7.3.2 has 7.3.2/ports, 7.3.2/ssl" in proc.stderr
