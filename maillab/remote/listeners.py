"""Listening sockets, parsed from `ss -Hlntp` output (iproute2)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PROCESS = re.compile(r'\("([^"]*)",pid=(\d+)')


@dataclass(frozen=True)
class Listener:
    """One listening socket and the processes that hold it."""

    protocol: str
    address: str
    port: int
    processes: tuple[str, ...] = ()
    pids: tuple[int, ...] = ()

    @property
    def process(self) -> str:
        return self.processes[0] if self.processes else ""

    @property
    def is_loopback(self) -> bool:
        return self.address.startswith("127.") or self.address == "::1"

    @property
    def is_wildcard(self) -> bool:
        return self.address in ("0.0.0.0", "::", "*")


def parse_ss(text: str, *, netid: str = "tcp") -> list[Listener]:
    """Parse `ss -Hlntp` (no Netid column) or `ss -Hlntup` (with one) output.

    `netid` is the protocol of lines that carry no Netid column.
    """
    listeners = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        if fields[0] in ("tcp", "udp", "raw", "u_str", "u_dgr", "u_seq"):
            protocol, fields = fields[0], fields[1:]
        else:
            protocol = netid
        address, port = _split_address(fields[3])
        process = " ".join(fields[5:])
        names = tuple(dict.fromkeys(m[0] for m in _PROCESS.findall(process)))
        pids = tuple(int(m[1]) for m in _PROCESS.findall(process))
        listeners.append(Listener(protocol, address, port, names, pids))
    return listeners


def _split_address(text: str) -> tuple[str, int]:
    address, _, port = text.rpartition(":")
    address = address.strip("[]")
    address = address.split("%", 1)[0]  # 127.0.0.53%lo, fe80::1%eth0
    return address, int(port) if port.isdigit() else 0
