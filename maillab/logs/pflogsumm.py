"""pflogsumm's "Grand Totals", read from its report, to compare with `summary`."""

from __future__ import annotations

import re

from maillab.logs.summary import Summary
from maillab.remote.host import Host

# pflogsumm's label -> the Summary field that counts the same thing.
TOTALS = {
    "received": "received",
    "delivered": "delivered",
    "forwarded": "forwarded",
    "deferred": "deferred",
    "bounced": "bounced",
    "rejected": "rejected",
    "bytes received": "bytes_received",
    "bytes delivered": "bytes_delivered",
    "senders": "senders",
    "recipients": "recipients",
}
_LINE = re.compile(r"^\s*(\d+)([km]?)\s+([a-z ]+?)(?:\s+\(.*\))?\s*$")
_UNITS = {"": 1, "k": 1024, "m": 1024 * 1024}


def run_pflogsumm(host: Host, path: str = "/var/log/mail.log") -> str:
    """pflogsumm's report on a log file of the lab host."""
    return host.check_output(["pflogsumm", path], sudo=True)


def parse_pflogsumm_totals(report: str) -> dict[str, int]:
    """The Grand Totals of a pflogsumm report, keyed like `Summary`'s fields.

    Large figures are printed with k/m suffixes (1024-based) and lose
    precision; compare those with a tolerance.
    """
    totals: dict[str, int] = {}
    for line in report.split("Per-Hour Traffic Summary")[0].splitlines():
        match = _LINE.match(line)
        if match and match[3] in TOTALS:
            totals[TOTALS[match[3]]] = int(match[1]) * _UNITS[match[2]]
    return totals


def summary_totals(result: Summary) -> dict[str, int]:
    """The same figures from our `Summary`."""
    return {field: int(getattr(result, field)) for field in TOTALS.values()}
