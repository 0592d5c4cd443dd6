"""The chapter's monitoring section, made right: the mail server's health in one report.

The chapter's script checks services, the three DNS records, the queue and
the disk.  This report does the same from outside the box, checks the
records for validity and not only presence, and adds the certificate's
expiry and a real mail round trip.  States follow the Nagios convention:
OK 0, WARNING 1, CRITICAL 2, UNKNOWN 3; the report's exit code is its worst.
"""

from __future__ import annotations

import json
import re
import smtplib
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import IntEnum

from maillab.config.findings import Severity
from maillab.dns import check_dkim_key, check_dmarc, check_spf, lab_resolver
from maillab.errors import MaillabError
from maillab.probes.tls import probe_certificate
from maillab.remote.host import Host
from maillab.remote.service import service_states

DOMAIN = "monentreprise.local"
SERVICES = ("postfix", "dovecot", "opendkim", "spamd", "named", "apache2")
QUEUE_WARNING = 100  # the chapter's threshold
DISK_WARNING, DISK_CRITICAL = 80, 95
CERT_WARNING, CERT_CRITICAL = 30, 7  # days left


class State(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


@dataclass(frozen=True)
class Item:
    """One line of the report."""

    name: str
    state: State
    detail: str


@dataclass(frozen=True)
class Report:
    host: str
    address: str
    items: tuple[Item, ...]

    @property
    def state(self) -> State:
        return max((i.state for i in self.items), default=State.UNKNOWN)

    def to_json(self) -> str:
        data = asdict(self)
        data["state"] = self.state.name
        for item in data["items"]:
            item["state"] = State(item["state"]).name
        return json.dumps(data, indent=2, ensure_ascii=False)


def monitor(
    host: Host, *, address: str, round_trip: bool = True, round_trip_timeout: float = 30
) -> Report:
    """Every check; a check that cannot run is UNKNOWN, never a crash."""
    checks: list[tuple[str, Callable[[], Item]]] = [
        ("services", lambda: _services(host)),
        ("spf", lambda: _spf(address)),
        ("dkim", lambda: _dkim(address)),
        ("dmarc", lambda: _dmarc(address)),
        ("queue", lambda: _queue(host)),
        ("disk", lambda: _disk(host)),
        ("certificate", lambda: _certificate(address)),
    ]
    if round_trip:
        checks.append(
            ("round-trip", lambda: _round_trip(host, address, round_trip_timeout))
        )
    return Report(host.name, address, tuple(_safely(n, c) for n, c in checks))


def _safely(name: str, check: Callable[[], Item]) -> Item:
    try:
        return check()
    except (MaillabError, OSError, smtplib.SMTPException) as exc:
        return Item(name, State.UNKNOWN, f"could not check: {exc}")


def _services(host: Host) -> Item:
    states = service_states(host, SERVICES)
    down = [f"{name} ({state})" for name, state in states.items() if state != "active"]
    if down:
        return Item("services", State.CRITICAL, "not active: " + ", ".join(down))
    return Item("services", State.OK, "all active: " + ", ".join(SERVICES))


def _worst(findings: list) -> State:
    if any(f.severity == Severity.ERROR for f in findings):
        return State.CRITICAL
    if any(f.severity == Severity.WARNING for f in findings):
        return State.WARNING
    return State.OK


def _spf(address: str) -> Item:
    result = check_spf(DOMAIN, resolver=lab_resolver(address))
    if result.verdict == "none":
        return Item("spf", State.CRITICAL, f"no SPF record for {DOMAIN}")
    state = _worst(result.findings)
    detail = "; ".join(f.message for f in result.findings) or (
        f"valid, {result.lookups} DNS lookup(s) of 10"
    )
    return Item("spf", state, detail)


def _dkim(address: str) -> Item:
    check = check_dkim_key("mail", DOMAIN, resolver=lab_resolver(address))
    if check.text is None:
        return Item("dkim", State.CRITICAL, f"no key record at {check.name}")
    detail = "; ".join(f.message for f in check.findings) or (
        f"{check.key_type} key of {check.key_bits} bits at {check.name}"
    )
    return Item("dkim", _worst(check.findings), detail)


def _dmarc(address: str) -> Item:
    check = check_dmarc(DOMAIN, resolver=lab_resolver(address))
    if check.record is None:
        return Item("dmarc", State.CRITICAL, f"no DMARC record for {DOMAIN}")
    detail = "; ".join(f.message for f in check.findings) or f"p={check.policy}"
    return Item("dmarc", _worst(check.findings), detail)


def _queue(host: Host) -> Item:
    # postqueue -j writes one JSON object per queued message.
    count = len(host.check_output(["postqueue", "-j"], sudo=True).splitlines())
    state = State.WARNING if count > QUEUE_WARNING else State.OK
    return Item("queue", state, f"{count} message(s) in the queue")


def _disk(host: Host) -> Item:
    line = host.check_output(["df", "--output=pcent", "/var"]).splitlines()[-1]
    used = int(line.strip().rstrip("%"))
    state = (
        State.CRITICAL
        if used > DISK_CRITICAL
        else State.WARNING
        if used > DISK_WARNING
        else State.OK
    )
    return Item("disk", state, f"/var {used}% used")


def _certificate(address: str) -> Item:
    result = probe_certificate(address=address, port=993, min_days=CERT_CRITICAL)
    if result.status == "error":
        return Item("certificate", State.UNKNOWN, result.summary)
    match = re.search(r"(-?\d+) days left", result.summary)
    days = int(match.group(1)) if match else None
    if days is None or result.status == "fail":
        return Item("certificate", State.CRITICAL, result.summary)
    state = State.WARNING if days < CERT_WARNING else State.OK
    return Item("certificate", state, result.summary)


def _round_trip(host: Host, address: str, timeout: float) -> Item:
    """Mail from outside to postmaster, found in a mailbox, then removed."""
    subject = f"maillab-monitor-{uuid.uuid4()}"
    start = time.monotonic()
    with smtplib.SMTP(
        address, 25, local_hostname="monitor.exterieur.test", timeout=20
    ) as smtp:
        smtp.sendmail(
            "monitor@exterieur.test",
            [f"jean@{DOMAIN}"],
            f"From: monitor@exterieur.test\r\nTo: jean@{DOMAIN}\r\n"
            f"Subject: {subject}\r\n\r\nround trip\r\n",
        )
    # Messages only: Dovecot's index files may hold the subject too.
    maildir = "/home/jean/Maildir"
    find = (
        f"grep -l -r -F -- {subject} {maildir}/new {maildir}/cur 2>/dev/null | head -1"
    )
    while time.monotonic() - start < timeout:
        found = host.run(find, sudo=True).stdout.strip()
        if found:
            host.run(["rm", "-f", "--", found], sudo=True)
            took = time.monotonic() - start
            return Item(
                "round-trip", State.OK, f"port 25 to jean's Maildir in {took:.1f} s"
            )
        time.sleep(0.5)
    return Item(
        "round-trip",
        State.CRITICAL,
        f"a message sent to jean@{DOMAIN} on port 25 did not reach the "
        f"Maildir within {timeout:g} s; see /var/log/mail.log",
    )
