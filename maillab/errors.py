"""The errors of maillab: one root, and a subclass for each thing that can go wrong.

Every message says what happened and what to do about it.  A misconfigured
lab is never an error: it is a finding in a report.  These are for broken
tools, unreachable hosts and timeouts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from maillab.remote.result import CommandResult


class MaillabError(Exception):
    """Something maillab could not do."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__ or type(self).__name__)

    @property
    def message(self) -> str:
        return str(self.args[0])


class HostError(MaillabError):
    """A lab machine could not be reached or driven."""

    def __init__(self, host: str, message: str) -> None:
        super().__init__(f"{host}: {message}")
        self.host = host


class HostUnreachable(HostError):
    """The host does not answer on its SSH port."""


class AuthenticationRefused(HostError):
    """The host refused the SSH key or user."""


class HostKeyChanged(HostError):
    """The host's key is not the one pinned for it."""


class UnknownHost(MaillabError):
    """No such host in the SSH configuration."""


class CommandTimeout(HostError):
    """A command on the host ran past its timeout."""

    def __init__(self, host: str, command: str, timeout: float) -> None:
        super().__init__(
            host,
            f"`{command}` did not finish within {timeout:g} s; "
            "pass a longer timeout= if the command is slow, or check the host's load",
        )
        self.command = command
        self.timeout = timeout


class CommandFailed(HostError):
    """A command on the host exited with a non-zero status."""

    def __init__(self, host: str, result: CommandResult) -> None:
        detail = (result.stderr or result.stdout).strip().splitlines()
        tail = f": {detail[-1]}" if detail else ""
        super().__init__(
            host, f"`{result.command}` exited with status {result.exit_status}{tail}"
        )
        self.result = result


class RemoteFileError(HostError):
    """A file on the host could not be read or written."""

    def __init__(self, host: str, path: str, message: str) -> None:
        super().__init__(host, f"{path}: {message}")
        self.path = path


class ValidationFailed(RemoteFileError):
    """A file was written, failed its validation, and was rolled back."""

    def __init__(self, host: str, path: str, result: CommandResult) -> None:
        output = (result.stdout + result.stderr).strip()
        super().__init__(
            host,
            path,
            f"`{result.command}` rejected the new file (status {result.exit_status}); "
            f"the previous version was put back.\n{output}",
        )
        self.result = result


class VagrantError(MaillabError):
    """Vagrant could not give the SSH settings of a VM."""


class BoxError(MaillabError):
    """The embedded lab box could not be built, started or stopped."""


class NotRoot(BoxError):
    """The lab box needs root: run maillab with sudo, or as root."""


class MissingTool(BoxError):
    """A program the lab box needs is not installed."""

    def __init__(self, tool: str, package: str) -> None:
        super().__init__(
            f"{tool} is not installed; install it with `apt-get install {package}`"
        )
        self.tool = tool
        self.package = package


class AddressInUse(BoxError):
    """The box's network address is already taken on this machine."""


class NoSuchBox(BoxError):
    """No lab box of that name exists."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"no lab box named {name!r}; create it with `maillab up --name {name}`"
            if name != "default"
            else "no lab box yet; create it with `maillab up`"
        )
        self.name = name


class BoxNotRunning(BoxError):
    """The lab box exists but is stopped."""

    def __init__(self, name: str) -> None:
        flag = "" if name == "default" else f" --name {name}"
        super().__init__(
            f"lab box {name!r} is stopped; start it with `maillab up{flag}`"
        )
        self.name = name


class BuildFailed(BoxError):
    """The box image could not be built."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(f"{message}; the full log is in {log}")
        self.log = log


class BootFailed(BoxError):
    """The box did not finish booting."""

    def __init__(self, message: str, log: str) -> None:
        super().__init__(f"{message}; the console log is in {log}")
        self.log = log
