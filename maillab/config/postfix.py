"""What main.cf, master.cf and aliases share: text decoding and logical lines.

postconf(5), master(5) and aliases(5) read a file the same way: a line that
starts with whitespace continues the logical line before it, and blank or
comment lines (first non-blank character `#`) are skipped, even inside a
continuation.  A `#` anywhere else is plain text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from maillab.config.findings import ConfigSyntaxError, Finding, Severity

MAX_BYTES = 64 * 1024 * 1024
SPACE = " \t\n\v\f\r"  # C isspace(), what Postfix splits on
_SPACES = re.compile(f"[{SPACE}]+")


@dataclass(frozen=True)
class LogicalLine:
    """One logical line: its text joined from physical lines, and where it is."""

    text: str
    line: int  # first physical line, from 1
    end_line: int  # last physical line that carries text
    continues_orphan: bool = False  # starts with whitespace, nothing to continue


def decode_text(text: str | bytes, *, path: str) -> tuple[str, list[Finding]]:
    """The text as str, with a finding when bytes are not valid UTF-8.

    Raises ConfigSyntaxError for data that is not text at all (NUL bytes) or
    absurdly large.
    """
    if len(text) > MAX_BYTES:
        raise ConfigSyntaxError(
            path, None, f"is larger than {MAX_BYTES} bytes", "give a configuration file"
        )
    findings: list[Finding] = []
    if isinstance(text, bytes):
        data = text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            findings.append(_not_utf8(path, data.count(b"\n", 0, exc.start) + 1))
            text = data.decode("utf-8", errors="replace")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise ConfigSyntaxError(
            path, line, "contains NUL bytes: not a text file", "give a text file"
        )
    return text, findings


def _not_utf8(path: str, line: int) -> Finding:
    return Finding(
        Severity.WARNING,
        path,
        line,
        "the file is not valid UTF-8; Postfix reads bytes, but editors and "
        "this tool may show the characters wrongly",
        "save the file as UTF-8",
        "postfix.not-utf8",
    )


def is_skipped(line: str) -> bool:
    """Blank, whitespace-only or comment lines, which never end a logical line."""
    stripped = line.lstrip(SPACE)
    return not stripped or stripped.startswith("#")


def split_lines(text: str) -> list[str]:
    """Physical lines without their line ends ("\\n" only, like Postfix)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def logical_lines(text: str) -> list[LogicalLine]:
    """The logical lines of a Postfix-style file, in order."""
    result: list[LogicalLine] = []
    parts: list[str] = []
    first = last = 0
    orphan = False
    for number, line in enumerate(split_lines(text), start=1):
        if is_skipped(line):
            continue
        if line[0] in SPACE and parts:
            parts.append(line)
            last = number
            continue
        if parts:
            result.append(LogicalLine("".join(parts), first, last, orphan))
        parts, first, last = [line], number, number
        orphan = line[0] in SPACE
    if parts:
        result.append(LogicalLine("".join(parts), first, last, orphan))
    return result


def leading_whitespace_finding(path: str, logical: LogicalLine) -> Finding:
    """postconf's warning for text that continues nothing."""
    return Finding(
        Severity.WARNING,
        path,
        logical.line,
        f'logical line must not start with whitespace: "{logical.text}"; '
        "Postfix ignores it",
        "remove the leading whitespace, or put the line right after the entry "
        "it continues",
        "postfix.leading-whitespace",
    )


def collapse(value: str) -> str:
    """A value as postconf prints it: words joined by single spaces."""
    return " ".join(word for word in _SPACES.split(value) if word)


# --- $name expansion, as in Postfix's mac_expand -----------------------------

MAX_NESTING = 100
Lookup = Callable[[str], "str | None"]
_NAME_CHARS = re.compile(r"[A-Za-z0-9_]*")
_LEVEL_OPS = ("<=level", ">=level", "<level", ">level")
_OPS = ("==", "!=", "<=", ">=", "<", ">")


@dataclass(frozen=True)
class MacroProblem:
    """A problem found while scanning or expanding a value."""

    message: str  # postconf's wording, such as 'undefined parameter: nope'
    code: str


