"""/etc/aliases (aliases(5)): parse, edit and lint, as postalias(1) reads it."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from maillab.config.findings import ConfigSyntaxError, Finding, Severity
from maillab.config.postfix import (
    SPACE,
    LogicalLine,
    decode_text,
    leading_whitespace_finding,
    logical_lines,
)

if TYPE_CHECKING:
    from maillab.remote.host import Host

ALIASES = "/etc/aliases"
_SPECIAL_SPACE = re.compile(r" ?([:@<>;.]) ?")
_BACKSLASH = re.compile(r"\\(.)")


class Kind(StrEnum):
    ADDRESS = "address"  # a local name or user@domain
    COMMAND = "command"  # |command
    FILE = "file"  # /path/to/file
    INCLUDE = "include"  # :include:/path/to/list


@dataclass(frozen=True)
class Target:
    text: str  # as written, quotes included
    kind: Kind

    @property
    def address(self) -> str:
        """The target without its quotes (and without :include:)."""
        text = self.text.strip('"')
        return text.removeprefix(":include:") if self.kind is Kind.INCLUDE else text


@dataclass(frozen=True)
class Alias:
    name: str  # lower case, quotes removed, as postalias stores it
    targets: tuple[Target, ...]
    line: int
    end_line: int

    @property
    def value(self) -> str:
        """The targets as `postalias -s` prints them."""
        return ", ".join(t.text for t in self.targets)


@dataclass
class Aliases:
    path: str
    entries: list[Alias] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def get(self, name: str) -> Alias | None:
        """The entry postalias keeps: the first one with that name."""
        name = name.lower()
        return next((a for a in self.entries if a.name == name), None)

    @property
    def table(self) -> dict[str, str]:
        """name -> value, as the built database holds it (first entry wins)."""
        table: dict[str, str] = {}
        for alias in self.entries:
            table.setdefault(alias.name, alias.value)
        return table


def read_aliases(host: Host, path: str = ALIASES) -> Aliases:
    """Fetch and parse an aliases file from a lab machine."""
    return parse_aliases(host.read(path), path=path)


def parse_aliases(text: str | bytes, *, path: str = ALIASES) -> Aliases:
    """Parse aliases text; only NUL bytes or huge data raise ConfigSyntaxError."""
    decoded, findings = decode_text(text, path=path)
    aliases = Aliases(path, findings=findings)
    for logical in logical_lines(decoded):
        if logical.continues_orphan:
            aliases.findings.append(leading_whitespace_finding(path, logical))
            continue
        entry = _parse_entry(logical, path)
        if isinstance(entry, Finding):
            aliases.findings.append(entry)
        else:
            aliases.entries.append(entry)
    return aliases


def _parse_entry(logical: LogicalLine, path: str) -> Alias | Finding:
    name, value = _split_name(logical.text.strip(SPACE))
    targets = tuple(_target(t) for t in _split_targets(value or ""))
    if name is None or not name or not targets:
        return Finding(
            Severity.ERROR,
            path,
            logical.line,
            f"need name:value pair: {logical.text.strip(SPACE)!r}; postalias and "
            "newaliases skip this entry",
            "write `name: target, target...` (the colon is required)",
            "aliases.need-name-value",
        )
    return Alias(name.lower(), targets, logical.line, logical.end_line)


def _split_name(text: str) -> tuple[str | None, str | None]:
    """`name: value` or `"quoted name": value`."""
    if text.startswith('"'):
        close = text.find('"', 1)
        if close > 0 and text[close + 1 :].lstrip(SPACE).startswith(":"):
            return text[1:close], text[close + 1 :].lstrip(SPACE)[1:]
        return None, None
    name, colon, value = text.partition(":")
    if not colon:
        return None, None
    return name.strip(SPACE), value


def _split_targets(value: str) -> Iterator[str]:
    """Comma-separated targets; commas inside quotes do not split."""
    word: list[str] = []
    quoted = False
    for char in value:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            yield from _word(word)
            word = []
        else:
            word.append(char)
    yield from _word(word)


def _word(chars: list[str]) -> Iterator[str]:
    """One target, with whitespace as postalias's RFC 822 rewrite leaves it.

    Known shortcoming: an approximation of Postfix's tok822 rewrite (spaces
    around specials dropped, backslashes removed outside quotes); comments in
    parentheses and other RFC 822 corners are kept as written.
    """
    pieces = "".join(chars).split('"')
    for index in range(0, len(pieces), 2):  # outside quotes only
        words = " ".join(pieces[index].split(None))
        words = _SPECIAL_SPACE.sub(r"\1", words)
        pieces[index] = _BACKSLASH.sub(r"\1", words)  # \user is stored as user
    text = '"'.join(pieces).strip(SPACE)
    if text:
        yield text


def _target(text: str) -> Target:
    bare = text.strip('"')
    if bare.startswith("|"):
        return Target(text, Kind.COMMAND)
    if bare.lower().startswith(":include:"):
        return Target(text, Kind.INCLUDE)
    if bare.startswith("/"):
        return Target(text, Kind.FILE)
    return Target(text, Kind.ADDRESS)


# --- the editor ---------------------------------------------------------------


def set_alias(text: str, name: str, targets: Collection[str]) -> str:
    """The text with `name` pointing at `targets`; the rest is kept byte for byte.

    The entry postalias uses (the first one) is rewritten in place, keeping
    the comments inside it; a new alias is appended.
    """
    if not name or any(c in SPACE + ':"#' for c in name) or not targets:
        raise ValueError(f"not an alias: {name!r} -> {targets!r}")
    if any("\n" in t for t in targets):
        raise ValueError("a target must fit on one line")
    line = f"{name}: {', '.join(targets)}"
    entry = parse_aliases(text).get(name)
    if entry is None:
        prefix = text if not text or text.endswith("\n") else text + "\n"
        return f"{prefix}{line}\n"
    lines = text.split("\n")
    kept = [x for x in lines[entry.line : entry.end_line] if _is_comment(x)]
    lines[entry.line - 1 : entry.end_line] = [line, *kept]
    return "\n".join(lines)


def remove_alias(text: str, name: str) -> str:
    """The text without any entry for `name` (comments inside them are kept)."""
    lines = text.split("\n")
    for entry in reversed(parse_aliases(text).entries):
        if entry.name == name.lower():
            inside = lines[entry.line : entry.end_line]
            lines[entry.line - 1 : entry.end_line] = [
                x for x in inside if _is_comment(x)
            ]
    return "\n".join(lines)


def _is_comment(line: str) -> bool:
    stripped = line.lstrip(SPACE)
    return not stripped or stripped.startswith("#")


# --- the linter -----------------------------------------------------------------


def lint_aliases(
    aliases: Aliases | str | bytes,
    *,
    path: str = ALIASES,
    local_users: Collection[str] | None = None,
    mailbox_users: Collection[str] | None = None,
    local_domains: Collection[str] | None = None,
) -> list[Finding]:
    """Problems postalias reports, and mistakes it lets through.

    `local_users`: every account on the system (targets must be one of them
    or an alias).  `mailbox_users`: the people whose own mailbox an alias
    would hide.  `local_domains`: mydestination, for addresses that stay here
    and for misspelt domains.
    """
    try:
        if not isinstance(aliases, Aliases):
            aliases = parse_aliases(aliases, path=path)
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
    domains = {d.lower() for d in local_domains or ()}
    findings = list(aliases.findings)
    findings += _duplicates(aliases)
    findings += _loops(aliases, domains)
    if local_users is not None:
        findings += _unknown_targets(aliases, set(local_users), domains)
    if mailbox_users is not None:
        findings += _shadowed_users(aliases, set(mailbox_users))
    if domains:
        findings += _domain_typos(aliases, domains)
    return sorted(findings, key=lambda f: (f.line or 0, f.code))


def _duplicates(aliases: Aliases) -> list[Finding]:
    findings = []
    for entry in aliases.entries:
        first = aliases.get(entry.name)
        if first is None or first is entry:
            continue
        findings.append(
            Finding(
                Severity.WARNING,
                aliases.path,
                entry.line,
                f'duplicate entry: "{entry.name}"; postalias keeps the first one '
                f"(line {first.line}) and ignores this one",
                f"merge the targets into the entry on line {first.line}",
                "aliases.duplicate",
            )
        )
    return findings


def _local_name(target: Target, domains: set[str]) -> str | None:
    """The local part of a target delivered on this machine, or None."""
    if target.kind is not Kind.ADDRESS:
        return None
    local, at, domain = target.address.lower().rpartition("@")
    if not at:
        return domain
    return local if domain in domains else None


def _graph(aliases: Aliases, domains: set[str]) -> dict[str, list[str]]:
    graph: dict[str, list[str]] = {}
    for name, alias in ((a.name, a) for a in aliases.entries):
        if name in graph:
            continue
        names = (_local_name(t, domains) for t in alias.targets)
        graph[name] = [n for n in names if n and n != name]
    return graph


def _loops(aliases: Aliases, domains: set[str]) -> list[Finding]:
    graph = _graph(aliases, domains)
    findings, reported = [], set()
    for start in graph:
        cycle = _cycle_from(graph, start)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            entry = aliases.get(cycle[0])
            findings.append(_loop_finding(aliases.path, entry, cycle))
    return findings


def _cycle_from(graph: dict[str, list[str]], start: str) -> list[str] | None:
    """A cycle through `start`, as a list of names, or None."""
    stack, seen = [(start, [start])], {start}
    while stack:
        name, trail = stack.pop()
        for nxt in graph.get(name, []):
            if nxt == start:
                return trail
            if nxt not in seen and nxt in graph:
                seen.add(nxt)
                stack.append((nxt, [*trail, nxt]))
    return None


def _loop_finding(path: str, entry: Alias | None, cycle: list[str]) -> Finding:
    chain = " -> ".join([*cycle, cycle[0]])
    return Finding(
        Severity.ERROR,
        path,
        entry.line if entry else None,
        f"alias loop: {chain}; local(8) bounces such mail as a mail forwarding loop",
        "make one alias of the chain deliver to a real user",
        "aliases.loop",
    )


def _unknown_targets(
    aliases: Aliases, users: set[str], domains: set[str]
) -> list[Finding]:
    names = {a.name for a in aliases.entries}
    findings = []
    for alias in aliases.entries:
        for target in alias.targets:
            local = _local_name(target, domains)
            if local is None or local in users:
                continue
            if local in names and local != alias.name:  # itself: the user's mailbox
                continue
            findings.append(
                Finding(
                    Severity.ERROR,
                    aliases.path,
                    alias.line,
                    f"`{alias.name}` sends to `{target.address}`, which is neither "
                    "a user of this system nor an alias: mail to it bounces "
                    "(user unknown)",
                    f"create the user `{local}`, add an alias for it, or fix "
                    "the spelling",
                    "aliases.unknown-target",
                )
            )
    return findings


def _shadowed_users(aliases: Aliases, mailbox_users: set[str]) -> list[Finding]:
    findings = []
    for alias in aliases.entries:
        if alias.name not in mailbox_users or aliases.get(alias.name) is not alias:
            continue
        if alias.name in (t.address.lower() for t in alias.targets):
            continue  # `name: name, other` keeps a copy in the user's own mailbox
        findings.append(
            Finding(
                Severity.WARNING,
                aliases.path,
                alias.line,
                f"`{alias.name}` is a user with a mailbox and also an alias: "
                f"mail to {alias.name} goes to {alias.value} and never reaches "
                f"{alias.name}'s own mailbox",
                f"remove the alias, or keep a copy with `{alias.name}: "
                f"{alias.name}, {alias.value}` (an alias naming itself delivers to "
                "the user's mailbox)",
                "aliases.shadows-user",
            )
        )
    return findings


def _domain_typos(aliases: Aliases, domains: set[str]) -> list[Finding]:
    findings = []
    for alias in aliases.entries:
        for target in alias.targets:
            domain = target.address.lower().rpartition("@")[2]
            if target.kind is not Kind.ADDRESS or "@" not in target.address:
                continue
            near = [d for d in domains if d != domain and _distance(d, domain) <= 2]
            if domain not in domains and near:
                findings.append(_typo_finding(aliases.path, alias, target, near[0]))
    return findings


def _typo_finding(path: str, alias: Alias, target: Target, domain: str) -> Finding:
    return Finding(
        Severity.WARNING,
        path,
        alias.line,
        f"`{alias.name}` sends to {target.address}: its domain is not one of "
        f"this server's domains, but looks like a misspelling of {domain}; the "
        "mail leaves the server (or bounces) instead of staying here",
        f"write {target.address.rpartition('@')[0]}@{domain}",
        "aliases.domain-typo",
    )


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (small strings only)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            )
        previous = current
    return previous[-1]
