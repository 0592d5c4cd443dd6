"""The local backend: commands run on this machine, for use inside the VM or box."""

from __future__ import annotations

import logging
import os
import subprocess
import time

from maillab.errors import CommandTimeout
from maillab.remote.result import CommandResult
from maillab.remote.shell import ProcessChannel

log = logging.getLogger(__name__)


class LocalBackend:
    """Runs commands with /bin/sh on the machine maillab itself runs on."""

    name = "localhost"

    def __init__(self) -> None:
        # As root, sudo is not needed (and may not even be installed).
        self.runs_as_root = os.geteuid() == 0

    def execute(
        self, command: str, *, input: bytes | None = None, timeout: float
    ) -> CommandResult:
        log.debug("local: %s", command)
        start = time.monotonic()
        try:
            proc = subprocess.run(
                ["/bin/sh", "-c", command],
                input=input if input is not None else b"",
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise CommandTimeout(self.name, command, timeout) from None
        return CommandResult(
            command,
            proc.returncode,
            proc.stdout.decode(errors="replace"),
            proc.stderr.decode(errors="replace"),
            time.monotonic() - start,
        )

    def open_shell(self, command: str, timeout: float) -> ProcessChannel:
        """A local shell running `command`, left open for `ShellPool`."""
        return ProcessChannel(command)

    def close(self) -> None:
        pass
