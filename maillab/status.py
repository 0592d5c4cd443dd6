"""The status of a lab machine: its name, address, services and listening ports."""

from __future__ import annotations

from dataclasses import dataclass, field

from maillab.remote.host import Host
from maillab.remote.listeners import Listener
from maillab.remote.service import failed_units, service_states

# The units the chapter runs, in the order it brings them in.
CHAPTER_SERVICES = (
    "ssh",
    "rsyslog",
    "cron",
    "named",
    "postfix",
    "dovecot",
    "spamd",
    "opendkim",
    "apache2",
)


@dataclass(frozen=True)
class MachineStatus:
    """One look at a lab machine."""

    host: str
    hostname: str
    addresses: tuple[str, ...]
    services: dict[str, str]
    failed_units: tuple[str, ...]
    listeners: tuple[Listener, ...] = field(default=())

    @property
    def all_active(self) -> bool:
        return all(state == "active" for state in self.services.values())


def machine_status(host: Host) -> MachineStatus:
    """Ask the machine for its status (four commands)."""
    hostname = host.check_output(["hostname", "-f"]).strip()
    addresses = host.check_output(["hostname", "-I"]).split()
    return MachineStatus(
        host=host.name,
        hostname=hostname,
        addresses=tuple(addresses),
        services=service_states(host, CHAPTER_SERVICES),
        failed_units=tuple(failed_units(host)),
        listeners=tuple(sorted(host.listening(), key=lambda s: (s.port, s.address))),
    )
