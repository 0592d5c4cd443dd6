"""A TLS 1.2 ClientHello written by hand, and the server's first answer to it.

OpenSSL 3 cannot offer RC4 or export suites any more, so a probe that asks
"would the server pick one?" has to build the ClientHello itself.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

_HANDSHAKE = 0x16
_ALERT = 0x15
_CLIENT_HELLO = 1
_SERVER_HELLO = 2
_GROUPS = (0x001D, 0x0017, 0x0018)  # x25519, secp256r1, secp384r1
_SIGNATURES = (0x0401, 0x0501, 0x0601, 0x0403, 0x0503, 0x0804, 0x0805, 0x0201)


class HelloError(OSError):
    """The server answered a ClientHello with something that is not TLS."""


@dataclass(frozen=True)
class HelloAnswer:
    """What the server sent back: its chosen suite, or the alert, or nothing."""

    suite: int | None  # the suite of the ServerHello
    alert: int | None  # the alert description, if it refused with one

    @property
    def accepted(self) -> bool:
        return self.suite is not None


def client_hello(suites: list[int]) -> bytes:
    """A TLS record holding a TLS 1.2 ClientHello that offers only `suites`."""
    extensions = (
        _extension(0x000A, _list16(_GROUPS))  # supported_groups
        + _extension(0x000B, b"\x01\x00")  # ec_point_formats: uncompressed
        + _extension(0x000D, _list16(_SIGNATURES))  # signature_algorithms
        + _extension(0xFF01, b"\x00")  # renegotiation_info
    )
    body = (
        b"\x03\x03"
        + os.urandom(32)
        + b"\x00"  # no session id
        + _list16(tuple(suites))
        + b"\x01\x00"  # compression: null only
        + struct.pack("!H", len(extensions))
        + extensions
    )
    handshake = struct.pack("!B", _CLIENT_HELLO) + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", _HANDSHAKE, 0x0301, len(handshake)) + handshake


def read_answer(sock: socket.socket) -> HelloAnswer:
    """The server's first record after a ClientHello.

    A closed connection counts as a refusal without an alert.
    """
    header = _read_exactly(sock, 5)
    if len(header) < 5:
        return HelloAnswer(None, None)
    kind, _, length = struct.unpack("!BHH", header)
    record = _read_exactly(sock, length)
    if kind == _ALERT and len(record) >= 2:
        return HelloAnswer(None, record[1])
    if kind == _HANDSHAKE and record[:1] == bytes([_SERVER_HELLO]):
        return HelloAnswer(_chosen_suite(record), None)
    raise HelloError(f"unexpected TLS record type {kind} in answer to a ClientHello")


def _chosen_suite(record: bytes) -> int:
    # type(1) length(3) version(2) random(32) session_id_length(1) session_id
    session_id_length = record[38]
    start = 39 + session_id_length
    return int(struct.unpack("!H", record[start : start + 2])[0])


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        try:
            chunk = sock.recv(size - len(data))
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    return data


def _extension(kind: int, data: bytes) -> bytes:
    return struct.pack("!HH", kind, len(data)) + data


def _list16(values: tuple[int, ...]) -> bytes:
    packed = b"".join(struct.pack("!H", v) for v in values)
    return struct.pack("!H", len(packed)) + packed
