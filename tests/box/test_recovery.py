"""A box whose last operation was interrupted comes back with the next `up`."""

from pathlib import Path

import pytest

from maillab.box import Box, machine

pytestmark = pytest.mark.lab


def test_reset_interrupted_halfway_is_finished_by_up(spare_box, monkeypatch):
    # Interrupt `reset` right after it threw the upper layer away (as a
    # Ctrl-C there would), by failing the next step.
    def interrupted(**_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(machine.images, "ensure_image", interrupted)
    with pytest.raises(KeyboardInterrupt):
        spare_box.reset()
    monkeypatch.undo()

    box = Box(spare_box.name)
    assert not box.is_running
    assert box.state().personalized is False
    assert not (box.files.upper / "etc").exists()
    box.up()
    with box.host() as host:
        hostname = host.check_output(["hostname", "-f"]).strip()
        assert hostname == "mail.monentreprise.local"
        assert host.exists("/etc/maillab/passwords")


def test_running_box_is_found_without_stored_pid(spare_box):
    spare_box.up()
    pid = spare_box.pid
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert cmdline[0].endswith(b"systemd-nspawn")
    assert str(spare_box.files.mountpoint).encode() in cmdline
    assert "pid" not in spare_box.files.state.read_text()


def test_box_whose_nspawn_was_killed_boots_clean(spare_box):
    # The end of a session kills nspawn; the container's init survives it,
    # with its daemons.  The next up must clear them before booting again.
    import os
    import signal
    import time

    from maillab.box import cgroup

    spare_box.up()
    os.kill(spare_box.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while spare_box.is_running and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cgroup.members(spare_box.name)  # the old init and daemons are still there
    spare_box.up()
    with spare_box.host() as host:
        state = host.run("systemctl is-system-running --wait", timeout=60).stdout
        assert state.strip() == "running"
        assert host.service("postfix@-").is_active
