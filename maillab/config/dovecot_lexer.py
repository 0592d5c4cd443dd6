"""Dovecot configuration lines: what each line of a dovecot.conf says.

One `Line` per physical line, with its offsets in the text so that the editor
can replace one line and keep every other byte.  The rules follow Dovecot
2.3's own reader: `#` starts a comment anywhere outside quotes (with a
warning when no space comes before it), a value wholly in quotes loses its
quotes, `<path` reads a file, `name {` opens a section, `}` closes it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

AMBIGUOUS_HASH = (
    "Ambiguous '#' character in line, treating it as comment. "
    "Add a space before it to remove this warning."
)
_SPACE = " \t"


class LineKind(StrEnum):
    EMPTY = "empty"  # blank or comment only
    SETTING = "setting"  # key = value
    OPEN = "open"  # kind [name] {
    CLOSE = "close"  # }
    INCLUDE = "include"  # !include / !include_try
    BAD = "bad"  # cannot be read; `problem` says why


@dataclass(frozen=True)
class Line:
    """One line of a Dovecot file, as Dovecot reads it."""

    kind: LineKind
    number: int
    start: int  # offset of the line in the text
    end: int  # offset just past its end of line
    key: str = ""  # setting key, section kind, or include pattern
    value: str = ""  # setting value (unquoted), or section name
    name: str | None = None  # section name (None: unnamed)
    is_file: bool = False  # value written `<path`
    is_try: bool = False  # !include_try
    problem: str = ""  # for BAD lines: Dovecot's own message
    ambiguous_hash: bool = False  # a '#' with no space before it


def lex_dovecot(text: str) -> list[Line]:
    """Every line of `text`, classified."""
    lines = []
    offset = 0
    for number, raw in enumerate(text.splitlines(keepends=True), start=1):
        lines.append(lex_line(raw, number, offset))
        offset += len(raw)
    return lines


def lex_line(raw: str, number: int, start: int) -> Line:
    """One line; `start` is its offset in the whole text."""
    end = start + len(raw)
    body, ambiguous = strip_comment(raw.strip(_SPACE + "\r\n\f\v"))
    body = body.rstrip(_SPACE)
    base = Line(LineKind.EMPTY, number, start, end, ambiguous_hash=ambiguous)
    if not body:
        return base
    if body.startswith("!"):
        return _include(body, base)
    if body == "}":
        return replace(base, kind=LineKind.CLOSE)
    return _setting_or_section(body, base)


def strip_comment(body: str) -> tuple[str, bool]:
    """The line without its comment, and whether the '#' had no space before it."""
    quote = ""
    escaped = False
    for index, char in enumerate(body):
        if escaped:
            escaped = False
        elif quote:
            escaped = char == "\\"
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            ambiguous = index > 0 and body[index - 1] not in _SPACE
            return body[:index], ambiguous
    return body, False


def unquote(value: str) -> str:
    """A value wholly in double or single quotes, without them and unescaped."""
    if len(value) < 2 or value[0] not in "\"'" or value[-1] != value[0]:
        return value
    inner = value[1:-1]
    out = []
    escaped = False
    for char in inner:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _include(body: str, base: Line) -> Line:
    command, _, rest = body.partition(" ")
    pattern = unquote(rest.strip(_SPACE))
    if command not in ("!include", "!include_try"):
        problem = f"Unknown command: {command}"
        return replace(base, kind=LineKind.BAD, problem=problem)
    if not pattern:
        problem = f"{command} needs a file name"
        return replace(base, kind=LineKind.BAD, problem=problem)
    is_try = command == "!include_try"
    return replace(base, kind=LineKind.INCLUDE, key=pattern, is_try=is_try)


def _setting_or_section(body: str, base: Line) -> Line:
    key, rest = _split_key(body)
    if not key:
        problem = "Missing setting name before '='"
        if rest[:1] != "=":
            problem = f"Unexpected '{rest[:1]}'"
        return replace(base, kind=LineKind.BAD, problem=problem)
    if rest.startswith("="):
        return _setting(key, rest[1:].strip(_SPACE), base)
    if rest.endswith("{"):
        name = rest[:-1].strip(_SPACE)
        named = unquote(name) if name else None
        return replace(base, kind=LineKind.OPEN, key=key, name=named, value=named or "")
    if "{" in rest:
        return replace(base, kind=LineKind.BAD, problem="Garbage after '{'")
    problem = "Expecting '='" if rest else "Expecting '{'"
    return replace(base, kind=LineKind.BAD, problem=problem)


def _split_key(body: str) -> tuple[str, str]:
    for index, char in enumerate(body):
        if char in _SPACE or char in "={}":
            return body[:index], body[index:].lstrip(_SPACE)
    return body, ""


def _setting(key: str, value: str, base: Line) -> Line:
    if value.startswith("<"):
        path = value[1:].strip(_SPACE)
        return replace(base, kind=LineKind.SETTING, key=key, value=path, is_file=True)
    return replace(base, kind=LineKind.SETTING, key=key, value=unquote(value))
