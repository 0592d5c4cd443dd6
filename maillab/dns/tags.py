"""Tag-lists, the `tag=value; tag=value` syntax of DKIM (RFC 6376, 3.2) and DMARC."""

from __future__ import annotations

import re

from maillab.dns.resolver import RecordSyntaxError

_TAG = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_VALUE = re.compile(r"[\x21-\x3a\x3c-\x7e]+(?:[ \t\r\n]+[\x21-\x3a\x3c-\x7e]+)*")


def parse_tag_list(text: str, *, name: str = "record") -> dict[str, str]:
    """A tag=value; list (RFC 6376, 3.2) in order; whitespace around values dropped."""
    tags: dict[str, str] = {}
    specs = text.split(";")
    if specs and not specs[-1].strip():
        specs.pop()  # a final ; is allowed
    for spec in specs:
        tag, equals, value = spec.partition("=")
        tag, value = tag.strip(" \t\r\n"), value.strip(" \t\r\n")
        if not equals or not _TAG.fullmatch(tag):
            raise RecordSyntaxError(
                name, f"{spec.strip()!r} is not tag=value", "write tag=value; tag=value"
            )
        if value and not _VALUE.fullmatch(value):
            raise RecordSyntaxError(
                name, f"bad character in the value of {tag}=", "use printable ASCII"
            )
        if tag in tags:
            raise RecordSyntaxError(
                name, f"tag {tag}= appears twice", "keep one (RFC 6376, 3.2)"
            )
        tags[tag] = value
    return tags
