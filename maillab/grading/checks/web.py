"""Webmail checks on file state: Roundcube's config and Apache's sites."""

from __future__ import annotations

from maillab.config.roundcube import parse_roundcube_config
from maillab.grading.context import Context
from maillab.grading.registry import Verdict, check

CONFIG = "/etc/roundcube/config.inc.php"


@check("roundcube_setting")
def check_roundcube_setting(
    lab: Context, *, name: str, equals: str | None = None, startswith: str = ""
) -> Verdict:
    """A Roundcube $config value, read from config.inc.php without PHP."""
    text = lab.read(CONFIG)
    if text is None:
        return Verdict(False, f"{CONFIG} does not exist")
    config = lab.memo(CONFIG, lambda: parse_roundcube_config(text, path=CONFIG))
    value = _text(config.get(name))
    shown = f"$config['{name}'] = {value!r}"
    if value is None:
        return Verdict(False, f"$config['{name}'] is not set")
    if equals is not None and value != equals:
        return Verdict(False, f"{shown} (expected {equals!r})")
    return Verdict(value.startswith(startswith), shown)


def _text(value: object) -> str | None:
    """A setting as text: an array's first key (or item), else the value."""
    if isinstance(value, dict):
        value = next(iter(value), None)
    elif isinstance(value, list):
        value = value[0] if value else None
    return None if value is None else str(value)


@check("apache_site")
def check_apache_site(lab: Context, *, site: str) -> Verdict:
    """An Apache site is enabled and the whole configuration passes configtest."""
    enabled = lab.run(["test", "-e", f"/etc/apache2/sites-enabled/{site}.conf"]).ok
    if not enabled:
        return Verdict(False, f"site {site} is not enabled (a2ensite {site})")
    test = lab.run(["apachectl", "configtest"])
    said = (test.stderr or test.stdout).strip().splitlines()
    return Verdict(
        test.ok, f"site {site} enabled; configtest: {said[-1] if said else ''}"
    )
