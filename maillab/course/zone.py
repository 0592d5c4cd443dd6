"""The SPF, DKIM and DMARC records of 7.3.5, kept in a marked block of the zone file.

The rest of the zone file (the lab's own records, or the student's) is left
as it is; the SOA serial goes up by one whenever the block changes, so that
BIND and its secondaries see a new zone.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from maillab.course.lab import Lab
from maillab.course.step import ManagedFile
from maillab.errors import RemoteFileError
from maillab.remote.host import Host

BEGIN = "; --- maillab 7.3.5: SPF, DKIM, DMARC (begin) ---"
END = "; --- maillab 7.3.5 (end) ---"
_SERIAL = re.compile(r"(\bSOA\s+\S+\s+\S+\s+\(?\s*)(\d+)", re.IGNORECASE)


def path(lab: Lab) -> str:
    return f"/etc/bind/zones/db.{lab.domain}"


def with_records(lab: Lab, dkim_txt: str) -> Callable[[Host], ManagedFile]:
    """The zone file with the 7.3.5 block, computed from the host's files."""

    def compute(host: Host) -> ManagedFile:
        current = host.read(path(lab))
        block = "\n".join(
            [
                BEGIN,
                host.read(dkim_txt).strip(),
                lab.render("7.3.5/zone-records").strip(),
                END,
            ]
        )
        return ManagedFile(path(lab), replace_block(current, block, path(lab)))

    return compute


def replace_block(zone: str, block: str, name: str = "zone") -> str:
    """The zone text with `block` in place of the old one, serial bumped if new."""
    outside, old = _split(zone)
    if old == block:
        return zone
    return bump_serial(outside.rstrip("\n") + "\n\n" + block + "\n", name)


def _split(zone: str) -> tuple[str, str | None]:
    start, end = zone.find(BEGIN), zone.find(END)
    if start < 0 or end < start:
        return zone, None
    end += len(END)
    return zone[:start] + zone[end:].lstrip("\n"), zone[start:end]


def bump_serial(zone: str, name: str = "zone") -> str:
    match = _SERIAL.search(zone)
    if match is None:
        raise RemoteFileError("zone", name, "no SOA serial found; cannot bump it")
    serial = int(match.group(2)) + 1
    return zone[: match.start(2)] + str(serial) + zone[match.end(2) :]
