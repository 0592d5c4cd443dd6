"""The lab network: a bridge on this machine, and one network namespace per box.

    this machine                     box "default"
    maillab0 192.168.56.1/24 --veth-- eth0 192.168.56.10/24  (netns maillab-default)

The namespace has no default route: the box reaches this machine and the
project's own namespaces (the lab network, and the outside mail host's
198.51.100.0/24 on the same bridge), nothing else.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from maillab.box import layout
from maillab.box.tools import run
from maillab.errors import AddressInUse

log = logging.getLogger(__name__)


def interface_addresses() -> dict[str, list[str]]:
    """IPv4 addresses on this machine's interfaces: {interface: [address, ...]}."""
    data = json.loads(run(["ip", "-j", "-4", "addr", "show"]) or "[]")
    return {
        item["ifname"]: [a["local"] for a in item.get("addr_info", [])] for item in data
    }


def ensure_bridge() -> None:
    """Create the lab bridge with the host address, unless it is there already."""
    addresses = interface_addresses()
    for interface, locals_ in addresses.items():
        if layout.HOST_ADDRESS in locals_ and interface != layout.BRIDGE:
            raise AddressInUse(
                f"{layout.HOST_ADDRESS} is already on interface {interface} "
                "(a VirtualBox or libvirt host-only network?); the lab box needs "
                f"it for {layout.BRIDGE}: remove it there (ip addr del "
                f"{layout.HOST_ADDRESS}/{layout.PREFIX_LENGTH} dev {interface})"
            )
    if layout.BRIDGE not in addresses:
        run(["ip", "link", "add", layout.BRIDGE, "type", "bridge"])
    if layout.HOST_ADDRESS not in addresses.get(layout.BRIDGE, []):
        cidr = f"{layout.HOST_ADDRESS}/{layout.PREFIX_LENGTH}"
        run(["ip", "addr", "add", cidr, "dev", layout.BRIDGE])
    run(["ip", "link", "set", layout.BRIDGE, "up"])


def remove_bridge() -> None:
    if Path(f"/sys/class/net/{layout.BRIDGE}").exists():
        run(["ip", "link", "del", layout.BRIDGE])


def has_netns(name: str) -> bool:
    return Path("/run/netns", name).exists()


def create_box_network(box: layout.BoxLayout, address: str) -> None:
    """The box's namespace, its veth pair on the bridge, and its address."""
    if has_netns(box.netns):
        remove_box_network(box)
    check_address_free(address)
    ns = box.netns
    cidr = f"{address}/{layout.PREFIX_LENGTH}"
    run(["ip", "netns", "add", ns])
    # A MAC address derived from the IP address stays the same from one boot
    # to the next, so this machine's ARP cache never points at a dead one.
    peer = ["peer", "name", "eth0", "address", box_mac(address), "netns", ns]
    run(["ip", "link", "add", box.veth, "type", "veth", *peer])
    run(["ip", "link", "set", box.veth, "master", layout.BRIDGE, "up"])
    run(["ip", "-n", ns, "addr", "add", cidr, "dev", "eth0"])
    run(["ip", "-n", ns, "link", "set", "lo", "up"])
    run(["ip", "-n", ns, "link", "set", "eth0", "up"])
    add_peer_route(ns)


# The outside mail host's network (maillab.peer), reached on the bridge
# itself: an on-link route, not a default route.
PEER_NETWORK = "198.51.100.0/24"


def add_peer_route(netns: str) -> None:
    run(["ip", "-n", netns, "route", "replace", PEER_NETWORK, "dev", "eth0"])


def box_mac(address: str) -> str:
    """A locally administered MAC address: 02:00 then the four bytes of the IP."""
    return "02:00:" + ":".join(f"{int(b):02x}" for b in address.split("."))


def remove_box_network(box: layout.BoxLayout) -> None:
    if Path(f"/sys/class/net/{box.veth}").exists():
        run(["ip", "link", "del", box.veth])
    if has_netns(box.netns):
        run(["ip", "netns", "del", box.netns])


def check_address_free(address: str) -> None:
    for interface, locals_ in interface_addresses().items():
        if address in locals_:
            raise AddressInUse(
                f"{address} is already used by interface {interface} on this machine; "
                "choose another box address with --address"
            )
