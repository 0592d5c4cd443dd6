"""DNS fixtures: an in-memory zone for unit tests, a provisioned box for lab tests.

`FakeResolver` answers from a dict of records, as BIND would from a zone
file: it is a DNS fixture, not a stand-in for a mail daemon.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import pytest

TIMEOUT = "TIMEOUT"  # a record value that makes the server time out

Records = Mapping[tuple[str, str], Sequence[str | Sequence[str]]]


class FakeResolver(dns.resolver.Resolver):
    """Answers from {(name, type): [value, ...]}; TXT values are strings or lists."""

    def __init__(self, records: Records) -> None:
        super().__init__(configure=False)
        self.records = {
            (n.lower().rstrip("."), t.upper()): v for (n, t), v in records.items()
        }
        self.queries: list[tuple[str, str]] = []

    def resolve(self, qname, rdtype="A", *args, **kwargs):  # type: ignore[override]
        name = str(qname).lower().rstrip(".")
        rdtype = str(rdtype).upper()
        self.queries.append((name, rdtype))
        values = self.records.get((name, rdtype))
        if values is None:
            if any(n == name for n, _ in self.records):
                raise dns.resolver.NoAnswer()
            raise dns.resolver.NXDOMAIN()
        if TIMEOUT in values:
            raise dns.exception.Timeout()
        return [_rdata(rdtype, v) for v in values]


def _rdata(rdtype: str, value: str | Sequence[str]) -> dns.rdata.Rdata:
    if rdtype == "TXT":
        strings = [value] if isinstance(value, str) else list(value)
        # One TXT string holds at most 255 bytes: split longer ones, as BIND would need.
        strings = [
            s[i : i + 255] for s in strings for i in range(0, max(len(s), 1), 255)
        ]
        value = " ".join(
            '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in strings
        )
    return dns.rdata.from_text(
        dns.rdataclass.IN, dns.rdatatype.from_text(rdtype), value
    )


@pytest.fixture
def fake_dns():
    return FakeResolver


# The lab box -----------------------------------------------------------------


@pytest.fixture(scope="session")
def provisioned(provision_box):
    """A fresh box (d-<pid>) with the whole chapter applied; destroyed at the end."""
    with provision_box("d") as lab:
        yield lab
