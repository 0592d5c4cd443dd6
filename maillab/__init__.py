"""maillab: a hands-on lab for the "7.3 Serveur mail" chapter.

import maillab
lab = maillab.connect()
lab.run("postconf -n", sudo=True)
"""

from maillab.connection import connect
from maillab.errors import MaillabError
from maillab.remote import CommandResult, Host, Listener, Service, WriteResult

__version__ = "0.1.0"

__all__ = [
    "CommandResult",
    "Host",
    "Listener",
    "MaillabError",
    "Service",
    "WriteResult",
    "connect",
]
