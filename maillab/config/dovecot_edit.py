"""Change one setting of a Dovecot file and keep every other byte as written.

A section path is a sequence of `(kind, name)` pairs (name None for an
unnamed section), or a string such as `"service auth/unix_listener auth-userdb"`.
The empty path is the top level of the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from maillab.config.dovecot_lexer import Line, LineKind, lex_dovecot, strip_comment

SectionPath = Sequence[tuple[str, str | None]] | str


@dataclass(frozen=True)
class _Place:
    """A section of the file: its opening and closing lines (None: top level)."""

    path: tuple[tuple[str, str | None], ...]
    open: Line | None
    close: Line | None
    settings: tuple[Line, ...]


def set_setting(text: str, key: str, value: str, *, section: SectionPath = ()) -> str:
    """`key = value` in the section: the last line setting it is rewritten,
    or a line is added at the end of the section (created if missing)."""
    target = _path(section)
    place = _last_place(text, target)
    if place is None:
        return _add_section(text, target, key, value)
    lines = [line for line in place.settings if line.key == key]
    if not lines:
        return _insert(text, place, key, value)
    old = lines[-1]
    return (
        text[: old.start]
        + _rewrite(text[old.start : old.end], key, value)
        + text[old.end :]
    )


def add_setting(text: str, key: str, value: str, *, section: SectionPath = ()) -> str:
    """A new `key = value` line at the end of the section (such as
    `protocols = $protocols sieve`), whatever is there already."""
    target = _path(section)
    place = _last_place(text, target)
    if place is None:
        return _add_section(text, target, key, value)
    return _insert(text, place, key, value)


def remove_setting(text: str, key: str, *, section: SectionPath = ()) -> str:
    """The text without any line setting `key` directly in that section."""
    target = _path(section)
    doomed = [
        line
        for place in _places(text)
        if place.path == target
        for line in place.settings
        if line.key == key
    ]
    for line in sorted(doomed, key=lambda item: item.start, reverse=True):
        text = text[: line.start] + text[line.end :]
    return text


def format_value(value: str) -> str:
    """A value as it must be written so that Dovecot reads it back unchanged."""
    if value.startswith("<"):
        return value
    needs = value != value.strip(" \t") or "#" in value or value[:1] in "\"'"
    if needs:
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


def _path(section: SectionPath) -> tuple[tuple[str, str | None], ...]:
    if not isinstance(section, str):
        return tuple(section)
    steps = []
    for part in filter(None, section.split("/")):
        kind, _, name = part.strip().partition(" ")
        steps.append((kind, name.strip() or None))
    return tuple(steps)


def _places(text: str) -> list[_Place]:
    """Every section of the file (the top level first), with its own settings."""
    stack: list[tuple[tuple[tuple[str, str | None], ...], Line | None, list[Line]]]
    stack = [((), None, [])]
    done: list[_Place] = []
    for line in lex_dovecot(text):
        if line.kind is LineKind.SETTING:
            stack[-1][2].append(line)
        elif line.kind is LineKind.OPEN:
            stack.append(((*stack[-1][0], (line.key, line.name)), line, []))
        elif line.kind is LineKind.CLOSE and len(stack) > 1:
            path, opened, settings = stack.pop()
            done.append(_Place(path, opened, line, tuple(settings)))
    while stack:
        path, opened, settings = stack.pop()
        done.append(_Place(path, opened, None, tuple(settings)))
    return sorted(done, key=lambda place: place.open.start if place.open else -1)


def _last_place(text: str, target: tuple[tuple[str, str | None], ...]) -> _Place | None:
    matches = [place for place in _places(text) if place.path == target]
    return matches[-1] if matches else None


def _rewrite(raw: str, key: str, value: str) -> str:
    body = raw.rstrip("\r\n")
    ending = raw[len(body) :]
    indent = body[: len(body) - len(body.lstrip(" \t"))]
    kept, _ = strip_comment(body)
    comment = body[len(kept) :]
    spacing = kept[len(kept.rstrip(" \t")) :] if comment else ""
    return f"{indent}{key} = {format_value(value)}{spacing}{comment}{ending}"


def _insert(text: str, place: _Place, key: str, value: str) -> str:
    if place.close is None:  # top level (or an unclosed section): at the end
        indent = "" if place.open is None else _indent_of(text, place.open) + "  "
        return _append(text, f"{indent}{key} = {format_value(value)}\n")
    indent = _child_indent(text, place)
    where = place.close.start
    return text[:where] + f"{indent}{key} = {format_value(value)}\n" + text[where:]


def _child_indent(text: str, place: _Place) -> str:
    if place.settings:
        return _indent_of(text, place.settings[-1])
    return _indent_of(text, place.close or place.open) + "  "  # type: ignore[arg-type]


def _indent_of(text: str, line: Line) -> str:
    raw = text[line.start : line.end]
    return raw[: len(raw) - len(raw.lstrip(" \t"))]


def _add_section(
    text: str, target: tuple[tuple[str, str | None], ...], key: str, value: str
) -> str:
    """Create the missing end of the section path inside its deepest existing part."""
    depth = len(target) - 1
    while depth > 0 and _last_place(text, target[:depth]) is None:
        depth -= 1
    block = _section_text(target[depth:], key, value, "  " * depth)
    parent = _last_place(text, target[:depth])
    if parent is None or parent.close is None:
        return _append(text, block)
    where = parent.close.start
    return text[:where] + block + text[where:]


def _section_text(
    steps: tuple[tuple[str, str | None], ...], key: str, value: str, indent: str
) -> str:
    kind, name = steps[0]
    head = (
        f"{indent}{kind} {format_name(name)} {{\n" if name else f"{indent}{kind} {{\n"
    )
    if len(steps) > 1:
        inner = _section_text(steps[1:], key, value, indent + "  ")
    else:
        inner = f"{indent}  {key} = {format_value(value)}\n"
    return head + inner + f"{indent}}}\n"


def format_name(name: str) -> str:
    if any(char in name for char in ' \t#{}"'):
        return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return name


def _append(text: str, addition: str) -> str:
    if text and not text.endswith("\n"):
        text += "\n"
    return text + addition
