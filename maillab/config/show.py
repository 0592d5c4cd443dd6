"""`maillab config show`: effective values, printed as the real tool prints them."""

from __future__ import annotations

from pathlib import Path

from maillab.config import dovecot
from maillab.config.dovecot_format import format_doveconf_n
from maillab.config.lint import (
    DiskLoader,
    format_of,
    packaged_dovecot_defaults,
    packaged_postconf_defaults,
)
from maillab.config.postfix_main import effective, parse_main_cf
from maillab.config.postfix_master import parse_master_cf
from maillab.errors import MaillabError


def show_file(path: str, *, expand: bool = False, format: str | None = None) -> str:
    """`postconf -n` (or `-nx`) for a main.cf, `doveconf -n` for a Dovecot tree.

    The defaults are Debian 12's (Postfix 3.7, Dovecot 2.3.19), shipped with
    maillab, so no server is needed.  A master.cf beside main.cf is read too:
    its services make their own parameters valid.
    """
    kind = format_of(path, format)
    if kind == "main.cf":
        return _show_main_cf(Path(path), expand=expand)
    if kind == "dovecot":
        return _show_dovecot(Path(path))
    raise MaillabError(
        f"{path}: `config show` knows main.cf and Dovecot files; "
        "use `maillab lint` for the others"
    )


def _show_main_cf(path: Path, *, expand: bool) -> str:
    conf = parse_main_cf(_read(path), path=str(path))
    master_path = path.with_name("master.cf")
    master = parse_master_cf(_read(master_path)) if master_path.is_file() else None
    view = effective(conf, packaged_postconf_defaults(), master=master)
    return view.postconf_nx() if expand else view.postconf_n()


def _show_dovecot(path: Path) -> str:
    defaults = packaged_dovecot_defaults()
    config = dovecot.parse_dovecot(
        str(path.absolute()), files=DiskLoader(), defaults=defaults
    )
    return format_doveconf_n(config, defaults)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise MaillabError(f"{path}: cannot read it ({exc.strerror})") from None
