"""DNS queries for the record checks: a resolver on the lab's BIND, and lookups.

Every function that queries DNS takes a dnspython `Resolver` as a keyword
argument, so that tests can pass one of their own.  A name that does not
exist, or has no record of the type, is an empty answer; a server that does
not answer (timeout, SERVFAIL, refused) raises `DnsQueryError`.
"""

from __future__ import annotations

import ipaddress
import logging

import dns.exception
import dns.name
import dns.resolver
import dns.reversename

from maillab.config.findings import ConfigSyntaxError
from maillab.errors import MaillabError
from maillab.remote.host import Host

log = logging.getLogger(__name__)

DNS_PORT = 53


class DnsQueryError(MaillabError):
    """A DNS server did not answer (timeout, SERVFAIL or refused)."""

    def __init__(self, name: str, rdtype: str, reason: str) -> None:
        super().__init__(
            f"{rdtype} query for {name} failed: {reason}; "
            "check that BIND runs on the lab (systemctl status named)"
        )
        self.name = name
        self.rdtype = rdtype


class RecordSyntaxError(ConfigSyntaxError):
    """A DNS record (SPF, DKIM or DMARC) that cannot be read at all."""

    def __init__(self, name: str, message: str, fix: str) -> None:
        super().__init__(name, None, message, fix)


def lab_resolver(
    host_or_address: Host | str, *, port: int = DNS_PORT, lifetime: float = 3.0
) -> dns.resolver.Resolver:
    """A resolver that asks the lab's BIND only (never this machine's DNS).

    Give a `Host` (its address is looked up on the box) or an IP address.
    """
    address = (
        host_or_address
        if isinstance(host_or_address, str)
        else _host_address(host_or_address)
    )
    ipaddress.ip_address(address)  # a name here would need another resolver
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [address]
    resolver.port = port
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    return resolver


def _host_address(host: Host) -> str:
    """The box's own address: the first global IPv4 address it has."""
    output = host.check_output(["hostname", "-I"])
    for word in output.split():
        if ipaddress.ip_address(word).version == 4:
            return word
    raise MaillabError(f"{host.name}: no IPv4 address in `hostname -I`: {output!r}")


def lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[object]:
    """The records of one type at a name; [] when there are none."""
    log.debug("DNS %s %s", rdtype, name)
    try:
        answer = resolver.resolve(name, rdtype, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except dns.name.NameTooLong:
        return []
    except (dns.resolver.NoNameservers, dns.exception.Timeout) as exc:
        raise DnsQueryError(name, rdtype, type(exc).__name__) from exc
    except dns.exception.DNSException as exc:
        raise DnsQueryError(name, rdtype, str(exc)) from exc
    return list(answer)


def txt_records(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """The TXT records at a name, each one's strings joined without spaces.

    opendkim-genkey splits a long record over several quoted strings: RFC
    7208 (3.3) and RFC 6376 (3.6.2.2) join them with nothing in between.
    """
    texts = []
    for rdata in lookup(resolver, name, "TXT"):
        strings = getattr(rdata, "strings", ())
        texts.append(b"".join(strings).decode("utf-8", "replace"))
    return texts


def addresses(resolver: dns.resolver.Resolver, name: str, version: int) -> list[str]:
    """The A (version 4) or AAAA (version 6) addresses of a name."""
    rdtype = "A" if version == 4 else "AAAA"
    return [str(getattr(r, "address", r)) for r in lookup(resolver, name, rdtype)]


def mail_exchangers(resolver: dns.resolver.Resolver, name: str) -> list[str]:
    """The MX host names of a domain, most preferred first."""
    records = sorted(lookup(resolver, name, "MX"), key=_preference)
    return [str(getattr(r, "exchange", "")).rstrip(".") for r in records]


def _preference(record: object) -> int:
    return int(getattr(record, "preference", 0))


def pointer_names(resolver: dns.resolver.Resolver, ip: str) -> list[str]:
    """The PTR names of an address."""
    name = dns.reversename.from_address(ip).to_text()
    return [
        str(getattr(r, "target", r)).rstrip(".") for r in lookup(resolver, name, "PTR")
    ]
