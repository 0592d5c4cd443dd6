"""The outside mail host's place on the lab network: its own namespace, on the bridge.

    maillab0 (bridge) ── veth mlv-peer ── eth0 198.51.100.25/24   (netns maillab-peer)

198.51.100.0/24 (TEST-NET-2) stands for the Internet: it is outside every
box's mynetworks.  The peer and the boxes share the bridge, and each side
has an on-link route to the other's network, so nothing is forwarded by
this machine and the boxes still have no default route.
"""

from __future__ import annotations

from pathlib import Path

from maillab.box import layout, network
from maillab.box.tools import require_root, run

NETNS = "maillab-peer"
VETH = "mlv-peer"
ADDRESS = "198.51.100.25"
NETWORK = "198.51.100.0/24"
DOMAIN = "exterieur.test"


def ensure_network() -> None:
    """The peer's namespace and address, and a route to it from every box."""
    require_root()
    network.ensure_bridge()
    if not Path("/run/netns", NETNS).exists():
        run(["ip", "netns", "add", NETNS])
    if not Path(f"/sys/class/net/{VETH}").exists():
        peer = [
            "peer",
            "name",
            "eth0",
            "address",
            network.box_mac(ADDRESS),
            "netns",
            NETNS,
        ]
        run(["ip", "link", "add", VETH, "type", "veth", *peer])
        run(["ip", "link", "set", VETH, "master", layout.BRIDGE, "up"])
        run(["ip", "-n", NETNS, "addr", "add", f"{ADDRESS}/24", "dev", "eth0"])
        run(["ip", "-n", NETNS, "link", "set", "lo", "up"])
        run(["ip", "-n", NETNS, "link", "set", "eth0", "up"])
    lab_net = f"{layout.NETWORK_PREFIX}0/{layout.PREFIX_LENGTH}"
    run(["ip", "-n", NETNS, "route", "replace", lab_net, "dev", "eth0"])
    for netns in Path("/run/netns").iterdir():
        if netns.name.startswith("maillab-") and netns.name != NETNS:
            network.add_peer_route(netns.name)


def remove_network() -> None:
    if Path(f"/sys/class/net/{VETH}").exists():
        run(["ip", "link", "del", VETH])
    if Path("/run/netns", NETNS).exists():
        run(["ip", "netns", "del", NETNS])
