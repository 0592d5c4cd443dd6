"""Dovecot configuration: the include tree read as Dovecot reads it (no I/O).

`parse_dovecot(path, files=...)` follows `!include` and `!include_try` (relative
to the including file, with globs, matches in ASCII order) through a loader,
and builds both each file's own entries (with line numbers, for the editor and
the linter) and the effective configuration: named sections reopened later
merge, unnamed ones are new elements (except `plugin` and `dict`), `$key`
words in top-level and filter values expand to the value so far.

`read_dovecot_tree(host)` fetches every file of a tree in one command.
"""

from __future__ import annotations

import base64
import fnmatch
import io
import logging
import posixpath
import tarfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from maillab.config.dovecot_lexer import AMBIGUOUS_HASH, Line, LineKind, lex_dovecot
from maillab.config.findings import ConfigSyntaxError, Finding, Severity

if TYPE_CHECKING:
    from maillab.config.dovecot_defaults import DovecotDefaults
    from maillab.remote.host import Host

log = logging.getLogger(__name__)

DEFAULT_ROOT = "/etc/dovecot/dovecot.conf"
FILTER_KINDS = ("protocol", "local", "remote")
MERGED_UNNAMED = ("plugin", "dict")  # structs, not lists: every `plugin {` merges
UNIQUE_NAMES = ("passdb", "userdb")  # a second `passdb x {` is an error
# Dovecot 2.3 reads these, warns, and drops them (old-set-parser).
OBSOLETE = {
    "ssl_protocols": "has been replaced by ssl_min_protocol",
    "ssl_parameters_regenerate": "is no longer needed",
    "ssl_dh_parameters_length": "is no longer needed",
}
SSL_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")  # what 2.3.19 converts
MAX_INCLUDE_DEPTH = 20
MAX_FILE_SIZE = 10 * 1024 * 1024


@dataclass
class Setting:
    """`key = value` as written in one file (`value` unquoted, not expanded)."""

    key: str
    value: str
    file: str
    line: int
    is_file: bool = False  # written `key = <path`
    effective: str = ""  # the value after $variable expansion

    @property
    def shown(self) -> str:
        """The value as doveconf prints it: `<path` for file values."""
        return "<" + self.effective if self.is_file else self.effective


@dataclass
class Include:
    """An `!include` or `!include_try` line and the files it matched."""

    pattern: str
    is_try: bool
    file: str
    line: int
    matches: list[str] = field(default_factory=list)


@dataclass
class Section:
    """A `kind [name] { ... }` section as written in one file."""

    kind: str
    name: str | None
    file: str
    line: int
    entries: list[Setting | Section | Include] = field(default_factory=list)

    def settings(self) -> list[Setting]:
        return [e for e in self.entries if isinstance(e, Setting)]

    def sections(self) -> list[Section]:
        return [e for e in self.entries if isinstance(e, Section)]


@dataclass
class DovecotFile:
    """One file of the tree: its text, its lines and its top-level entries."""

    path: str
    text: str
    lines: list[Line]
    top: Section


@dataclass
class Block:
    """An effective section: what Dovecot holds after merging every file."""

    kind: str
    name: str | None
    file: str
    line: int
    settings: dict[str, Setting] = field(default_factory=dict)
    blocks: list[Block] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        setting = self.settings.get(key)
        return setting.effective if setting else default

    def block(self, kind: str, name: str | None = None) -> Block | None:
        """The first child section of this kind (and name, when given)."""
        for child in self.blocks:
            if child.kind == kind and (name is None or child.name == name):
                return child
        return None

    def all(self, kind: str) -> list[Block]:
        return [child for child in self.blocks if child.kind == kind]

    @property
    def is_filter(self) -> bool:
        return self.kind in FILTER_KINDS


@dataclass(frozen=True)
class UnixListener:
    """A `unix_listener` of a service, for cross-file checks with Postfix."""

    service: str
    path: str
    mode: str | None
    user: str | None
    group: str | None
    file: str
    line: int


