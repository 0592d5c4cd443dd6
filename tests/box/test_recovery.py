"""A box whose last operation was interrupted comes back with the next `up`."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from maillab.box import Box

pytestmark = pytest.mark.lab


def test_reset_killed_halfway_is_finished_by_up(spare_box):
    # Kill a `maillab reset` as soon as it has thrown the upper layer away.
    proc = subprocess.Popen(
        [sys.executable, "-m", "maillab.cli", "reset", "--name", spare_box.name],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "discarding" in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()
    time.sleep(0.2)
    box = Box(spare_box.name)
    assert box.state().personalized is False
    box.up()
    with box.host() as host:
        assert (
            host.check_output(["hostname", "-f"]).strip() == "mail.monentreprise.local"
        )


def test_running_box_is_found_without_stored_pid(spare_box):
    pid = spare_box.pid
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[0].endswith(b"systemd-nspawn")
    assert str(spare_box.files.mountpoint).encode() in cmdline
