"""How maillab reaches a lab machine: `Host`, and its SSH and local backends."""

from maillab.remote.host import Host
from maillab.remote.listeners import Listener
from maillab.remote.result import CommandResult, WriteResult
from maillab.remote.service import Service

__all__ = ["CommandResult", "Host", "Listener", "Service", "WriteResult"]