@dataclass
class DovecotConfig:
    """The whole tree: its files, the effective top level, and what went wrong."""

    path: str
    files: dict[str, DovecotFile]
    top: Block
    problems: list[Finding] = field(default_factory=list)

    def get(self, key: str, default: str | None = None) -> str | None:
        """The effective top-level value of a setting."""
        return self.top.get(key, default)

    def setting(self, key: str) -> Setting | None:
        """The top-level setting that wins, with the file and line holding it."""
        return self.top.settings.get(key)

    @property
    def mail_location(self) -> str | None:
        return self.get("mail_location")

    @property
    def filters(self) -> list[Block]:
        return [block for block in self.top.blocks if block.is_filter]

    def services(self) -> list[Block]:
        return self.top.all("service")

    def service(self, name: str) -> Block | None:
        return self.top.block("service", name)

    def unix_listeners(self) -> list[UnixListener]:
        """Every service's unix_listener, with its path, mode, user and group."""
        return [
            UnixListener(
                service.name or "",
                listener.name or "",
                listener.get("mode"),
                listener.get("user"),
                listener.get("group"),
                listener.file,
                listener.line,
            )
            for service in self.services()
            for listener in service.all("unix_listener")
        ]

    def walk(self) -> Iterator[tuple[tuple[Block, ...], Setting]]:
        """Every effective setting, with the chain of sections holding it."""
        yield from _walk((self.top,))


class DovecotLoader(Protocol):
    """Where the parser gets file texts: `read` a path, `glob` a pattern."""

    def read(self, path: str) -> str | bytes | None: ...

    def glob(self, pattern: str) -> list[str]: ...


@dataclass
class MappingLoader:
    """A loader over a mapping of absolute path to text."""

    files: Mapping[str, str | bytes]

    def read(self, path: str) -> str | bytes | None:
        return self.files.get(path)

    def glob(self, pattern: str) -> list[str]:
        if not _has_magic(pattern):
            return [pattern] if pattern in self.files else []
        depth = pattern.count("/")
        return sorted(
            path
            for path in self.files
            if path.count("/") == depth and fnmatch.fnmatchcase(path, pattern)
        )


@dataclass
class CallableLoader:
    """A loader over a function path -> text (no glob beyond literal names)."""

    function: Callable[[str], str | bytes | None]

    def read(self, path: str) -> str | bytes | None:
        return self.function(path)

    def glob(self, pattern: str) -> list[str]:
        # Known shortcoming: a bare function cannot list a directory, so a
        # glob matches nothing; pass a Mapping or a DovecotLoader for globs.
        if _has_magic(pattern):
            return []
        return [pattern] if self.function(pattern) is not None else []


Files = Mapping[str, str] | Mapping[str, bytes] | Mapping[str, str | bytes]
Source = Files | DovecotLoader | Callable[[str], str | bytes | None]


def parse_dovecot(
    path: str = DEFAULT_ROOT,
    *,
    files: Source,
    defaults: DovecotDefaults | None = None,
) -> DovecotConfig:
    """The tree rooted at `path`, read through `files` (a mapping or a loader).

    `defaults` gives the values `$key` expands to before a file sets `key`;
    without it they expand to "".  Raises ConfigSyntaxError only when the
    root file itself cannot be had.
    """
    loader = as_loader(files)
    text = loader.read(path)
    if text is None:
        raise ConfigSyntaxError(
            path, None, "no such file", "give the path of dovecot.conf in the tree"
        )
    reader = _Reader(loader, defaults)
    reader.read_file(path, text, depth=0)
    return DovecotConfig(path, reader.files, reader.top, reader.problems)


def parse_dovecot_text(
    text: str | bytes,
    *,
    path: str = DEFAULT_ROOT,
    defaults: DovecotDefaults | None = None,
) -> DovecotConfig:
    """One file on its own (its includes match nothing)."""
    return parse_dovecot(path, files={path: text}, defaults=defaults)


def as_loader(files: Source) -> DovecotLoader:
    if isinstance(files, Mapping):
        return MappingLoader(files)
    if hasattr(files, "read") and hasattr(files, "glob"):
        return files  # type: ignore[return-value]
    return CallableLoader(files)  # type: ignore[arg-type]


