"""Host on the local backend: the real shell and file system, no lab box needed."""

import os
import stat
from pathlib import Path

import pytest

from maillab.errors import (
    CommandFailed,
    CommandTimeout,
    RemoteFileError,
    ValidationFailed,
)
from maillab.remote.host import Host
from maillab.remote.local import LocalBackend


@pytest.fixture
def host(tmp_path):
    h = Host(LocalBackend(), timeout=10, backup_root=str(tmp_path / "backups"))
    if not h.backend.runs_as_root:
        pytest.skip("the local backend's sudo paths need root here")
    return h


def test_list_arguments_are_quoted(host):
    result = host.run(["printf", "%s|", "a b", "$HOME", "it's"])
    assert result.stdout == "a b|$HOME|it's|"
    assert result.ok and result.exit_status == 0


def test_string_goes_through_the_shell(host):
    assert host.run("echo $((6 * 7))").stdout == "42\n"


def test_exit_status_and_check(host):
    result = host.run("echo oops >&2; exit 3")
    assert (result.exit_status, result.stderr, bool(result)) == (3, "oops\n", False)
    with pytest.raises(CommandFailed, match="exited with status 3: oops"):
        host.run("echo oops >&2; exit 3", check=True)


def test_timeout_raises(host):
    with pytest.raises(CommandTimeout, match="did not finish within 0.2 s"):
        host.run("sleep 5", timeout=0.2)


def test_input_reaches_stdin(host):
    assert host.run("tr a-z A-Z", input="bonjour").stdout == "BONJOUR"


def test_write_new_file_then_backup_on_change(host, tmp_path):
    path = str(tmp_path / "main.cf")
    first = host.write(path, "myhostname = a\n", mode=0o640)
    assert first.changed and first.backup is None
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640

    second = host.write(path, "myhostname = b\n")
    assert second.changed
    assert second.backup and second.backup.startswith(str(tmp_path / "backups"))
    assert Path(second.backup).read_text() == "myhostname = a\n"
    assert host.read(path) == "myhostname = b\n"
    # The new file keeps the old one's mode.
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_same_content_is_unchanged_and_makes_no_backup(host, tmp_path):
    path = str(tmp_path / "aliases")
    host.write(path, "postmaster: root\n")
    again = host.write(path, "postmaster: root\n")
    assert not again.changed and again.backup is None
    assert host.backups(path) == []


def test_two_backups_in_one_second_both_kept(host, tmp_path):
    path = str(tmp_path / "f")
    for text in ("1", "2", "3"):
        host.write(path, text)
    kept = host.backups(path)
    assert len(kept) == 2
    assert sorted(Path(b).read_text() for b in kept) == ["1", "2"]


def test_restore_puts_the_newest_backup_back(host, tmp_path):
    path = str(tmp_path / "f")
    host.write(path, "good")
    host.write(path, "bad")
    restored = host.restore(path)
    assert restored.changed
    assert host.read(path) == "good"


def test_missing_directory_fails_before_any_change(host, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "file"
    with pytest.raises(RemoteFileError, match="no such directory.*nothing was changed"):
        host.write(str(target), "x")
    assert not (tmp_path / "no").exists()
    assert not (tmp_path / "backups").exists()


def test_failed_validation_rolls_back(host, tmp_path):
    path = str(tmp_path / "local.cf")
    host.write(path, "required_score 5.0\n")
    check = f"grep -q '^required_score [0-9.]*$' {path}"
    with pytest.raises(ValidationFailed, match="previous version was put back"):
        host.write(path, "required_score cinq\n", validate=check)
    assert host.read(path) == "required_score 5.0\n"


def test_failed_validation_of_a_new_file_removes_it(host, tmp_path):
    path = tmp_path / "new.conf"
    with pytest.raises(ValidationFailed):
        host.write(str(path), "x", validate="false")
    assert not path.exists()


def test_read_missing_file(host, tmp_path):
    with pytest.raises(RemoteFileError, match="no such file on the host"):
        host.read(str(tmp_path / "absent"))


def test_relative_path_refused(host):
    with pytest.raises(RemoteFileError, match="give an absolute path"):
        host.write("etc/postfix/main.cf", "x")


def test_new_file_is_world_readable_unless_told(host, tmp_path):
    # mktemp makes 0600 files: a new config file must not stay unreadable
    # for the service that reads it (Apache, for one).
    path = tmp_path / "config-v1.1.xml"
    host.write(str(path), "<clientConfig/>")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
