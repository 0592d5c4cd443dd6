"""Postfix master.cf (master(5)): parse, edit, lint, and the postconf -M/-P views."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from maillab.config.findings import ConfigSyntaxError, Finding, Severity
from maillab.config.postfix import (
    SPACE,
    Expander,
    LogicalLine,
    collapse,
    decode_text,
    is_skipped,
    leading_whitespace_finding,
    logical_lines,
    split_lines,
)

if TYPE_CHECKING:
    from maillab.remote.host import Host

MASTER_CF = "/etc/postfix/master.cf"
TYPES = ("inet", "unix", "unix-dgram", "fifo", "pass")
FIELDS = ("service", "type", "private", "unpriv", "chroot", "wakeup", "maxproc")
_FLAG_NAMES = {"private": "private", "unpriv": "unprivileged", "chroot": "chroot"}
_COLUMNS = (0, 11, 17, 25, 33, 41, 49, 57)  # where postconf -M starts each field
_WORD = re.compile(f"[^{SPACE}]+")
_COMMENTED_SERVICE = re.compile(
    f"^[{SPACE}]*#[{SPACE}]*([^{SPACE}#]+)[{SPACE}]+({'|'.join(TYPES)})[{SPACE}]"
)
# Postfix registers per-transport parameters for services run by these commands.
_TRANSPORTS = ("smtp", "lmtp", "local", "virtual", "pipe", "error")
_TRANSPORT_SUFFIXES = (
    "delivery_slot_cost",
    "delivery_slot_discount",
    "delivery_slot_loan",
    "destination_concurrency_failed_cohort_limit",
    "destination_concurrency_limit",
    "destination_concurrency_negative_feedback",
    "destination_concurrency_positive_feedback",
    "destination_rate_delay",
    "destination_recipient_limit",
    "extra_recipient_limit",
    "initial_destination_concurrency",
    "minimum_delivery_slots",
    "recipient_limit",
    "recipient_refill_delay",
    "recipient_refill_limit",
    "transport_rate_delay",
)


@dataclass(frozen=True)
class Option:
    """One `-o name=value` override."""

    name: str
    value: str
    # Known shortcoming: the service's first line, not the physical line of
    # the -o (the logical line is joined before it is split into words).
    line: int


@dataclass(frozen=True)
class Service:
    """One master.cf service: its seven columns, its command and arguments."""

    name: str
    type: str
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    args: tuple[str, ...]  # after the command, braces removed
    options: tuple[Option, ...]
    line: int
    end_line: int

    @property
    def key(self) -> str:
        return f"{self.name}/{self.type}"


@dataclass
class MasterConf:
    """A parsed master.cf: every service in order, and what could not be read."""

    path: str
    services: list[Service] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def service(self, name: str, type: str = "inet") -> Service | None:
        """The first service with that name and type (what Postfix uses)."""
        return next(
            (s for s in self.services if s.name == name and s.type == type), None
        )


def read_master_cf(host: Host, path: str = MASTER_CF) -> MasterConf:
    """Fetch and parse a master.cf from a lab machine."""
    return parse_master_cf(host.read(path), path=path)


def parse_master_cf(text: str | bytes, *, path: str = MASTER_CF) -> MasterConf:
    """Parse master.cf text; only NUL bytes or huge data raise ConfigSyntaxError."""
    decoded, findings = decode_text(text, path=path)
    conf = MasterConf(path, findings=findings)
    for logical in logical_lines(decoded):
        if logical.continues_orphan:
            conf.findings.append(leading_whitespace_finding(path, logical))
            continue
        service = _parse_service(logical, path, conf.findings)
        if service is not None:
            conf.services.append(service)
    return conf


def _parse_service(
    logical: LogicalLine, path: str, findings: list[Finding]
) -> Service | None:
    words = _WORD.findall(logical.text)
    if len(words) < 8:
        findings.append(_field_count(path, logical))
        return None
    problem = _field_problem(words, logical.text)
    if problem:
        findings.append(_bad_field(path, logical, problem))
        return None
    args = _arguments(logical.text, path, logical.line, findings)
    options = _options(args, logical.line)
    name, type_, private, unpriv, chroot, wakeup, maxproc, command = words[:8]
    return Service(
        name,
        type_,
        private,
        unpriv,
        chroot,
        wakeup,
        maxproc,
        command,
        tuple(args),
        options,
        logical.line,
        logical.end_line,
    )


def _field_problem(words: list[str], text: str) -> str | None:
    """postconf's message for a bad column, or None."""
    if words[1] not in TYPES:
        return f'invalid type field "{words[1]}" in "{text}"'
    for name, value in zip(FIELDS[2:5], words[2:5], strict=True):
        if value not in ("y", "n", "-"):
            return f'invalid {_FLAG_NAMES[name]} field "{value}" in "{text}"'
    if not re.fullmatch(r"-|[0-9]+\??", words[5]):
        return f'invalid wakeup field "{words[5]}" in "{text}"'
    if not re.fullmatch(r"-|[0-9]+", words[6]):
        return f'invalid process_limit field "{words[6]}" in "{text}"'
    return None


