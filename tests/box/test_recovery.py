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