def decode(text: str | bytes, path: str) -> tuple[str, list[Finding]]:
    """Text from bytes; invalid UTF-8 and NUL bytes become findings."""
    problems: list[Finding] = []
    if isinstance(text, bytes):
        raw = text
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = raw.decode("utf-8", errors="replace")
            problems.append(_problem(path, None, "dovecot.invalid-utf8", exc))
    if "\0" in text:
        problems.append(_problem(path, None, "dovecot.binary", None))
        text = text.replace("\0", "")
    return text, problems


class _Reader:
    """The state while reading a tree: where we are, and the effective result."""

    def __init__(self, loader: DovecotLoader, defaults: DovecotDefaults | None):
        self.loader = loader
        self.defaults = defaults
        self.files: dict[str, DovecotFile] = {}
        self.problems: list[Finding] = []
        self.top = Block("", None, "", 0)
        self.stack: list[tuple[Section, Block]] = []
        self.reading: list[str] = []

    def read_file(self, path: str, raw: str | bytes, *, depth: int) -> None:
        text, problems = decode(raw, path)
        self.problems.extend(problems)
        if len(text) > MAX_FILE_SIZE:
            self.problems.append(_problem(path, None, "dovecot.too-big", None))
            text = ""
        lines = lex_dovecot(text)
        top = Section("", None, path, 0)
        self.files.setdefault(path, DovecotFile(path, text, lines, top))
        if not self.stack:
            self.top.file = path
            self.stack.append((top, self.top))
        base = len(self.stack)
        parent_block = self.stack[-1][1]
        self.stack.append((top, parent_block))
        self.reading.append(path)
        for line in lines:
            self.read_line(path, line, base, depth)
        self._close_unclosed(path, base)
        self.reading.pop()
        self.stack.pop()

    def read_line(self, path: str, line: Line, base: int, depth: int) -> None:
        if line.ambiguous_hash:
            self.problems.append(_problem(path, line.number, "dovecot.ambiguous-hash"))
        if line.kind is LineKind.SETTING:
            self._set(path, line)
        elif line.kind is LineKind.OPEN:
            self._open(path, line)
        elif line.kind is LineKind.CLOSE:
            self._close(path, line, base)
        elif line.kind is LineKind.INCLUDE:
            self._include(path, line, depth)
        elif line.kind is LineKind.BAD:
            self.problems.append(_problem(path, line.number, "dovecot.syntax", line))

    def _set(self, path: str, line: Line) -> None:
        section, block = self.stack[-1]
        setting = Setting(line.key, line.value, path, line.number, line.is_file)
        section.entries.append(setting)
        setting.effective = self._expand(setting, block)
        if block is self.top and setting.key in OBSOLETE:
            self._obsolete(setting)
            return
        if block is self.top:
            self._warn_earlier_filters(setting)
        block.settings[setting.key] = setting

    def _expand(self, setting: Setting, block: Block) -> str:
        if setting.is_file or not (block is self.top or block.is_filter):
            return setting.value
        if "$" not in setting.value:
            return setting.value
        words = [self._word(w, setting, block) for w in setting.value.split(" ")]
        return " ".join(words)

    def _word(self, word: str, setting: Setting, block: Block) -> str:
        if not word.startswith("$") or len(word) == 1:
            return word
        name = word[1:]
        for holder in (block, self.top):
            if name in holder.settings:
                return holder.settings[name].effective
        if self.defaults is None:
            # Without the installed defaults, only `key = $key ...` is known:
            # it starts from "" (right for protocols and mail_plugins).
            return "" if name == setting.key else word
        if name in self.defaults.settings:
            return self.defaults.settings[name]
        self.problems.append(
            _problem(setting.file, setting.line, "dovecot.unknown-variable", word)
        )
        return word

    def _obsolete(self, setting: Setting) -> None:
        self.problems.append(
            _problem(setting.file, setting.line, "dovecot.obsolete", setting)
        )
        if setting.key != "ssl_protocols":
            return
        minimum, unknown = min_protocol(setting.effective)
        if unknown is not None:
            detail = (setting, unknown)
            self.problems.append(
                _problem(setting.file, setting.line, "dovecot.ssl-protocols", detail)
            )
        elif minimum is not None:
            converted = Setting("ssl_min_protocol", minimum, setting.file, setting.line)
            converted.effective = minimum
            self.top.settings["ssl_min_protocol"] = converted

    def _warn_earlier_filters(self, setting: Setting) -> None:
        for block in self.top.blocks:
            earlier = block.settings.get(setting.key) if block.is_filter else None
            if earlier is not None:
                detail = (setting, earlier)
                self.problems.append(
                    _problem(setting.file, setting.line, "dovecot.filter-order", detail)
                )

    def _open(self, path: str, line: Line) -> None:
        section, block = self.stack[-1]
        raw = Section(line.key, line.name, path, line.number)
        section.entries.append(raw)
        child = self._child(block, raw)
        self.stack.append((raw, child))

    def _child(self, block: Block, raw: Section) -> Block:
        named = raw.name is not None or raw.kind in MERGED_UNNAMED
        if raw.kind in FILTER_KINDS:
            named = True
        existing = block.block(raw.kind, raw.name) if named else None
        if existing is not None and raw.kind in UNIQUE_NAMES:
            message = f"{raw.kind}/{raw.name} already exists"
            self.problems.append(
                _problem(raw.file, raw.line, "dovecot.duplicate", message)
            )
        if existing is not None:
            return existing
        child = Block(raw.kind, raw.name, raw.file, raw.line)
        block.blocks.append(child)
        return child

    def _close(self, path: str, line: Line, base: int) -> None:
        if len(self.stack) <= base + 1:
            self.problems.append(
                _problem(path, line.number, "dovecot.unexpected-close")
            )
            return
        self.stack.pop()

    def _close_unclosed(self, path: str, base: int) -> None:
        while len(self.stack) > base + 1:
            section, _ = self.stack.pop()
            # doveconf reports it against the file it was asked to read.
            root = self.top.file
            self.problems.append(_problem(root, None, "dovecot.missing-close", section))

    def _include(self, path: str, line: Line, depth: int) -> None:
        section, _ = self.stack[-1]
        pattern = posixpath.join(posixpath.dirname(path), line.key)
        include = Include(line.key, line.is_try, path, line.number)
        section.entries.append(include)
        include.matches = self.loader.glob(pattern)
        if not include.matches and not line.is_try:
            self.problems.append(
                _problem(path, line.number, "dovecot.no-include", line)
            )
        for match in include.matches:
            self._include_one(include, match, depth)

    def _include_one(self, include: Include, match: str, depth: int) -> None:
        if match in self.reading or depth >= MAX_INCLUDE_DEPTH:
            self.problems.append(
                _problem(include.file, include.line, "dovecot.include-loop", match)
            )
            return
        text = self.loader.read(match)
        if text is None:
            if not include.is_try:
                self.problems.append(
                    _problem(include.file, include.line, "dovecot.unreadable", match)
                )
            return
        self.read_file(match, text, depth=depth + 1)