def _field_count(path: str, logical: LogicalLine) -> Finding:
    return Finding(
        Severity.ERROR,
        path,
        logical.line,
        f"file {path}: line {logical.line}: bad field count: a service needs "
        "8 columns (service type private unpriv chroot wakeup maxproc command); "
        "postconf and master(8) stop here (fatal)",
        "fill every column; `-` means the default",
        "postfix.master.field-count",
    )


def _bad_field(path: str, logical: LogicalLine, problem: str) -> Finding:
    return Finding(
        Severity.ERROR,
        path,
        logical.line,
        f"{problem}; postconf and master(8) stop here (fatal)",
        "type is one of inet, unix, unix-dgram, fifo, pass; private, unpriv and "
        "chroot are y, n or -; wakeup is a number (with ? for optional) or -; "
        "maxproc is a number or -",
        "postfix.master.bad-field",
    )


def _arguments(text: str, path: str, line: int, findings: list[Finding]) -> list[str]:
    """The words after the command, with Postfix 3.0 `{ ... }` grouping."""
    rest = text
    for _ in range(8):
        rest = rest.lstrip(SPACE)
        rest = rest[len(_WORD.match(rest).group()) :]  # type: ignore[union-attr]
    words: list[str] = []
    while rest := rest.lstrip(SPACE):
        if rest.startswith("{"):
            word, rest = _group(rest, path, line, findings)
        else:
            word = _WORD.match(rest).group()  # type: ignore[union-attr]
            rest = rest[len(word) :]
        words.append(word)
    return words


