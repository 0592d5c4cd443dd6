"""How a command reaches a host: the interface every backend implements."""

from __future__ import annotations

from typing import Protocol

from maillab.remote.result import CommandResult


class Backend(Protocol):
    """Runs one shell command line on a host."""

    name: str

    def execute(
        self, command: str, *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        """Run `command` through the host's shell; raise on timeout only."""
        ...

    def close(self) -> None:
        """Release the connection, if any."""
        ...
