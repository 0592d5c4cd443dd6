"""File checks: a file's content, mode and owner; Dovecot's effective settings."""

from __future__ import annotations

import functools
import re

from maillab.config.dovecot_defaults import parse_doveconf_output
from maillab.grading.context import Context
from maillab.grading.registry import CheckError, Verdict, check


@check("file_matches")
def check_file_matches(
    lab: Context, *, path: str, pattern: str, absent: bool = False
) -> Verdict:
    """A file has (or, with absent, has not) a line matching a regex."""
    text = lab.read(path)
    if text is None:
        return Verdict(False, f"{path} does not exist")
    match = re.search(pattern, text, re.MULTILINE)
    if absent:
        return Verdict(match is None, f"{path}: {_shown(match, pattern)}")
    return Verdict(match is not None, f"{path}: {_shown(match, pattern)}")


def _shown(match: re.Match[str] | None, pattern: str) -> str:
    return f"found {match.group(0).strip()!r}" if match else f"no match for {pattern}"


@check("file_mode")
def check_file_mode(
    lab: Context, *, path: str, mode: str | None = None, owner: str | None = None
) -> Verdict:
    """A file or folder exists with this octal mode and owner (user:group)."""
    result = lab.run(["stat", "-c", "%a %U:%G %F", "--", path])
    if not result.ok:
        return Verdict(False, f"{path} does not exist")
    found_mode, found_owner, kind = result.stdout.strip().split(" ", 2)
    shown = f"{path}: {kind}, mode {found_mode}, owner {found_owner}"
    ok = (mode is None or int(found_mode, 8) == int(str(mode), 8)) and (
        owner is None or found_owner == owner
    )
    return Verdict(ok, shown)


@check("executable")
def check_executable(lab: Context, *, path: str) -> Verdict:
    """A script exists, is executable, and bash can parse it."""
    if not lab.run(["test", "-x", path]).ok:
        return Verdict(False, f"{path} is missing or not executable")
    syntax = lab.run(["bash", "-n", path])
    detail = syntax.stderr.strip() or "bash -n: no syntax error"
    return Verdict(syntax.ok, f"{path}: {detail}")


def dovecot_config(lab: Context) -> str:
    """`doveconf -a`: every block with its effective settings, defaults too."""
    result = lab.run(["doveconf", "-a"])
    if not result.ok:
        raise CheckError(f"doveconf -a failed: {result.stderr.strip()}")
    return result.stdout


def dovecot_settings(lab: Context) -> dict[str, str]:
    """The top-level settings of `doveconf -a`, effective values (defaults too)."""
    return _top_level(dovecot_config(lab))


@functools.lru_cache(maxsize=64)
def _top_level(text: str) -> dict[str, str]:
    values = parse_doveconf_output(text)
    return {path[0]: value for path, value in values.items() if len(path) == 1}


@check("doveconf")
def check_doveconf(
    lab: Context,
    *,
    setting: str,
    equals: str | None = None,
    contains: list[str] | None = None,
) -> Verdict:
    """A Dovecot setting's effective value (as doveconf -h gives it).

    One `doveconf -a` per machine serves every such check: each doveconf run
    costs the box about 80 ms of CPU, and a class shares this machine's cores.
    """
    value = dovecot_settings(lab).get(setting)
    if value is None:
        result = lab.run(["doveconf", "-h", setting])
        if not result.ok:
            raise CheckError(f"doveconf -h {setting} failed: {result.stderr.strip()}")
        value = result.stdout.strip()
    shown = f"{setting} = {value}"
    if equals is not None and value.split() != equals.split():
        return Verdict(False, f"{shown} (expected {equals})")
    missing = [w for w in contains or [] if w not in value.split()]
    if missing:
        return Verdict(False, f"{shown} (missing {', '.join(missing)})")
    return Verdict(True, shown)


@check("doveconf_matches")
def check_doveconf_matches(lab: Context, *, pattern: str) -> Verdict:
    """The effective configuration has a block or line matching a regex.

    It reads `doveconf -a` (the one doveconf run per grading, see
    check_doveconf): a block's default settings sit between those the
    student set, so patterns use `[^}]*` between the settings they need.
    """
    match = re.search(pattern, dovecot_config(lab), re.MULTILINE | re.DOTALL)
    if match is None:
        return Verdict(False, f"doveconf -a: no match for {pattern}")
    return Verdict(True, "doveconf -a: " + " ".join(match.group(0).split())[:200])
