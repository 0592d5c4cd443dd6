"""Postfix main.cf (postconf(5)): parse, edit, lint, and the postconf -n/-nx views."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from maillab.config.findings import ConfigSyntaxError, Finding, Severity
from maillab.config.postfix import (
    SPACE,
    Expander,
    LogicalLine,
    collapse,
    decode_text,
    leading_whitespace_finding,
    logical_lines,
    split_lines,
)

if TYPE_CHECKING:
    from maillab.config.postfix_master import MasterConf
    from maillab.remote.host import Host

log = logging.getLogger(__name__)

MAIN_CF = "/etc/postfix/main.cf"
_COMMENT_IN_VALUE = re.compile(f"(^|[{SPACE}])#")
_DIGITS = re.compile(r"[0-9]+")
# Parameters that Postfix programs refuse, at start, to see with several words.
SINGLE_VALUED = ("myorigin", "myhostname", "mydomain")


@dataclass(frozen=True)
class Parameter:
    """One `name = value` entry of main.cf."""

    name: str
    value: str  # as Postfix stores it: continuation lines joined, ends trimmed
    line: int
    end_line: int


@dataclass
class MainConf:
    """A parsed main.cf: every entry in file order, and what could not be read."""

    path: str
    parameters: list[Parameter] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        """The value Postfix uses (the last entry wins), or None when unset."""
        entry = self.entry(name)
        return entry.value if entry else None

    def entry(self, name: str) -> Parameter | None:
        for parameter in reversed(self.parameters):
            if parameter.name == name:
                return parameter
        return None

    @property
    def values(self) -> dict[str, str]:
        """Each parameter set in the file, with the value Postfix uses."""
        return {p.name: p.value for p in self.parameters}


def read_main_cf(host: Host, path: str = MAIN_CF) -> MainConf:
    """Fetch and parse a main.cf from a lab machine."""
    return parse_main_cf(host.read(path), path=path)


def parse_main_cf(text: str | bytes, *, path: str = MAIN_CF) -> MainConf:
    """Parse main.cf text; only NUL bytes or huge data raise ConfigSyntaxError."""
    decoded, findings = decode_text(text, path=path)
    conf = MainConf(path, findings=findings)
    for logical in logical_lines(decoded):
        if logical.continues_orphan:
            conf.findings.append(leading_whitespace_finding(path, logical))
            continue
        entry = _parse_entry(logical, path)
        if isinstance(entry, Finding):
            conf.findings.append(entry)
        else:
            conf.parameters.append(entry)
    return conf


def _parse_entry(logical: LogicalLine, path: str) -> Parameter | Finding:
    """`name = value`, split the way Postfix's split_nameval() does."""
    text = logical.text
    name_end = len(text)
    for index, char in enumerate(text):
        if char in SPACE or char == "=":
            name_end = index
            break
    name = text[:name_end]
    rest = text[name_end:].lstrip(SPACE)
    if not name:
        return _syntax(path, logical, f'missing attribute name: "{text}"', "name")
    if not rest.startswith("="):
        message = f"missing '=' after attribute name: \"{text}\""
        return _syntax(path, logical, message, "equals")
    value = rest[1:].strip(SPACE)
    return Parameter(name, value, logical.line, logical.end_line)


def _syntax(path: str, logical: LogicalLine, message: str, what: str) -> Finding:
    return Finding(
        Severity.ERROR,
        path,
        logical.line,
        f"{message}; postconf and every Postfix program stop here (fatal)",
        "write the entry as `name = value`, or make the line a comment with #",
        f"postfix.missing-{what}",
    )


# --- the editor ---------------------------------------------------------------


def set_parameter(text: str, name: str, value: str) -> str:
    """The text with `name` set to `value`; everything else is kept byte for byte.

    The entry Postfix uses (the last one) is rewritten in place, keeping its
    `name = ` spelling; a missing parameter is appended at the end.
    """
    _check_edit(name, value)
    entry = parse_main_cf(text).entry(name)
    lines = text.split("\n")
    if entry is None:
        return _append(text, f"{name} = {value}")
    first = lines[entry.line - 1]
    eol = "\r" if lines[entry.end_line - 1].endswith("\r") else ""
    head = first[: first.index("=") + 1]
    after = first[len(head) :]
    gap = after[: len(after) - len(after.lstrip(SPACE))].rstrip("\r")
    kept = [line for line in lines[entry.line : entry.end_line] if _is_comment(line)]
    if not gap and not after.strip(SPACE):
        gap = " "  # `name =` had no value: write `name = value`
    new = [f"{head}{gap}{value}{eol}" if value else f"{head}{eol}", *kept]
    return "\n".join(lines[: entry.line - 1] + new + lines[entry.end_line :])


def remove_parameter(text: str, name: str) -> str:
    """The text without any entry for `name` (comments inside them are kept)."""
    lines = text.split("\n")
    for entry in reversed(parse_main_cf(text).parameters):
        if entry.name != name:
            continue
        inside = lines[entry.line : entry.end_line]
        kept = [line for line in inside if _is_comment(line)]
        lines[entry.line - 1 : entry.end_line] = kept
    return "\n".join(lines)