def min_protocol(ssl_protocols: str) -> tuple[str | None, str | None]:
    """The ssl_min_protocol Dovecot 2.3 derives from an old ssl_protocols value.

    Returns (protocol, None), or (None, the first protocol it does not know).
    """
    wanted: set[str] = set()
    refused: set[str] = set()
    for word in ssl_protocols.split():
        name = word.removeprefix("!")
        if name not in SSL_PROTOCOLS:
            return None, name
        (refused if word.startswith("!") else wanted).add(name)
    allowed = [p for p in SSL_PROTOCOLS if p in (wanted or SSL_PROTOCOLS)]
    allowed = [p for p in allowed if p not in refused]
    return (allowed[0] if allowed else None), None


def _walk(chain: tuple[Block, ...]) -> Iterator[tuple[tuple[Block, ...], Setting]]:
    block = chain[-1]
    for setting in block.settings.values():
        yield chain, setting
    for child in block.blocks:
        yield from _walk((*chain, child))


def _has_magic(pattern: str) -> bool:
    return any(char in pattern for char in "*?[")


def _problem(path: str, line: int | None, code: str, detail: object = None) -> Finding:
    """A finding met while reading the tree (messages as doveconf words them)."""
    message, fix = _explain(code, detail)
    severity = Severity.WARNING if code in _WARNINGS else Severity.ERROR
    return Finding(severity, path, line, message, fix, code)


_WARNINGS = ("dovecot.ambiguous-hash", "dovecot.filter-order", "dovecot.obsolete")
_OBSOLETE_FIX = {
    "ssl_protocols": "replace it with ssl_min_protocol = TLSv1.2 (the default)"
}


