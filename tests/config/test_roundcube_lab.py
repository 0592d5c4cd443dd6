"""config.inc.php agreement with PHP itself and with Roundcube 1.6.5 on the box."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from maillab.config.findings import ConfigSyntaxError
from maillab.config.roundcube import (
    DEBIAN_PLUGINS,
    KNOWN_KEYS,
    REMOVED_KEYS,
    RENAMED_KEYS,
    Constant,
    PhpArray,
    Unreadable,
    parse_roundcube_config,
)
from maillab.remote.host import Host

pytestmark = pytest.mark.lab

FIXTURES = Path(__file__).parent.parent / "fixtures" / "config" / "roundcube"
CORPUS = sorted(p.name for p in FIXTURES.glob("*.php"))


@pytest.fixture
def workdir(lab: Host) -> Iterator[str]:
    path = f"/tmp/maillab-rc-{uuid.uuid4().hex[:8]}"
    lab.run(["mkdir", path], sudo=True, check=True)
    defaults = ["cp", "/etc/roundcube/defaults.inc.php", f"{path}/"]
    lab.run(defaults, sudo=True, check=True)
    yield path
    lab.run(["rm", "-rf", "--", path], sudo=True)


def php_config(lab: Host, workdir: str, text: str) -> tuple[int, object]:
    """Exit status and json_encode($config) after PHP includes the file."""
    path = f"{workdir}/config.inc.php"
    lab.run(["sh", "-c", 'cat > "$1"', "sh", path], sudo=True, input=text, check=True)
    code = f'include "{path}"; echo json_encode($config, JSON_PRESERVE_ZERO_FRACTION);'
    result = lab.run(["php", "-r", code], sudo=True)
    return result.exit_status, json.loads(result.stdout) if result.ok else None


def is_readable(value: object) -> bool:
    if isinstance(value, (Unreadable, Constant)):
        return False
    if isinstance(value, PhpArray):
        return all(is_readable(v) for v in value.values())
    return True


@pytest.mark.parametrize("name", CORPUS)
def test_values_agree_with_php(lab: Host, workdir: str, name: str) -> None:
    text = (FIXTURES / name).read_text()
    status, real = php_config(lab, workdir, text)
    try:
        conf = parse_roundcube_config(text)
    except ConfigSyntaxError:
        assert status != 0, "PHP reads a file our parser refuses"
        return
    assert status == 0, "our parser reads a file PHP refuses"
    assert isinstance(real, dict)
    mine = conf.values()
    readable = {k for k, v in mine.items() if is_readable(v)}
    assert readable, "nothing to compare"
    plain = mine.plain()
    assert isinstance(plain, dict)
    assert {k: plain[k] for k in readable} == {k: real[k] for k in readable}
    extra = set(real) - set(mine)
    if extra:  # only an include may add keys
        assert any(s.kind == "include" for s in conf.statements), extra


def test_known_keys_are_the_box_defaults(lab: Host) -> None:
    path = "/etc/roundcube/defaults.inc.php"
    code = (
        'define("RCUBE_INSTALL_PATH", "/usr/share/roundcube/");'
        f'include "{path}"; echo json_encode($config, JSON_PRESERVE_ZERO_FRACTION);'
    )
    real = json.loads(lab.check_output(["php", "-r", code], sudo=True))
    assert set(real) == KNOWN_KEYS
    mine = parse_roundcube_config(lab.read(path), path=path).values()
    assert set(mine) == KNOWN_KEYS
    plain = mine.plain()
    assert isinstance(plain, dict)
    readable = {k for k, v in mine.items() if is_readable(v)}
    assert len(readable) > 250
    assert {k: plain[k] for k in readable} == {k: real[k] for k in readable}


def test_debian_plugins_are_installed(lab: Host) -> None:
    listing = lab.check_output(["ls", "/usr/share/roundcube/plugins"], sudo=True)
    assert set(listing.split()) == DEBIAN_PLUGINS


def test_removed_keys_are_read_nowhere(lab: Host) -> None:
    for key in REMOVED_KEYS:
        pattern = f"['\"]{key}['\"]"
        found = lab.run(
            [
                "grep",
                "-rlE",
                "--exclude=rcmail_install.php",  # the installer's list of old keys
                pattern,
                "/usr/share/roundcube/program",
                "/usr/share/roundcube/plugins",
            ],
            sudo=True,
        )
        assert found.exit_status == 1, (key, found.stdout)


def test_renamed_keys_as_roundcube_reads_them(lab: Host, workdir: str) -> None:
    text = (FIXTURES / "chapter-config.inc.php").read_text()
    lab.run(
        ["sh", "-c", 'cat > "$1"', "sh", f"{workdir}/config.inc.php"],
        sudo=True,
        input=text,
        check=True,
    )
    keys = sorted(set(RENAMED_KEYS.values()) | set(RENAMED_KEYS))
    code = (
        'define("INSTALL_PATH", "/usr/share/roundcube/");'
        f'define("RCUBE_CONFIG_DIR", "{workdir}/");'
        'require_once INSTALL_PATH . "program/include/iniset.php";'
        "$c = new rcube_config(); $out = [];"
        f"foreach ({json.dumps(keys).replace('[', 'array(').replace(']', ')')} as $k)"
        " { $out[$k] = $c->get($k); } echo json_encode($out);"
    )
    real = json.loads(lab.check_output(["php", "-r", code], sudo=True).splitlines()[-1])
    mine = parse_roundcube_config(text).values()
    for old, new in RENAMED_KEYS.items():
        if old in mine:
            assert real[old] is None  # Roundcube drops the old name...
            assert (
                real[new] == PhpArray({new: mine[old]}).plain()[new]
            )  # ...for the new
