"""The outside mail host: "the Internet" of the lab, 198.51.100.25 (exterieur.test)."""

from maillab.peer.judge import Report, judge
from maillab.peer.peer import Peer, Received

__all__ = ["Peer", "Received", "Report", "judge"]