def _explain(code: str, detail: object) -> tuple[str, str]:
    if code == "dovecot.syntax" and isinstance(detail, Line):
        return detail.problem, "write `key = value`, `name {` or `}` on this line"
    if code == "dovecot.no-include" and isinstance(detail, Line):
        return (
            "No matches",
            f"fix the path of !include {detail.key} (relative to this file) "
            "or use !include_try",
        )
    if code == "dovecot.missing-close" and isinstance(detail, Section):
        where = f"{detail.file}:{detail.line}"
        return f"Missing '}}' (section started at {where})", "close the section"
    if code == "dovecot.filter-order" and isinstance(detail, tuple):
        setting, earlier = detail
        where = f"{earlier.file} line {earlier.line}"
        return (
            f"Global setting {setting.key} won't change the setting inside an "
            f"earlier filter at {where} (if this is intentional, avoid this "
            f"warning by moving the global setting before {where})",
            "move the global setting before the filter",
        )
    if code == "dovecot.obsolete" and isinstance(detail, Setting):
        return (
            f"Obsolete setting in {detail.file}:{detail.line}: "
            f"{detail.key} {OBSOLETE[detail.key]}",
            _OBSOLETE_FIX.get(detail.key, f"remove {detail.key}"),
        )
    if code == "dovecot.ssl-protocols" and isinstance(detail, tuple):
        setting, unknown = detail
        return (
            "Could not find a minimum ssl_min_protocol setting from "
            f"ssl_protocols = {setting.effective}: Unrecognized protocol '{unknown}'",
            "replace ssl_protocols with ssl_min_protocol = TLSv1.2",
        )
    if code in ("dovecot.duplicate", "dovecot.unknown-variable"):
        if code == "dovecot.unknown-variable":
            return f"Unknown variable: {detail}", "name an existing setting after $"
        return str(detail), "give each passdb/userdb section its own name"
    return _SIMPLE[code][0].format(detail=detail), _SIMPLE[code][1]


_SIMPLE = {
    "dovecot.ambiguous-hash": (
        AMBIGUOUS_HASH,
        "put a space before '#', or quote the value if '#' belongs to it",
    ),
    "dovecot.unexpected-close": ("Unexpected '}}'", "remove this '}'"),
    "dovecot.invalid-utf8": (
        "not valid UTF-8 ({detail})",
        "save the file as UTF-8",
    ),
    "dovecot.binary": ("binary data (NUL bytes) in a config file", "restore the file"),
    "dovecot.too-big": ("file too large to be a config file", "restore the file"),
    "dovecot.include-loop": (
        "{detail} includes itself (or includes nest too deep)",
        "remove the include loop",
    ),
    "dovecot.unreadable": ("cannot read included file {detail}", "check it exists"),
}


# The tree is sent back as a base64 tar, in one command.  $1 root file.
# Every !include target below /etc/dovecot and /usr/share/dovecot is taken;
# the private/ directory (keys) is left out.
_TREE_SCRIPT = r"""
set -eu
root=$1
cd /
tar cf - --exclude='etc/dovecot/private' --ignore-failed-read \
  "${root#/}" etc/dovecot usr/share/dovecot/protocols.d 2>/dev/null | base64 -w0
"""


def read_dovecot_tree(host: Host, root: str = DEFAULT_ROOT) -> dict[str, str]:
    """Every file of the Dovecot tree on a host, by absolute path (one command).

    Known shortcoming: includes outside /etc/dovecot and
    /usr/share/dovecot/protocols.d are not fetched (Debian's tree has none).
    """
    argv = ["sh", "-c", _TREE_SCRIPT, "sh", root]
    output = host.check_output(argv, sudo=True)
    data = base64.b64decode(output.strip())
    log.debug("%s: fetched the dovecot tree (%d bytes)", host.name, len(data))
    return _untar(data)


def _untar(data: bytes) -> dict[str, str]:
    files: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        for member in archive.getmembers():
            extracted = archive.extractfile(member) if member.isfile() else None
            if extracted is not None:
                raw = extracted.read()
                files["/" + member.name.lstrip("/")] = raw.decode("utf-8", "replace")
    return files
