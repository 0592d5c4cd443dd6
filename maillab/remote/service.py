"""systemd services on a host: state, start, stop, restart, reload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from maillab.errors import CommandFailed

if TYPE_CHECKING:
    from maillab.remote.host import Host


@dataclass(frozen=True)
class Service:
    """One systemd unit on a host.  Every property asks the host afresh."""

    host: Host
    name: str

    @property
    def state(self) -> str:
        """active, inactive, failed, activating... as `systemctl is-active` says."""
        return self.host.run(["systemctl", "is-active", self.name]).stdout.strip()

    @property
    def is_active(self) -> bool:
        return self.state == "active"

    @property
    def is_failed(self) -> bool:
        return self.state == "failed"

    @property
    def is_enabled(self) -> bool:
        return self.host.run(["systemctl", "is-enabled", self.name]).ok

    def start(self) -> None:
        self._systemctl("start")

    def stop(self) -> None:
        self._systemctl("stop")

    def restart(self) -> None:
        self._systemctl("restart")

    def reload(self) -> None:
        self._systemctl("reload")

    def journal(self, lines: int = 20) -> str:
        """The unit's last journal lines."""
        argv = ["journalctl", "-u", self.name, "-n", str(lines), "--no-pager", "-q"]
        return self.host.run(argv, sudo=True).stdout

    def _systemctl(self, verb: str) -> None:
        result = self.host.run(["systemctl", verb, self.name], sudo=True, timeout=120)
        if result.ok:
            return
        # The journal says why a unit failed; systemctl alone does not.
        detail = self.journal(10).strip()
        raise CommandFailed(
            self.host.name,
            type(result)(
                result.command,
                result.exit_status,
                result.stdout,
                f"{result.stderr.strip()}\n{detail}",
            ),
        )


def service_states(host: Host, names: Sequence[str]) -> dict[str, str]:
    """The state of several units in one round trip."""
    result = host.run(["systemctl", "is-active", *names])
    states = result.stdout.split()
    if len(states) != len(names):
        raise CommandFailed(host.name, result)
    return dict(zip(names, states, strict=True))


def failed_units(host: Host) -> list[str]:
    """The units systemd lists as failed."""
    argv = ["systemctl", "list-units", "--failed", "--plain", "--no-legend"]
    output = host.check_output(argv)
    return [line.split()[0] for line in output.splitlines() if line.strip()]
