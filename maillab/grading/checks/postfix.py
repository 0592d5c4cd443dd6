"""Postfix checks: main.cf values (postconf -n), master.cf services, aliases."""

from __future__ import annotations

import re

from maillab.grading.context import Context
from maillab.grading.registry import CheckError, Verdict, check


def _words(value: str) -> list[str]:
    return [w for w in re.split(r"[\s,]+", value.strip()) if w]


def main_values(lab: Context) -> dict[str, str]:
    """main.cf's explicit values, as `postconf -n` prints them."""
    result = lab.run(["postconf", "-n"])
    if not result.ok:
        raise CheckError(f"postconf -n failed: {result.stderr.strip()}")
    return lab.memo("postconf -n", lambda: _pairs(result.stdout))


def _pairs(text: str) -> dict[str, str]:
    pairs = (line.partition("=") for line in text.splitlines())
    return {name.strip(): value.strip() for name, sep, value in pairs if sep}


def _compare(
    name: str,
    value: str | None,
    equals: str | None,
    contains: list[str] | None,
    order: list[str] | None,
    absent: list[str] | None,
) -> Verdict:
    shown = f"{name} = {value}" if value is not None else f"{name} is not set"
    if value is None:
        return Verdict(False, shown)
    words = _words(value)
    if equals is not None and words != _words(equals):
        return Verdict(False, f"{shown} (expected {equals})")
    missing = [w for w in contains or [] if w not in words]
    if missing:
        return Verdict(False, f"{shown} (missing {', '.join(missing)})")
    present = [w for w in absent or [] if w in words]
    if present:
        return Verdict(False, f"{shown} (must not contain {', '.join(present)})")
    if order and [w for w in words if w in order] != order:
        return Verdict(False, f"{shown} (expected this order: {', '.join(order)})")
    return Verdict(True, shown)


@check("postconf")
def check_postconf(
    lab: Context,
    *,
    param: str,
    equals: str | None = None,
    contains: list[str] | None = None,
    order: list[str] | None = None,
    absent: list[str] | None = None,
) -> Verdict:
    """A main.cf parameter set explicitly, with this value or these words."""
    value = main_values(lab).get(param)
    return _compare(param, value, equals, contains, order, absent)


@check("postconf_unset")
def check_postconf_unset(lab: Context, *, param: str) -> Verdict:
    """A parameter that must not be in main.cf (such as content_filter)."""
    value = main_values(lab).get(param)
    return Verdict(value is None, f"{param} = {value}" if value else f"{param} unset")


def master_options(lab: Context) -> dict[str, str]:
    result = lab.run(["postconf", "-P"])
    if not result.ok:
        raise CheckError(f"postconf -P failed: {result.stderr.strip()}")
    return _pairs(result.stdout)


def master_services(lab: Context) -> dict[str, str]:
    """master.cf's services, "587/inet" -> the whole line."""
    result = lab.run(["postconf", "-M"])
    if not result.ok:
        raise CheckError(f"postconf -M failed: {result.stderr.strip()}")
    services = {}
    for line in result.stdout.splitlines():
        words = line.split()
        if len(words) >= 8:
            services[f"{words[0]}/{words[1]}"] = " ".join(words)
    return services


@check("master_service")
def check_master_service(
    lab: Context,
    *,
    service: str,
    command: str | None = None,
    options: dict[str, str] | None = None,
) -> Verdict:
    """A master.cf service exists, runs `command`, and has these -o options."""
    line = master_services(lab).get(service)
    if line is None:
        return Verdict(False, f"no {service} service in master.cf")
    if command and command not in line:
        return Verdict(False, f"{line} (expected {command})")
    given = master_options(lab)
    wrong = []
    for name, expected in (options or {}).items():
        value = given.get(f"{service}/{name}")
        if value is None or _words(value) != _words(str(expected)):
            wrong.append(f"{name} = {value} (expected {expected})")
    if wrong:
        return Verdict(False, f"{service}: " + "; ".join(wrong))
    return Verdict(True, line)


def aliases(lab: Context) -> dict[str, str]:
    """The built aliases database (postalias -s): what Postfix looks up.

    One dump serves every alias check; an absent database is an empty one.
    """
    result = lab.run(["postalias", "-s", "hash:/etc/aliases"])
    if not result.ok and "No such file" not in result.stderr:
        raise CheckError(f"postalias -s failed: {result.stderr.strip()}")
    text = result.stdout if result.ok else ""
    pairs = (line.partition(":") for line in text.splitlines())
    return lab.memo(
        "aliases", lambda: {k.strip(): v.strip() for k, sep, v in pairs if sep}
    )


@check("alias")
def check_alias(lab: Context, *, name: str, expands_to: list[str]) -> Verdict:
    """An alias resolves, in the built aliases database, to these recipients."""
    found = _words(aliases(lab).get(name.lower(), ""))
    if not found:
        return Verdict(False, f"{name}: not in /etc/aliases.db (newaliases?)")
    ok = sorted(found) == sorted(expands_to)
    return Verdict(ok, f"{name}: {', '.join(found)}")