def _group(text: str, path: str, line: int, findings: list[Finding]) -> tuple[str, str]:
    depth = 0
    for index, char in enumerate(text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0:
            return text[1:index].strip(SPACE), text[index + 1 :]
    findings.append(
        Finding(
            Severity.WARNING,
            path,
            line,
            f"missing '}}' in \"{text}\"",
            "close the { ... } group with }",
            "postfix.master.missing-brace",
        )
    )
    return text[1:].strip(SPACE), ""


def _options(args: list[str], line: int) -> tuple[Option, ...]:
    options = []
    for index, word in enumerate(args[:-1]):
        if word != "-o" or (index and args[index - 1] == "-o"):
            continue
        name, sep, value = args[index + 1].partition("=")
        if sep:
            options.append(Option(name.strip(SPACE), value.strip(SPACE), line))
    return tuple(options)


# --- what postconf -M and -P print ----------------------------------------------


def postconf_m(conf: MasterConf) -> str:
    """The services as `postconf -M` prints them (one line each).

    Known shortcoming: `postconf -Mf` (folded at 80 columns) is not rendered.
    """
    return "".join(_service_line(s) + "\n" for s in conf.services)


def _service_line(service: Service) -> str:
    fields = [
        service.name,
        service.type,
        service.private,
        service.unpriv,
        service.chroot,
        service.wakeup,
        service.maxproc,
    ]
    out = ""
    for column, value in zip(_COLUMNS, fields, strict=False):
        out += " " * max(column - len(out), 1 if out else 0) + value
    out += " " * max(_COLUMNS[7] - len(out), 1)
    return " ".join([out + service.command, *_shown_args(service.args)]).rstrip()


def _shown_args(args: tuple[str, ...]) -> list[str]:
    shown = []
    for index, word in enumerate(args):
        if index and args[index - 1] == "-o" and "=" in word:
            name, _, value = word.partition("=")
            word = f"{name.strip(SPACE)}={value.strip(SPACE)}"
        has_space = any(c in SPACE for c in word)
        shown.append(f"{{{word}}}" if has_space or not word else word)
    return shown


def postconf_p(conf: MasterConf) -> str:
    """The -o overrides as `postconf -P` prints them."""
    lines = []
    for service in conf.services:
        first = conf.service(service.name, service.type) or service
        options = {o.name: o.value for o in first.options}
        for name in sorted(options):
            lines.append(f"{service.key}/{name} = {collapse(options[name])}\n")
    return "".join(lines)


def service_parameters(conf: MasterConf) -> set[str]:
    """Parameter names that the services of a master.cf make valid in main.cf."""
    names: set[str] = set()
    for service in conf.services:
        if service.type != "unix":
            continue
        if service.command in _TRANSPORTS:
            names.update(f"{service.name}_{s}" for s in _TRANSPORT_SUFFIXES)
        if service.command in ("pipe", "spawn"):
            names.add(f"{service.name}_time_limit")
    return names


# --- the editor ---------------------------------------------------------------


def set_option(text: str, service: str, type: str, name: str, value: str) -> str:
    """The text with `-o name=value` set on one service, the rest kept as is.

    An existing `-o name=...` line is rewritten in place; otherwise a line
    `  -o name=value` is added after the service's last line.
    """
    if any(c in SPACE + "=" for c in name) or "\n" in value:
        raise ValueError(f"not an option: {name}={value}")
    entry = _find(text, service, type)
    lines = text.split("\n")
    word = (
        f"{{ {name} = {value} }}"
        if any(c in SPACE for c in value)
        else (f"{name}={value}")
    )
    pattern = re.compile(rf"(-o[{SPACE}]+)({re.escape(name)}=[^{SPACE}]*|\{{[^}}]*\}})")
    for index in range(entry.line - 1, entry.end_line):
        match = pattern.search(lines[index])
        if match and _option_name(match.group(2)) == name:
            start, end = match.span(2)
            lines[index] = lines[index][:start] + word + lines[index][end:]
            return "\n".join(lines)
    lines.insert(entry.end_line, f"  -o {word}")
    return "\n".join(lines)


def _option_name(word: str) -> str:
    return word.strip("{}").partition("=")[0].strip(SPACE)


def _find(text: str, service: str, type: str) -> Service:
    found = parse_master_cf(text).service(service, type)
    if found is None:
        raise ValueError(f"no service {service}/{type} in master.cf")
    return found


# --- the linter -----------------------------------------------------------------


def lint_master_cf(
    conf: MasterConf | str | bytes,
    *,
    path: str = MASTER_CF,
    text: str | None = None,
    defaults: Mapping[str, str] | None = None,
    main_values: Mapping[str, str] | None = None,
    local_users: Collection[str] | None = None,
) -> list[Finding]:
    """Every problem postconf -M/-P would report, and the chapter's traps.

    The commented-out-service check needs the text (given directly, or as
    `text=` with a parsed `conf`).  `defaults` (postconf -d) and
    `main_values` (main.cf) enable the unknown and undefined parameter
    checks; `local_users` the pipe(8) `user=` check.
    """
    try:
        if not isinstance(conf, MasterConf):
            text = decode_text(conf, path=path)[0]
            conf = parse_master_cf(conf, path=path)
    except ConfigSyntaxError as exc:
        return [
            Finding(
                Severity.ERROR,
                exc.file,
                exc.line,
                str(exc),
                exc.fix,
                "config.unreadable",
            )
        ]
    findings = list(conf.findings)
    if text is not None:
        findings += _commented_services(conf, text)
    findings += _duplicate_services(conf)
    findings += _bad_options(conf)
    if defaults is not None:
        findings += _option_names(conf, defaults, main_values or {})
    if local_users is not None:
        findings += _pipe_users(conf, local_users, main_values or {})
    return sorted(findings, key=lambda f: (f.line or 0, f.code))


def _commented_services(conf: MasterConf, text: str) -> list[Finding]:
    """A `#service type ...` line whose indented lines now extend the service above."""
    lines = split_lines(text)
    findings = []
    for service in conf.services:
        for number in range(service.line + 1, service.end_line):
            match = _COMMENTED_SERVICE.match(lines[number - 1])
            if match and _continues_after(lines, number, service.end_line):
                findings.append(_orphan(conf.path, service, number, match.group(1)))
    return findings


def _continues_after(lines: list[str], number: int, end_line: int) -> bool:
    return any(not is_skipped(lines[n - 1]) for n in range(number + 1, end_line + 1))


def _orphan(path: str, service: Service, number: int, commented: str) -> Finding:
    return Finding(
        Severity.ERROR,
        path,
        number + 1,
        f"the service `{commented}` is commented out on line {number}, but the "
        f"indented lines after it are not: they now continue `{service.name}` "
        f"(line {service.line}), whose settings they change",
        f"comment out the indented -o lines of `{commented}` too, or remove "
        "the # of its first line",
        "postfix.master.commented-service-options",
    )


def _duplicate_services(conf: MasterConf) -> list[Finding]:
    findings = []
    seen: dict[str, Service] = {}
    for service in conf.services:
        first = seen.setdefault(service.key, service)
        if first is service:
            continue
        findings.append(
            Finding(
                Severity.ERROR if service.type == "inet" else Severity.WARNING,
                conf.path,
                service.line,
                f"service {service.key} is defined twice (first on line "
                f"{first.line}); postconf -P shows the first one's -o settings "
                "for both",
                "keep one definition, or give the second one another name",
                "postfix.master.duplicate-service",
            )
        )
    return findings


def _bad_options(conf: MasterConf) -> list[Finding]:
    findings = []
    for service in conf.services:
        args = service.args
        for index, word in enumerate(args):
            if word != "-o" or (index and args[index - 1] == "-o"):
                continue
            after = args[index + 1] if index + 1 < len(args) else ""
            if "=" not in after:
                findings.append(_bad_option(conf.path, service, after))
    return findings


def _bad_option(path: str, service: Service, word: str) -> Finding:
    shown = f"-o {word}".strip()
    return Finding(
        Severity.ERROR,
        path,
        service.line,
        f"`{shown}` in service {service.key} is not `-o name=value`; the "
        "service fails when it starts",
        "write `-o name=value`, or `-o { name = value }` for a value with spaces",
        "postfix.master.bad-option",
    )


def _option_names(
    conf: MasterConf, defaults: Mapping[str, str], main_values: Mapping[str, str]
) -> list[Finding]:
    known = set(defaults) | set(main_values) | service_parameters(conf)
    findings = []
    for service in conf.services:
        for option in service.options:
            if option.name not in known:
                findings.append(_unused_option(conf.path, service, option))
            scanner = Expander(lambda n: "" if n in known else None, expand=False)
            scanner.run(option.value)
            findings += [
                Finding(
                    Severity.WARNING,
                    conf.path,
                    option.line,
                    f"{p.message} (in -o {option.name} of {service.key})",
                    "define it in main.cf, or fix the spelling of the $name",
                    f"postfix.{p.code}",
                )
                for p in scanner.problems
            ]
    return findings


def _unused_option(path: str, service: Service, option: Option) -> Finding:
    return Finding(
        Severity.WARNING,
        path,
        option.line,
        f"unused parameter: {option.name}={option.value} (in {service.key}): "
        "Postfix knows no such parameter",
        "check the spelling against postconf(5)",
        "postfix.unused-parameter",
    )


def _pipe_users(
    conf: MasterConf, local_users: Collection[str], main_values: Mapping[str, str]
) -> list[Finding]:
    findings = []
    used = _referenced_transports(conf, main_values)
    for service in conf.services:
        if service.command != "pipe":
            continue
        users = [a[5:] for a in service.args if a.startswith("user=")]
        for user in users:
            if user.partition(":")[0] not in local_users:
                severity = Severity.ERROR if service.name in used else Severity.INFO
                findings.append(_unknown_pipe_user(conf.path, service, user, severity))
    return findings


def _referenced_transports(
    conf: MasterConf, main_values: Mapping[str, str]
) -> set[str]:
    """Transport names that main.cf or a -o override sends mail to.

    Debian's stock master.cf lists pipe services (maildrop, bsmtp...) that
    nothing uses: a missing user there harms nobody, so it is only INFO.
    """
    values = [
        *main_values.values(),
        *(o.value for s in conf.services for o in s.options),
    ]
    words = {w.split(":", 1)[0] for v in values for w in v.replace(",", " ").split()}
    return words


def _unknown_pipe_user(
    path: str, service: Service, user: str, severity: Severity = Severity.ERROR
) -> Finding:
    fix = (
        "use an existing user (Debian's SpamAssassin runs as debian-spamd)"
        if severity is Severity.ERROR
        else "nothing in main.cf or master.cf uses this service: it can stay "
        "as Debian ships it (create the user only if you start using it)"
    )
    return Finding(
        severity,
        path,
        service.line,
        f"pipe service {service.key} runs as user={user}, but there is no "
        f"such user on this system: every delivery through it fails",
        fix,
        "postfix.master.unknown-pipe-user",
    )
