"""`maillab monitor` on the reference lab: all OK, and a fault seen with its state."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from maillab.monitor import State, monitor

pytestmark = pytest.mark.lab


def states(report) -> dict[str, str]:
    return {item.name: item.state.name for item in report.items}


def test_reference_lab_is_all_ok(provisioned):
    report = monitor(provisioned.host, address=provisioned.address)
    assert states(report) == {
        name: "OK"
        for name in (
            "services",
            "spf",
            "dkim",
            "dmarc",
            "queue",
            "disk",
            "certificate",
            "round-trip",
        )
    }
    assert report.state is State.OK
    # The round trip cleans up after itself.
    left = provisioned.host.run(
        "grep -r -l maillab-monitor- /home/jean/Maildir/new /home/jean/Maildir/cur",
        sudo=True,
    )
    assert left.stdout == ""


def test_a_stopped_service_is_critical_and_the_round_trip_fails(provisioned):
    spamd = provisioned.host.service("spamd")
    postfix = provisioned.host.service("postfix")
    spamd.stop()
    try:
        report = monitor(
            provisioned.host, address=provisioned.address, round_trip=False
        )
    finally:
        spamd.start()
    item = next(i for i in report.items if i.name == "services")
    assert item.state is State.CRITICAL
    assert "spamd (inactive)" in item.detail
    assert report.state is State.CRITICAL
    assert postfix.is_active


def test_cli_json_and_nagios_exit_code(provisioned):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "maillab.cli",
            "monitor",
            "--name",
            provisioned.box.name,
            "--json",
            "--no-round-trip",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    data = json.loads(proc.stdout)
    assert proc.returncode == 0
    assert data["state"] == "OK"
    assert {i["name"] for i in data["items"]} == {
        "services",
        "spf",
        "dkim",
        "dmarc",
        "queue",
        "disk",
        "certificate",
    }