class Expander:
    """Expands $name, ${name}, $(name), ${name?text}, ${name:text} and $$.

    Also the Postfix 3.0 forms ${name?{text}}, ${name:{text}} and
    ${{a} == {b} ? {text} : {text}} (with ==, !=, <, <=, >, >= and the
    <level, <=level, >level, >=level comparisons of compatibility levels).
    `lookup` gives a parameter's raw value, or None when it is undefined.
    With `expand=False` the text is only scanned: `names` collects every
    parameter it refers to.
    """

    def __init__(self, lookup: Lookup, *, expand: bool = True) -> None:
        self.lookup = lookup
        self.expand = expand
        self.problems: list[MacroProblem] = []
        self.names: list[str] = []
        self._depth = 0

    def run(self, value: str) -> str:
        out: list[str] = []
        pos = 0
        while pos < len(value):
            dollar = value.find("$", pos)
            if dollar < 0:
                out.append(value[pos:])
                break
            out.append(value[pos:dollar])
            pos = self._macro(value, dollar, out)
        return "".join(out)

    def _macro(self, value: str, dollar: int, out: list[str]) -> int:
        """Expand the reference at value[dollar]; return where scanning goes on."""
        nxt = value[dollar + 1 : dollar + 2]
        if nxt == "$":
            out.append("$")
            return dollar + 2
        if nxt in ("{", "("):
            close = _matching(value, dollar + 1)
            if close < 0:
                self._problem(f'truncated macro reference: "{value}"', "truncated")
                return len(value)
            out.append(self._braced(value[dollar + 2 : close], value))
            return close + 1
        name = _NAME_CHARS.match(value, dollar + 1).group()  # type: ignore[union-attr]
        if not name:
            self._problem(f'empty macro name: "{value}"', "empty-macro-name")
            return len(value)
        out.append(self._value_of(name))
        return dollar + 1 + len(name)

    def _braced(self, inner: str, whole: str) -> str:
        if inner.startswith("{"):
            return self._logical(inner, whole)
        name = _NAME_CHARS.match(inner).group()  # type: ignore[union-attr]
        rest = inner[len(name) :]
        if not name:
            self._problem(f'empty macro name: "{whole}"', "empty-macro-name")
            return ""
        if not rest:
            return self._value_of(name)
        if rest[0] not in "?:":
            self._problem(
                f'unknown operator "{rest[0]}" in macro reference: "{whole}"',
                "macro-syntax",
            )
            return ""
        raw = self._raw(name)
        wanted = bool(raw) if rest[0] == "?" else not raw
        return self._nested(_unbrace(rest[1:])) if wanted else ""

    def _logical(self, inner: str, whole: str) -> str:
        parts = _split_logical(inner)
        if parts is None:
            self._problem(f'bad logical expression: "{whole}"', "macro-syntax")
            return ""
        left, op, right, if_true, if_false = parts
        result = _compare(self._nested(left), op, self._nested(right))
        if result is None:
            self._problem(f'bad comparison in "{whole}"', "macro-syntax")
            return ""
        chosen = if_true if result else if_false
        return self._nested(chosen) if chosen is not None else ""

    def _raw(self, name: str) -> str | None:
        self.names.append(name)
        raw = self.lookup(name)
        if raw is None:
            self._problem(f"undefined parameter: {name}", "undefined-parameter")
        return raw

    def _value_of(self, name: str) -> str:
        raw = self._raw(name)
        if raw is None or not self.expand:
            return ""
        return self._nested(raw, name)

    def _nested(self, text: str, name: str = "") -> str:
        if self._depth >= MAX_NESTING:
            self._problem(
                f'unreasonable macro call nesting: "{name or text}"', "macro-nesting"
            )
            return ""
        self._depth += 1
        try:
            return self.run(text)
        finally:
            self._depth -= 1

    def _problem(self, message: str, code: str) -> None:
        self.problems.append(MacroProblem(message, code))


def _matching(value: str, start: int) -> int:
    """The index of the bracket closing value[start], or -1."""
    opening = value[start]
    closing = "}" if opening == "{" else ")"
    depth = 0
    for index in range(start, len(value)):
        char = value[index]
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return index
    return -1


def _unbrace(text: str) -> str:
    """`{ text }` becomes `text` (Postfix 3.0); other text is kept as is."""
    stripped = text.strip(SPACE)
    if stripped.startswith("{") and _matching(stripped, 0) == len(stripped) - 1:
        return stripped[1:-1].strip(SPACE)
    return text


def _take_group(text: str) -> tuple[str, str] | None:
    """Split `{group} rest` into (group, rest)."""
    text = text.lstrip(SPACE)
    if not text.startswith("{"):
        return None
    close = _matching(text, 0)
    if close < 0:
        return None
    return text[1:close].strip(SPACE), text[close + 1 :].lstrip(SPACE)


def _split_logical(
    inner: str,
) -> tuple[str, str, str, str | None, str | None] | None:
    """`{a} op {b} ? {x} : {y}` as its five parts (x or y may be missing)."""
    first = _take_group(inner)
    if first is None:
        return None
    left, rest = first
    op = next((o for o in _LEVEL_OPS + _OPS if rest.startswith(o)), None)
    if op is None:
        return None
    second = _take_group(rest[len(op) :])
    if second is None:
        return None
    right, rest = second
    branches: dict[str, str] = {}
    while rest:
        mark, group = rest[0], _take_group(rest[1:])
        if mark not in "?:" or group is None or mark in branches:
            return None
        branches[mark], rest = group
    return left, op, right, branches.get("?"), branches.get(":")


def _compare(left: str, op: str, right: str) -> bool | None:
    if op in ("==", "!="):
        return (left == right) == (op == "==")
    if op.endswith("level"):
        a, b = _level(left), _level(right)
        op = op.removesuffix("level")
    else:
        a, b = _number(left), _number(right)
    if a is None or b is None:
        return None
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _number(text: str) -> tuple[int, ...] | None:
    text = text.strip(SPACE)
    return (int(text),) if text.isascii() and text.isdigit() else None


def _level(text: str) -> tuple[int, ...] | None:
    """A compatibility level such as 3.6 or 2, as a comparable tuple."""
    parts = text.strip(SPACE).split(".")
    if not all(p.isascii() and p.isdigit() for p in parts):
        return None
    numbers = [int(p) for p in parts] + [0, 0]
    return tuple(numbers[:3])
