"""BIND zone files: records with their lines, TXT strings joined, lint and edit.

Each record is read with dnspython's zone file reader (dns.zonefile), one
entry at a time, so that every record keeps its line and every broken entry
is reported on its own line.  TXT strings are joined as a resolver joins
them: `"v=DKIM1; k=rsa; " "p=MIIB..."` is one value, with no space added.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import dns.exception
import dns.name
import dns.rdatatype
import dns.ttl
import dns.zone
import dns.zonefile

from maillab.config.findings import Finding, Severity

if TYPE_CHECKING:
    from maillab.remote.host import Host

log = logging.getLogger(__name__)

MAX_TXT_STRING = 255  # bytes in one quoted string (RFC 1035 character-string)
NAME_TYPES = frozenset({"MX", "NS", "CNAME", "PTR", "SRV", "SOA", "DNAME"})
COMMON_TLDS = frozenset(
    {"com", "org", "net", "fr", "be", "ch", "de", "eu", "io", "uk"}
    | {"local", "test", "lan", "internal", "arpa"}
)
# Codes named-checkzone does not report (the zone loads, it is just wrong).
BEYOND_NAMED_CHECKZONE = frozenset(
    {
        "zone.not-utf8",
        "zone.missing-dot",
        "zone.txt-unquoted",
        "zone.dkim-key",
        "zone.serial-not-bumped",
        "zone.spf-multiple",
        "zone.unsupported",
    }
)


@dataclass(frozen=True)
class Record:
    """One resource record, as the zone defines it."""

    name: str  # absolute, with the trailing dot
    ttl: int
    rdtype: str
    rdata: str  # dnspython's text form, names absolute
    line: int
    text: str  # the entry as written (parentheses joined, comments removed)
    strings: tuple[bytes, ...] = ()  # TXT/SPF character-strings

    @property
    def txt(self) -> str | None:
        """A TXT value as a resolver gives it: the strings joined, nothing added."""
        if self.rdtype not in ("TXT", "SPF"):
            return None
        return b"".join(self.strings).decode("utf-8", "replace")


@dataclass(frozen=True)
class Entry:
    """One logical line of the file (a record or a $ directive)."""

    line: int
    text: str
    starts_blank: bool  # no owner: the previous owner goes on


@dataclass
class Zone:
    path: str
    origin: str
    text: str
    records: list[Record] = field(default_factory=list)
    errors: list[tuple[int | None, str]] = field(default_factory=list)
    unsupported: list[Entry] = field(default_factory=list)
    decode_error: str | None = None

    def find(self, name: str, rdtype: str | None = None) -> list[Record]:
        absolute = _absolute(name, self.origin)
        return [
            r
            for r in self.records
            if r.name == absolute and (rdtype is None or r.rdtype == rdtype)
        ]

    def txt(self, name: str) -> list[str]:
        """The joined TXT values at a name."""
        return [r.txt or "" for r in self.find(name, "TXT")]

    @property
    def serial(self) -> int | None:
        soa = [r for r in self.records if r.rdtype == "SOA"]
        return int(soa[0].rdata.split()[2]) if soa else None


def _absolute(name: str, origin: str) -> str:
    if name == "@":
        return origin
    return name if name.endswith(".") else f"{name}.{origin}"


def decode(data: str | bytes) -> tuple[str, str | None]:
    if isinstance(data, str):
        return data, None
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return data.decode("utf-8", "replace"), f"not valid UTF-8 at byte {exc.start}"


def entries(text: str) -> list[Entry]:
    """Logical lines: comments cut, parenthesized lines joined, quotes kept."""
    found: list[Entry] = []
    buffer: list[str] = []
    start, depth, quoted, line = 1, 0, False, 1
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            buffer.append(text[i : i + 2])
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif char in "()" and not quoted:
            depth += 1 if char == "(" else -1
        elif char == "\n":
            line += 1
            if depth <= 0:
                _flush(found, buffer, start)
                buffer, start, depth, quoted = [], line, 0, False
                i += 1
                continue
            quoted = False  # a string cannot go on past the end of a line
        buffer.append(char)
        i += 1
    _flush(found, buffer, start)
    return found


def _flush(found: list[Entry], buffer: list[str], start: int) -> None:
    entry = "".join(buffer)
    if entry.strip():
        found.append(Entry(start, entry.rstrip(), entry[:1] in (" ", "\t")))


def parse_zone(
    data: str | bytes, *, origin: str, path: str = "zone", default_ttl: int = 3600
) -> Zone:
    """Read every record of a zone file; broken entries go to `errors`.

    Never raises: named refuses a zone with any broken entry, so the
    linter reports each one with its line.
    """
    text, decode_error = decode(data)
    origin = origin if origin.endswith(".") else origin + "."
    zone = Zone(path, origin, text, decode_error=decode_error)
    state = {"origin": origin, "ttl": default_ttl, "owner": origin}
    for entry in entries(text):
        if entry.text.lstrip().startswith("$"):
            _directive(zone, entry, state)
        else:
            _record_entry(zone, entry, state)
    return zone


def _directive(zone: Zone, entry: Entry, state: dict[str, object]) -> None:
    words = entry.text.split()
    keyword = words[0].upper()
    if keyword == "$TTL" and len(words) > 1:
        try:
            state["ttl"] = dns.ttl.from_text(words[1])
        except dns.exception.DNSException as exc:
            zone.errors.append((entry.line, f"bad $TTL: {exc}"))
    elif keyword == "$ORIGIN" and len(words) > 1:
        state["origin"] = _absolute(words[1], str(state["origin"]))
    else:
        # Shortcoming: $INCLUDE and $GENERATE are not followed.
        zone.unsupported.append(entry)


def _record_entry(zone: Zone, entry: Entry, state: dict[str, object]) -> None:
    origin = str(state["origin"])
    text = entry.text
    if entry.starts_blank:
        text = f"{state['owner']} {text.lstrip()}"
    try:
        rrsets = dns.zonefile.read_rrsets(
            text, origin=origin, default_ttl=int(str(state["ttl"])), rdclass=None
        )
    except (dns.exception.DNSException, ValueError, UnicodeError) as exc:
        inner = re.match(r"<input>:(\d+):", str(exc))
        line = entry.line + int(inner[1]) - 1 if inner else entry.line
        zone.errors.append((line, _without_place(str(exc))))
        return
    for rrset in rrsets:
        state["owner"] = rrset.name.to_text()
        for rdata in rrset:
            zone.records.append(
                Record(
                    rrset.name.to_text(),
                    rrset.ttl,
                    dns.rdatatype.to_text(rrset.rdtype),
                    rdata.to_text(origin=None, relativize=False),
                    entry.line,
                    entry.text,
                    tuple(getattr(rdata, "strings", ())),
                )
            )


def _without_place(message: str) -> str:
    return re.sub(r"^<input>:\d+:\s*", "", message)


def read_zone(host: Host, path: str, *, origin: str) -> Zone:
    """Fetch and parse a zone file from a lab machine."""
    return parse_zone(host.read(path), origin=origin, path=path)


# --- linting ------------------------------------------------------------


def lint_zone(
    data: str | bytes | Zone,
    *,
    origin: str = "monentreprise.local.",
    path: str = "zone",
    old_text: str | bytes | None = None,
) -> list[Finding]:
    """Findings for a zone file; `old_text` is the version before the edit
    (to check that the SOA serial went up).  Never raises."""
    zone = (
        data if isinstance(data, Zone) else parse_zone(data, origin=origin, path=path)
    )
    lint = _Lint(zone)
    try:
        lint.run(old_text)
    except Exception:  # a linter never raises: report the bug as a finding
        log.exception("lint_zone failed on %s", zone.path)
        lint.add(
            Severity.ERROR,
            None,
            "the linter failed on this file",
            "report a bug",
            "zone.lint-failed",
        )
    return sorted(lint.findings, key=lambda f: f.line or 0)


@dataclass
class _Lint:
    zone: Zone
    findings: list[Finding] = field(default_factory=list)

    def add(
        self, severity: Severity, line: int | None, message: str, fix: str, code: str
    ) -> None:
        self.findings.append(
            Finding(severity, self.zone.path, line, message, fix, code)
        )

    def run(self, old_text: str | bytes | None) -> None:
        if self.zone.decode_error:
            self.add(
                Severity.WARNING,
                None,
                f"the file is {self.zone.decode_error}",
                "save it as UTF-8 (or ASCII)",
                "zone.not-utf8",
            )
        for line, message in self.zone.errors:
            self.syntax(line, message)
        for entry in self.zone.unsupported:
            self.add(
                Severity.INFO,
                entry.line,
                f"{entry.text.split()[0]} is not followed by this reader",
                "check with named-checkzone",
                "zone.unsupported",
            )
        conflicts = self.check_cname()
        if not self.zone.errors and not conflicts:
            self.whole_zone()
        for record in self.zone.records:
            self.check_record(record)
        self.check_spf()
        if old_text is not None:
            self.check_serial(old_text)

    def syntax(self, line: int | None, message: str) -> None:
        fix = "correct the record"
        if "string too long" in message:
            fix = "split the value into quoted strings of 255 bytes at most"
        elif "newline in quoted string" in message or "unbalanced" in message:
            fix = (
                "close the string on each line and wrap them in ( ): "
                'TXT ( "v=DKIM1; k=rsa; " "p=MIIB..." )'
            )
        self.add(
            Severity.ERROR,
            line,
            f"named cannot load this record: {message}",
            fix,
            "zone.syntax",
        )

    def check_cname(self) -> bool:
        """CNAME beside other data at one name: named refuses the zone."""
        types: dict[str, set[str]] = {}
        for record in self.zone.records:
            types.setdefault(record.name, set()).add(record.rdtype)
        found = False
        for record in self.zone.records:
            others = types[record.name] - {"CNAME", "RRSIG", "NSEC"}
            if record.rdtype == "CNAME" and others:
                found = True
                self.add(
                    Severity.ERROR,
                    record.line,
                    f"{record.name}: CNAME and "
                    f"other data ({', '.join(sorted(others))})",
                    "a name with a CNAME can have no other record: remove one of them",
                    "zone.cname-and-other-data",
                )
        return found

    def whole_zone(self) -> None:
        try:
            dns.zone.from_text(
                self.zone.text,
                origin=self.zone.origin,
                relativize=False,
                check_origin=True,
            )
        except dns.zone.NoSOA:
            self.add(
                Severity.ERROR,
                None,
                "the zone has no SOA record at its origin",
                "add the SOA record first",
                "zone.no-soa",
            )
        except dns.zone.NoNS:
            self.add(
                Severity.ERROR,
                None,
                "the zone has no NS record at its origin",
                "add: @ IN NS ns.monentreprise.local.",
                "zone.no-ns",
            )
        except dns.exception.DNSException as exc:
            place = re.match(r"<input>:(\d+):", str(exc))
            self.add(
                Severity.ERROR,
                int(place[1]) if place else None,
                f"named cannot load the zone: {_without_place(str(exc))}",
                "correct the record",
                "zone.syntax",
            )

    def check_record(self, record: Record) -> None:
        self.check_dots(record)
        if record.rdtype == "TXT":
            self.check_txt(record)

    def check_dots(self, record: Record) -> None:
        names = [record.name]
        if record.rdtype in NAME_TYPES:
            names += [w for w in record.rdata.split() if w.endswith(".")]
        for name in names:
            if is_missing_dot(name, self.zone.origin):
                self.add(
                    Severity.WARNING,
                    record.line,
                    f"{name} looks like a full "
                    f"name written without its final dot, so "
                    f"{self.zone.origin} was appended",
                    "end full names with a dot: "
                    f"{_cut_origin(name, self.zone.origin)}.",
                    "zone.missing-dot",
                )

    def check_txt(self, record: Record) -> None:
        body = record.text.split("TXT", 1)[-1] if "TXT" in record.text else record.text
        outside = (
            re.sub(r'"(?:[^"\\]|\\.)*"', " ", body).replace("(", " ").replace(")", " ")
        )
        if outside.strip():
            self.add(
                Severity.WARNING,
                record.line,
                "TXT text outside quotes: "
                "spaces split it and a ';' starts a comment, so the rest of "
                "the value is lost",
                'quote the whole value: TXT "v=..."',
                "zone.txt-unquoted",
            )
        value = record.txt or ""
        if value.startswith("v=DKIM1") or "._domainkey." in record.name:
            problem = dkim_key_problem(value)
            if problem:
                self.add(
                    Severity.ERROR,
                    record.line,
                    f"DKIM record {record.name}: {problem}",
                    "paste the whole p= value from "
                    "opendkim-genkey's mail.txt, strings joined without spaces",
                    "zone.dkim-key",
                )

    def check_spf(self) -> None:
        by_name: dict[str, list[Record]] = {}
        for record in self.zone.records:
            if (record.txt or "").lower().startswith("v=spf1"):
                by_name.setdefault(record.name, []).append(record)
        for name, records in by_name.items():
            if len(records) > 1:
                lines = ", ".join(str(r.line) for r in records)
                self.add(
                    Severity.ERROR,
                    records[1].line,
                    f"{name} has {len(records)} "
                    f"SPF records (lines {lines}): receivers then fail SPF "
                    "with permerror",
                    "merge them into one v=spf1 record",
                    "zone.spf-multiple",
                )

    def check_serial(self, old_text: str | bytes) -> None:
        old = parse_zone(old_text, origin=self.zone.origin)
        new_serial, old_serial = self.zone.serial, old.serial
        if new_serial is None or old_serial is None:
            return
        changed = _record_set(old) != _record_set(self.zone)
        if changed and not is_serial_newer(new_serial, old_serial):
            soa = next(r for r in self.zone.records if r.rdtype == "SOA")
            self.add(
                Severity.ERROR,
                soa.line,
                f"the records changed but the SOA "
                f"serial is still {new_serial} (was {old_serial}): secondaries "
                f"and caches keep the old zone",
                f"raise the serial, for example to {next_serial(old_serial)}",
                "zone.serial-not-bumped",
            )


def _record_set(zone: Zone) -> set[tuple[str, int, str, str]]:
    """The records other than the SOA."""
    return {
        (r.name, r.ttl, r.rdtype, r.rdata) for r in zone.records if r.rdtype != "SOA"
    }


def _cut_origin(name: str, origin: str) -> str:
    return name[: -len(origin) - 1] if name.endswith("." + origin) else name.rstrip(".")


def is_missing_dot(name: str, origin: str) -> bool:
    """A name such as mail.monentreprise.local.monentreprise.local. (no final dot)."""
    if not name.endswith("." + origin):
        return False
    relative = _cut_origin(name, origin)
    bare_origin = origin.rstrip(".")
    if relative == bare_origin or relative.endswith("." + bare_origin):
        return True
    last = relative.rsplit(".", 1)[-1].lower()
    return "." in relative and last in COMMON_TLDS


def dkim_key_problem(value: str) -> str | None:
    """Why a DKIM TXT value cannot give a public key (None when it can)."""
    tags = dict(
        (k.strip(), v.strip())
        for k, _, v in (t.partition("=") for t in value.split(";"))
        if k.strip()
    )
    key = tags.get("p")
    if key is None:
        return "there is no p= tag (the public key)"
    if key == "":
        return "p= is empty: the key is revoked"
    if re.search(r"\s", key):
        return "p= holds spaces: the strings were joined with a space inside the key"
    if "..." in key or "…" in key:
        return "p= ends with '...': it is the chapter's placeholder, not a key"
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        return "p= is not valid base64 (a piece of the key is missing or extra)"
    if not is_whole_der(raw):
        return (
            f"p= decodes to {len(raw)} bytes that are not a whole public key: "
            "a piece of the key is missing"
        )
    return None


def is_whole_der(raw: bytes) -> bool:
    """A DER SEQUENCE whose length covers exactly these bytes (a whole key)."""
    if len(raw) < 2 or raw[0] != 0x30:
        return False
    if raw[1] < 0x80:
        return len(raw) == 2 + raw[1]
    count = raw[1] & 0x7F
    if count == 0 or count > 4 or len(raw) < 2 + count:
        return False
    return len(raw) == 2 + count + int.from_bytes(raw[2 : 2 + count], "big")


def is_serial_newer(new: int, old: int) -> bool:
    """RFC 1982 serial arithmetic on 32 bits."""
    return new != old and ((new - old) % 2**32) < 2**31


def next_serial(old: int, *, today: str | None = None) -> int:
    """The next serial: YYYYMMDDnn when the old one has that form, else old + 1."""
    if today and re.fullmatch(r"\d{8}", today):
        candidate = int(today + "00")
        if candidate > old:
            return candidate
    return (old + 1) % 2**32


# --- editing ------------------------------------------------------------


def add_record(text: str, record: str) -> str:
    """Zone text with one more record line at the end."""
    ending = "\r\n" if "\r\n" in text else "\n"
    sep = "" if not text or text.endswith(("\n", "\r")) else ending
    return f"{text}{sep}{record}{ending}"


def remove_records(text: str, name: str, rdtype: str, *, origin: str) -> str:
    """Zone text without the entries of `name` and `rdtype` (all their lines)."""
    zone = parse_zone(text, origin=origin)
    absolute = _absolute(name, zone.origin)
    drop: set[int] = set()
    for record in zone.records:
        if record.name == absolute and record.rdtype == rdtype.upper():
            span = record.text.count("\n") + 1
            drop.update(range(record.line, record.line + span))
    lines = text.splitlines(keepends=True)
    return "".join(line for n, line in enumerate(lines, 1) if n not in drop)


def set_serial(text: str, serial: int, *, origin: str) -> str:
    """Zone text with a new SOA serial, the rest of the file unchanged."""
    zone = parse_zone(text, origin=origin)
    soa = next((r for r in zone.records if r.rdtype == "SOA"), None)
    if soa is None or zone.serial is None:
        return text
    lines = text.splitlines(keepends=True)
    head = "".join(lines[: soa.line - 1])
    body = "".join(lines[soa.line - 1 :])
    pattern = re.compile(
        r"(\bSOA\s+\S+\s+\S+\s*(?:\(\s*|;[^\n]*\n\s*)*)" + str(zone.serial) + r"\b",
        re.I,
    )
    return head + pattern.sub(rf"\g<1>{serial}", body, count=1)


def txt_record(name: str, value: str, *, ttl: int | None = None) -> str:
    """A TXT record line, split in strings of 255 bytes inside parentheses."""
    data = value.encode()
    chunks = [data[i : i + MAX_TXT_STRING] for i in range(0, len(data), MAX_TXT_STRING)]
    quoted = [
        '"'
        + c.decode("utf-8", "replace").replace("\\", "\\\\").replace('"', '\\"')
        + '"'
        for c in chunks or [b""]
    ]
    ttl_text = f" {ttl}" if ttl is not None else ""
    if len(quoted) == 1:
        return f"{name}{ttl_text} IN TXT {quoted[0]}"
    inner = "\n    ".join(quoted)
    return f"{name}{ttl_text} IN TXT ( {inner} )"
