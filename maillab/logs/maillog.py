"""mail.log to a pandas DataFrame: one row per line, the fields Postfix and spamd log.

Reads both rsyslog forms: Debian 12's RFC 3339 timestamps
(`2026-12-04T07:57:40.059241+00:00 mail postfix/qmgr[4100]: ...`) and the
classic `Dec  4 07:57:40 mail ...`, which has no year (give it).  A line
that matches neither is kept with its raw text and `parsed=False`.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import pandas as pd

from maillab.remote.host import Host

log = logging.getLogger(__name__)

COLUMNS = [
    "timestamp", "host", "program", "pid", "queue_id", "message",
    "from", "to", "orig_to", "relay", "delay", "delays", "dsn", "status",
    "size", "nrcpt", "client", "message_id", "sasl_username", "uid",
    "reject_stage", "reject_code", "reject_reason",
    "spam", "score", "threshold", "spamd_mid", "parsed", "raw",
]  # fmt: skip

_RFC3339 = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:\d\d|Z)) "
    r"(?P<host>\S+) (?P<rest>.*)"
)
_CLASSIC = re.compile(
    r"(?P<ts>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) (?P<rest>.*)"
)
_TAG = re.compile(r"(?P<program>[^\s\[:]+)(?:\[(?P<pid>\d+)\])?: (?P<message>.*)")
_QUEUE_ID = re.compile(r"(?P<qid>[0-9A-F]{6,}|[0-9B-Zb-z]{10,}|NOQUEUE): (?P<text>.*)")
# key=value pairs, Postfix style: <addr> in brackets, or up to the next ", ".
_PAIR = re.compile(
    r"(?:^|, |\s)(?P<key>from|to|orig_to|relay|delay|delays|dsn|status|size|nrcpt|"
    r"client|message-id|sasl_username|uid)=(?P<value><[^>]*>|[^,\s]+)"
)
_REJECT = re.compile(
    r"reject: (?P<stage>\S+) from \S+: (?P<code>\d{3})(?: (?P<dsn>\d\.\d+\.\d+))? "
    r"(?P<reason>.*?);(?: from=<(?P<from>[^>]*)>)?(?: to=<(?P<to>[^>]*)>)?"
)
_SPAMD_VERDICT = re.compile(
    r"spamd: (?P<verdict>clean message|identified spam) "
    r"\((?P<score>-?[\d.]+)/(?P<threshold>-?[\d.]+)\)"
)
_SPAMD_MID = re.compile(
    r"spamd: (?:processing message |result: .*?,mid=)(?P<mid><[^>]*>)"
)
_NUMERIC = ("delay", "size", "nrcpt", "score", "threshold")


def read_mail_log(host: Host, path: str = "/var/log/mail.log") -> str:
    """The text of the mail log on a lab host (read as root)."""
    return host.read(path, sudo=True)


def parse_mail_log(text: str | bytes, *, year: int | None = None) -> pd.DataFrame:
    """One row per line of a mail log (see COLUMNS); never raises on a bad line.

    `year` dates the classic syslog form (the current year by default).
    Bytes that are not UTF-8 are replaced, so one bad line stops nothing.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    year = year or datetime.now().year
    rows = [parse_line(line, year=year) for line in text.splitlines() if line]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True, format="mixed")
    for column in _NUMERIC:
        frame[column] = pd.to_numeric(frame[column], errors="coerce")
    frame["pid"] = pd.to_numeric(frame["pid"], errors="coerce").astype("Int64")
    return frame


def parse_line(line: str, *, year: int) -> dict[str, object]:
    """The fields of one log line; `parsed` is False when it has no syslog shape."""
    row: dict[str, object] = {"raw": line, "parsed": False}
    head = _RFC3339.fullmatch(line) or _CLASSIC.fullmatch(line)
    if head is None:
        return row
    tag = _TAG.fullmatch(head["rest"])
    if tag is None:
        return row
    row.update(
        timestamp=_timestamp(head["ts"], year),
        host=head["host"],
        program=tag["program"],
        pid=tag["pid"],
        message=tag["message"],
        parsed=True,
    )
    if row["timestamp"] is None:
        row["parsed"] = False
    elif tag["program"].startswith("postfix"):
        row.update(_postfix_fields(tag["message"]))
    elif tag["program"] == "spamd":
        row.update(_spamd_fields(tag["message"]))
    return row


def _timestamp(text: str, year: int) -> datetime | None:
    """An aware datetime (the classic form is taken as UTC), None if invalid."""
    try:
        if text[0].isdigit():
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        # Shortcoming: classic syslog has no zone; it is read as UTC.
        stamp = datetime.strptime(f"{year} {text}", "%Y %b %d %H:%M:%S")
        return stamp.replace(tzinfo=UTC)
    except ValueError:
        return None


def _postfix_fields(message: str) -> dict[str, object]:
    fields: dict[str, object] = {}
    queued = _QUEUE_ID.match(message)
    if queued is None:
        return fields
    fields["queue_id"] = queued["qid"]
    text = queued["text"]
    for pair in _PAIR.finditer(text):
        key = pair["key"].replace("-", "_")
        fields.setdefault(key, pair["value"].strip("<>"))
    reject = _REJECT.match(text)
    if reject:
        fields.update(
            reject_stage=reject["stage"],
            reject_code=reject["code"],
            reject_reason=reject["reason"],
            dsn=reject["dsn"],
            status="reject",
            **{"from": reject["from"], "to": reject["to"]},
        )
    return fields


def _spamd_fields(message: str) -> dict[str, object]:
    fields: dict[str, object] = {}
    verdict = _SPAMD_VERDICT.match(message)
    if verdict:
        fields.update(
            spam=verdict["verdict"] == "identified spam",
            score=verdict["score"],
            threshold=verdict["threshold"],
        )
    mid = _SPAMD_MID.match(message)
    if mid:
        fields["spamd_mid"] = mid["mid"].strip("<>")
    return fields