def _check_edit(name: str, value: str) -> None:
    if not name or any(c in SPACE + "=#" for c in name):
        raise ValueError(f"not a parameter name: {name!r}")
    if "\n" in value or "\r" in value:
        raise ValueError("a value must fit on one line; join it with spaces")


def _append(text: str, line: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return f"{text}{line}\n"


def _is_comment(line: str) -> bool:
    stripped = line.lstrip(SPACE)
    return not stripped or stripped.startswith("#")


# --- defaults: postconf -d ------------------------------------------------------

_defaults_cache: dict[tuple[str, str], dict[str, str]] = {}


def parse_postconf(text: str) -> dict[str, str]:
    """The `name = value` lines that postconf prints, as a dict."""
    values: dict[str, str] = {}
    for line in split_lines(text):
        name, sep, value = line.partition(" =")
        if sep and name and " " not in name:
            values[name] = value.removeprefix(" ")
    return values


def read_postconf_defaults(
    host: Host, *, cache_dir: Path | None = None
) -> dict[str, str]:
    """`postconf -d` of a lab machine, fetched once per Postfix version.

    Cached in memory and on disk (~/.cache/maillab/postconf-d-<version>.txt).
    """
    version = host.check_output(["/usr/sbin/postconf", "-h", "mail_version"]).strip()
    key = (host.name, version)
    if key in _defaults_cache:
        return _defaults_cache[key]
    folder = cache_dir or Path.home() / ".cache" / "maillab"
    cached = folder / f"postconf-d-{version}.txt"
    if cached.is_file():
        text = cached.read_text()
    else:
        log.debug("%s: fetching postconf -d (Postfix %s)", host.name, version)
        text = host.check_output(["/usr/sbin/postconf", "-d"])
        folder.mkdir(parents=True, exist_ok=True)
        cached.write_text(text)
    _defaults_cache[key] = parse_postconf(text)
    return _defaults_cache[key]


# --- what postconf -n and -nx print ---------------------------------------------


@dataclass(frozen=True)
class Effective:
    """The parameters main.cf sets that Postfix uses, and how they expand."""

    values: dict[str, str]  # the explicit, used parameters (postconf -n)
    lookup: dict[str, str]  # every value a $name can refer to

    def expanded(self, name: str) -> str:
        """The value of a parameter with every $name expanded (postconf -x)."""
        value = self.values.get(name, self.lookup.get(name))
        return Expander(self.lookup.get).run(value) if value is not None else ""

    def postconf_n(self) -> str:
        return _print(self.values)

    def postconf_nx(self) -> str:
        return _print({name: self.expanded(name) for name in self.values})


def _print(values: Mapping[str, str]) -> str:
    lines = [f"{n} = {collapse(v)}".rstrip(" ") for n, v in sorted(values.items())]
    return "".join(f"{line}\n" for line in lines)


def effective(
    conf: MainConf,
    defaults: Mapping[str, str],
    *,
    master: MasterConf | None = None,
    config_directory: str | None = None,
) -> Effective:
    """The `postconf -n` / `-nx` views of a main.cf.

    `config_directory` is what `postconf -c DIR` adds to its -n output.
    """
    values = conf.values
    if config_directory is not None:
        values["config_directory"] = config_directory
    used = _used_names(conf, defaults, master) | {"config_directory"}
    shown = {name: value for name, value in values.items() if name in used}
    return Effective(shown, {**defaults, **values})


def _used_names(
    conf: MainConf, defaults: Mapping[str, str], master: MasterConf | None
) -> set[str]:
    """Parameters Postfix knows, or that some value refers to.

    Known shortcoming: `defaults` also carries the per-transport names of the
    master.cf it was taken from, so a transport removed from master.cf still
    makes its `<transport>_*` names known.
    """
    used = set(defaults) | _service_names(master)
    for value in _scanned_values(conf, master):
        used.update(_references(value))
    classes = conf.get("smtpd_restriction_classes") or ""
    used.update(re.split(f"[{SPACE},]+", classes))
    return used


def _scanned_values(conf: MainConf, master: MasterConf | None) -> Iterable[str]:
    yield from (p.value for p in conf.parameters)
    if master is not None:
        yield from (o.value for s in master.services for o in s.options)


def _service_names(master: MasterConf | None) -> set[str]:
    if master is None:
        return set()
    from maillab.config.postfix_master import service_parameters

    return service_parameters(master)


def _references(value: str) -> list[str]:
    scanner = Expander(lambda name: "", expand=False)
    scanner.run(value)
    return scanner.names


# --- the linter -----------------------------------------------------------------


def lint_main_cf(
    conf: MainConf | str | bytes,
    *,
    path: str = MAIN_CF,
    defaults: Mapping[str, str] | None = None,
    master: MasterConf | None = None,
) -> list[Finding]:
    """Every problem postconf would warn about, and the chapter's traps.

    Without `defaults` (a `postconf -d`), unknown and undefined parameters
    cannot be told apart from real ones, so those checks are skipped.
    """
    try:
        if not isinstance(conf, MainConf):
            conf = parse_main_cf(conf, path=path)
    except ConfigSyntaxError as exc:
        return [_unreadable(exc)]
    findings = list(conf.findings)
    findings += _duplicates(conf)
    findings += _comments_in_values(conf, defaults or {})
    findings += _macro_problems(conf, defaults, master)
    findings += _multiple_values(conf)
    if defaults is not None:
        findings += _unused(conf, defaults, master)
    return sorted(findings, key=lambda f: (f.line or 0, f.code))


def _unreadable(exc: ConfigSyntaxError) -> Finding:
    message = str(exc).split(": ", 1)[-1].split(";")[0]
    return Finding(
        Severity.ERROR, exc.file, exc.line, message, exc.fix, "config.unreadable"
    )


def _duplicates(conf: MainConf) -> list[Finding]:
    findings = []
    seen: dict[str, Parameter] = {}
    for entry in conf.parameters:
        earlier = seen.get(entry.name)
        seen[entry.name] = entry
        if earlier is None:
            continue
        findings.append(
            Finding(
                Severity.WARNING,
                conf.path,
                entry.line,
                f"overriding earlier entry: {earlier.name}={earlier.value} "
                f"(line {earlier.line}); the last entry wins",
                f"keep one `{entry.name}` entry: delete the one on line "
                f"{earlier.line} or merge the two",
                "postfix.duplicate-parameter",
            )
        )
    return findings


def _comments_in_values(conf: MainConf, defaults: Mapping[str, str]) -> list[Finding]:
    findings = []
    for entry in conf.parameters:
        if not _COMMENT_IN_VALUE.search(entry.value):
            continue
        before = _COMMENT_IN_VALUE.split(entry.value, maxsplit=1)[0].strip(SPACE)
        numeric = _DIGITS.fullmatch(defaults.get(entry.name, before) or "x")
        findings.append(_comment_finding(conf.path, entry, before, bool(numeric)))
    return findings


def _comment_finding(
    path: str, entry: Parameter, before: str, numeric: bool
) -> Finding:
    if numeric:
        severity = Severity.ERROR
        message = (
            f"bad numerical configuration: {entry.name} = {entry.value}: "
            "a # after a value is part of the value, and every Postfix "
            "program that reads this number stops (fatal)"
        )
    else:
        severity = Severity.WARNING
        message = (
            f"`{entry.name}` has a # inside its value ({entry.value!r}): "
            "a # comment is only a comment at the start of a line"
        )
    return Finding(
        severity,
        path,
        entry.line,
        message,
        f"move the comment to its own line above: `{entry.name} = {before}`",
        "postfix.comment-in-value",
    )


def _multiple_values(conf: MainConf) -> list[Finding]:
    findings = []
    for name in SINGLE_VALUED:
        entry = conf.entry(name)
        if entry is None or len(collapse(entry.value).split(" ")) < 2:
            continue
        if _COMMENT_IN_VALUE.search(entry.value):
            continue  # reported as a comment in the value
        findings.append(
            Finding(
                Severity.ERROR,
                conf.path,
                entry.line,
                f"{name} parameter setting must not contain multiple values: "
                f"{entry.value}; every Postfix program stops here (fatal)",
                f"give {name} one name, without spaces",
                "postfix.multiple-values",
            )
        )
    return findings


def _macro_problems(
    conf: MainConf, defaults: Mapping[str, str] | None, master: MasterConf | None
) -> list[Finding]:
    known = set(defaults or {}) | set(conf.values) | _service_names(master)
    findings = []
    for entry in conf.parameters:
        scanner = Expander(lambda name: "" if name in known else None, expand=False)
        scanner.run(entry.value)
        for problem in dict.fromkeys(scanner.problems):
            if problem.code == "undefined-parameter" and defaults is None:
                continue
            findings.append(
                _macro_finding(conf.path, entry, problem.message, problem.code)
            )
    return findings


def _macro_finding(path: str, entry: Parameter, message: str, code: str) -> Finding:
    fixes = {
        "undefined-parameter": "check the spelling of the $name, or define it",
        "truncated": "close the ${ or $( with a matching } or )",
        "empty-macro-name": "write $$ for a literal $, or give the $ a name",
    }
    return Finding(
        Severity.WARNING,
        path,
        entry.line,
        f"{message} (in {entry.name})",
        fixes.get(code, "see postconf(5) for the ${name?value} forms"),
        f"postfix.{code}",
    )


def _unused(
    conf: MainConf, defaults: Mapping[str, str], master: MasterConf | None
) -> list[Finding]:
    used = _used_names(conf, defaults, master)
    findings = []
    for name, entry in {p.name: p for p in conf.parameters}.items():
        if name in used:
            continue
        findings.append(
            Finding(
                Severity.WARNING,
                conf.path,
                entry.line,
                f"unused parameter: {name}={entry.value}: Postfix knows no "
                "such parameter and nothing refers to it",
                "check the spelling against postconf(5), or remove it",
                "postfix.unused-parameter",
            )
        )
    return findings
