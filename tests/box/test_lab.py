"""The lab box for real: systemd-nspawn, the image's daemons, SSH."""

import socket

import pytest

from maillab.box import Box
from maillab.errors import BoxNotRunning, RemoteFileError, ValidationFailed

pytestmark = pytest.mark.lab


def test_hostname_is_the_chapter_s(lab):
    assert lab.check_output(["hostname", "-f"]).strip() == "mail.monentreprise.local"
    assert lab.read("/etc/mailname").strip() == "monentreprise.local"


def test_smtp_banner_from_the_host_side_without_dns_delay(lab_box):
    # smtpd looks the client up in DNS before it greets; with no resolver
    # that takes 10 s.  The lab's own BIND answers at once.
    with socket.create_connection((lab_box.address, 25), timeout=5) as conn:
        conn.settimeout(5)
        banner = conn.recv(512).decode()
    assert banner.startswith("220 mail.monentreprise.local ESMTP")


def test_lab_dns_answers_for_the_chapter_names(lab):
    answers = lab.check_output(
        "for n in mail webmail autoconfig; do dig +short $n.monentreprise.local; done"
    ).split()
    assert answers == ["192.168.56.10"] * 3
    assert lab.check_output("dig +short MX monentreprise.local").split() == [
        "10",
        "mail.monentreprise.local.",
    ]
    ptr = lab.check_output("dig +short -x 192.168.56.10").strip()
    assert ptr == "mail.monentreprise.local."
    assert lab.check_output("dig +short MX exterieur.test").split()[1] == (
        "mx.exterieur.test."
    )


def test_internet_names_fail_fast(lab):
    # No route out: the lab's root zone answers NXDOMAIN at once.
    result = lab.run("dig +time=2 +tries=1 zen.spamhaus.org")
    assert "status: NXDOMAIN" in result.stdout


def test_box_has_no_route_out(lab):
    # The lab network, and the outside mail host's network on the same
    # bridge (both on-link): no default route, so nothing else is reachable.
    lab.run(["true"])
    routes = [r.split() for r in lab.check_output(["ip", "-4", "route"]).splitlines()]
    assert sorted(r[:3] for r in routes) == [
        ["192.168.56.0/24", "dev", "eth0"],
        ["198.51.100.0/24", "dev", "eth0"],
    ]
    assert not any(r[0] == "default" for r in routes)
    # A routing-table lookup only: no packet is sent.
    assert not lab.run(["ip", "route", "get", "203.0.113.1"]).ok


def test_chapter_users_exist_with_private_passwords(lab):
    for user in ("jean", "marie", "direction"):
        assert lab.run(["id", user]).ok
    passwords = lab.run(["stat", "-c", "%U %a", "/etc/maillab/passwords"], sudo=True)
    assert passwords.stdout.split() == ["root", "600"]
    assert not lab.run(["cat", "/etc/maillab/passwords"]).ok  # not as vagrant


def test_vagrant_user_sudo_and_key_only_ssh(lab):
    assert lab.check_output(["sudo", "-n", "id", "-u"]).strip() == "0"
    sshd = lab.check_output(["sudo", "sshd", "-T"])
    assert "passwordauthentication no" in sshd
    assert "permitrootlogin no" in sshd


def test_write_read_round_trip_keeps_a_backup(lab):
    path = "/etc/postfix/maillab-test.cf"
    lab.run(["rm", "-f", path], sudo=True)
    lab.write(path, "un\n", owner="root:postfix", mode=0o640)
    changed = lab.write(path, "deux\n")
    assert lab.read(path) == "deux\n"
    assert changed.backup and lab.read(changed.backup) == "un\n"
    mode = lab.check_output(["stat", "-c", "%U:%G %a", path], sudo=True).strip()
    assert mode == "root:postfix 640"
    assert changed.backup in lab.backups(path)
    lab.run(["rm", "-f", path], sudo=True)


def test_invalid_main_cf_is_rolled_back_with_postfix_s_message(lab):
    before = lab.read("/etc/postfix/main.cf")
    broken = before + "this line has no equals sign\n"
    # `postfix check` logs to syslog only; postconf says it on stderr.
    validate = "postconf -n > /dev/null && postfix check"
    with pytest.raises(ValidationFailed, match="missing '=' after attribute name"):
        lab.write("/etc/postfix/main.cf", broken, validate=validate)
    assert lab.read("/etc/postfix/main.cf") == before


