import os
from pathlib import Path

import pytest

from maillab.errors import UnknownHost, VagrantError
from maillab.remote.sshconfig import (
    parse_vagrant_ssh_config,
    settings_from_config,
    vagrant_settings,
)

CLASS = Path(__file__).parent.parent / "fixtures" / "ssh_config" / "class.conf"


def test_host_entry_gives_every_field():
    s = settings_from_config("student42", path=CLASS)
    assert (s.hostname, s.port, s.user) == ("127.0.0.1", 2242, "vagrant")
    assert s.identity_files == (os.path.expanduser("~/.ssh/tp_mail"),)
    assert s.strict_host_key_checking == "accept-new"
    assert s.connect_timeout == 4.0
    assert s.label == "student42"


def test_proxy_jump_and_known_hosts_files():
    s = settings_from_config("student43", path=CLASS)
    assert s.proxy_jump == "bastion"
    assert s.known_hosts == ("~/.ssh/known_hosts_class", "/etc/ssh/ssh_known_hosts")
    # The trailing `Host *` block fills in what the entry left unset.
    assert s.user == "fallback"
    assert s.strict_host_key_checking == "no"


def test_wildcard_entry_matches_pattern():
    s = settings_from_config("student-07", path=CLASS)
    assert s.hostname == "student-07"
    assert s.user == "etudiant"
    assert s.proxy_jump == "prof@127.0.0.1:2201"


def test_include_is_expanded_relative_to_the_file():
    s = settings_from_config("included", path=CLASS)
    assert (s.hostname, s.port) == ("127.0.0.5", 2299)


def test_alias_matched_only_by_star_is_unknown():
    with pytest.raises(UnknownHost, match="no Host entry for 'student99'"):
        settings_from_config("student99", path=CLASS)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(UnknownHost, match="no SSH configuration at"):
        settings_from_config("x", path=tmp_path / "nope")


def test_vagrant_virtualbox(fixture_text):
    s = parse_vagrant_ssh_config(fixture_text("vagrant", "virtualbox-default.txt"))
    assert (s.hostname, s.port, s.user) == ("127.0.0.1", 2222, "vagrant")
    assert s.identity_files == (
        "/home/prof/maillab/vagrant/.vagrant/machines/default/virtualbox/private_key",
    )
    assert s.known_hosts == ("/dev/null",)
    assert s.strict_host_key_checking == "no"
    assert s.label == "vagrant:default"


def test_vagrant_quoted_windows_path(fixture_text):
    s = parse_vagrant_ssh_config(fixture_text("vagrant", "windows-path-with-space.txt"))
    assert s.port == 2200
    assert s.identity_files[0].startswith("C:/Users/Jean Dupont/")
    assert s.identity_files[0].endswith("/private_key")


def test_vagrant_multi_machine_needs_a_choice(fixture_text):
    text = fixture_text("vagrant", "multi-machine.txt")
    with pytest.raises(VagrantError, match="several machines"):
        parse_vagrant_ssh_config(text)
    assert parse_vagrant_ssh_config(text, machine="client").port == 2200
    with pytest.raises(VagrantError, match="no running Vagrant machine 'web'"):
        parse_vagrant_ssh_config(text, machine="web")


def test_vagrant_verified_host_key_and_two_keys(fixture_text):
    s = parse_vagrant_ssh_config(
        fixture_text("vagrant", "verify-host-key-two-keys.txt")
    )
    assert s.strict_host_key_checking == "yes"
    assert [Path(f).name for f in s.identity_files] == [
        "vagrant.key.ed25519",
        "vagrant.key.rsa",
    ]
    # paramiko expands %h and %p, as ssh would.
    assert s.proxy_command == "ssh -q -W 192.168.121.37:22 jump.lab.test"


def test_vagrant_empty_output():
    with pytest.raises(VagrantError, match="no Host block"):
        parse_vagrant_ssh_config("")


def test_real_libvirt_outputs(fixture_text):
    folder = Path(__file__).parent.parent / "fixtures" / "vagrant"
    captured = sorted(folder.glob("libvirt-*.txt"))
    if not captured:
        pytest.skip("no captured libvirt output in tests/fixtures/vagrant")
    for path in captured:
        s = parse_vagrant_ssh_config(path.read_text())
        assert s.user == "vagrant"
        assert s.port == 22
        assert s.identity_files and all(Path(f).is_absolute() for f in s.identity_files)


def test_folder_without_vagrantfile(tmp_path):
    with pytest.raises(VagrantError, match="has no Vagrantfile"):
        vagrant_settings(tmp_path)


def test_real_not_running_output_gives_the_vagrant_up_hint(fixture_text):
    from maillab.remote.sshconfig import _vagrant_failure

    for name in ("not-running", "not-created"):
        text = fixture_text("vagrant", f"{name}-libvirt-debian-vagrant-2.3.4.txt")
        message = _vagrant_failure(Path("/srv/tp/vagrant"), text)
        assert message == (
            "the Vagrant VM in /srv/tp/vagrant is not running; "
            "start it with `vagrant up` there"
        )


def test_real_libvirt_output_fields(fixture_text):
    s = parse_vagrant_ssh_config(
        fixture_text("vagrant", "libvirt-debian-vagrant-2.3.4.txt")
    )
    assert (s.hostname, s.port, s.user) == ("192.168.121.38", 22, "vagrant")
    assert s.identity_files[0].endswith(".vagrant/machines/default/libvirt/private_key")
    assert s.strict_host_key_checking == "no"