def test_write_into_missing_directory_changes_nothing(lab):
    with pytest.raises(RemoteFileError, match="no such directory"):
        lab.write("/etc/postfix/nope/main.cf", "x")
    assert not lab.exists("/etc/postfix/nope")


def test_service_restart(lab):
    master_pid = "/var/spool/postfix/pid/master.pid"
    before = lab.read(master_pid).strip()
    lab.service("postfix").restart()
    after = lab.read(master_pid).strip()
    assert lab.service("postfix@-").is_active and lab.service("postfix").is_active
    assert before != after


def test_listening_ports_of_the_start_of_chapter(lab):
    ports = {(s.port, s.process) for s in lab.listening()}
    assert {(22, "sshd"), (25, "master"), (143, "dovecot"), (53, "named")} <= ports


def test_down_then_up_keeps_files_and_reset_removes_them(spare_box):
    with spare_box.host() as host:
        host.write("/etc/maillab-keep", "gardé\n")
    spare_box.down()
    assert not spare_box.is_running
    with pytest.raises(BoxNotRunning):
        spare_box.host()
    spare_box.up()
    with spare_box.host() as host:
        assert host.read("/etc/maillab-keep") == "gardé\n"
    spare_box.reset()
    with spare_box.host() as host:
        assert not host.exists("/etc/maillab-keep")
        assert host.service("postfix").is_active


def test_two_boxes_side_by_side(lab_box, spare_box):
    assert lab_box.is_running and spare_box.is_running
    assert lab_box.address != spare_box.address
    with lab_box.host() as one, spare_box.host() as two:
        ids = [h.check_output(["cat", "/etc/machine-id"]) for h in (one, two)]
        keys = [
            h.check_output(["cat", "/etc/ssh/ssh_host_ed25519_key.pub"])
            for h in (one, two)
        ]
        ips = [h.check_output(["hostname", "-I"]).split() for h in (one, two)]
    assert ids[0] != ids[1]
    assert keys[0] != keys[1]
    assert ips == [[lab_box.address], [spare_box.address]]


def test_up_when_up_is_a_no_op(lab_box):
    pid = lab_box.pid
    assert pid is not None
    assert lab_box.up() is False
    assert lab_box.pid == pid


def test_box_names_are_checked():
    with pytest.raises(Exception, match="not a valid box name"):
        Box("Bad Name!")


def test_boxes_created_at_the_same_time_get_different_addresses(lab_box):
    import os
    import threading

    names = [f"t{os.getpid() % 10000}-{i}" for i in range(3)]
    boxes = [Box(name) for name in names]
    errors: list[BaseException] = []

    def create(box: Box) -> None:
        try:
            box.up()
        except BaseException as exc:  # reported below, with the box's name
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(b,)) for b in boxes]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(180)
        assert errors == []
        addresses = [b.address for b in boxes]
        assert len(set(addresses)) == 3, addresses
        assert lab_box.address not in addresses
    finally:
        for box in boxes:
            if box.exists:
                box.destroy()


def test_each_box_runs_in_a_control_group_of_its_own(lab_box, spare_box):
    from pathlib import Path

    from maillab.box import cgroup

    for box in (lab_box, spare_box):
        pid = box.pid
        assert pid is not None
        init = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()[0]
        groups = Path(f"/proc/{init}/cgroup").read_text().splitlines()
        systemd = [
            g.split(":", 2)[2]
            for g in groups
            if g.split(":")[1] in ("", "name=systemd")
        ]
        assert systemd and all(
            path.startswith(f"/maillab/{box.name}/payload") for path in systemd
        ), groups
        assert all(group.is_dir() for group in cgroup.box_groups(box.name))


def test_a_box_cpu_time_counts_its_own_work_only(lab_box, spare_box, lab):
    from maillab.box import cgroup

    before = cgroup.cpu_seconds(lab_box.name)
    other = cgroup.cpu_seconds(spare_box.name)
    if before is None:
        pytest.skip("no cgroup v2 cpu.stat on this machine")
    # about 0.3 s of CPU inside the default box, none in the spare one
    lab.run("i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
    spent = cgroup.cpu_seconds(lab_box.name) - before
    assert spent > 0.05
    assert cgroup.cpu_seconds(spare_box.name) - other < spent / 2
