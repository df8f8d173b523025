"""The ZigBee HAN as the emulator plays it: join outcomes, transport keys, CHF device logs.

A join is real cryptography on both sides: the coordinator seals the network key under the
link key it holds for the device (AES-128 CCM* with a 4-byte MIC, as ZigBee's APS security
does), and the device opens it with the key *it* derived from its own install code.  Only
equal keys open the frame.  After a join both sides move to a fresh link key, so a device
that left keeps an "old link key" the CHF remembers in its historic device log.

The whitelist rule is GB-SMART-METERING.md, "CHF whitelist (Service Request 8.11, GBCS
CCS01)": a device not in the historic log may join with its install code for the join
timeout; one in it may join with its old link key in the first half of the timeout and with
its install code only in the second half.  The historic log keeps 15 entries.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM

from harness.domain.types import DeviceType
from harness.protocols.installcode import LinkKey, aes_mmo_hash

MIC_LENGTH = 4  # ZigBee security level 5 (ENC-MIC-32)
_SECURITY_CONTROL = b"\x05"


class JoinResult(StrEnum):
    """What happened when a device tried to join a coordinator."""

    JOINED = "joined"
    KEY_MISMATCH = "key mismatch"  # the transport key did not open: wrong link key
    NO_RESPONSE = "no response"  # a radio is dead, or a device is off or not running
    NOT_WHITELISTED = "not whitelisted"  # not in the CHF device log, or its window passed


class JoinResponseCode(IntEnum):
    """Join/restore response codes (GB-SMART-METERING.md, HAN joining)."""

    SUCCESS = 0
    INVALID_MESSAGE_CODE = 1
    INVALID_JOIN_METHOD_AND_ROLE = 2
    INCOMPATIBLE_WITH_EXISTING_ENTRY = 3
    DEVICE_LOG_FULL = 4
    WRITE_FAILURE = 5
    INVALID_OR_MISSING_CERTIFICATE = 11


class HanJoiner(Protocol):
    """Whoever tries to join a coordinator: a meter, or a bench dongle joining a hub. It opens
    the coordinator's Transport-Key frame with the key *it* holds (``open_transport_key``)."""

    @property
    def eui64(self) -> str:
        """Its EUI-64 (16 upper-case hex digits)."""
        ...

    @property
    def device_type(self) -> DeviceType | None:
        """What it is, where it is a GBCS device (None: a bench dongle)."""
        ...

    def receive_transport_key(self, frame: bytes, coordinator: str, counter: int,
                              channel: int, pan_id: int) -> JoinResult:
        """Open the network key sealed in ``frame``: JOINED, or KEY_MISMATCH."""
        ...


@dataclass
class HanState:
    """A HAN device's side: the key it will join with, and where it is joined."""

    link_key: LinkKey
    joined: bool = False
    channel: int | None = None
    pan_id: int | None = None
    coordinator: str | None = None
    network_key: bytes | None = field(default=None, repr=False)


@dataclass
class DeviceLogEntry:
    """One device in a CHF device log (whitelisted, and joined once ``link_key`` is set)."""

    eui64: str
    device_type: DeviceType | None
    install_key: LinkKey
    old_key: LinkKey | None
    added_at: float  # emulator time the entry was written
    timeout_s: float
    link_key: LinkKey | None = None

    @property
    def joined(self) -> bool:
        """Whether the device has joined under this entry."""
        return self.link_key is not None


@dataclass(frozen=True)
class HistoricEntry:
    """A device that left the CHF: its EUI-64 and the link key it last held."""

    eui64: str
    link_key: LinkKey


@dataclass(frozen=True)
class JoinAttempt:
    """One join attempt the CHF saw, for its diagnostics."""

    at: float
    eui64: str
    key_source: str | None  # "install code", "old link key", "link key" or None
    result: JoinResult


def offered_key(entry: DeviceLogEntry, now: float) -> tuple[LinkKey, str] | None:
    """The key the CHF will accept from ``entry``'s device at ``now`` (SR 8.11 rule), or None."""
    if entry.joined:
        assert entry.link_key is not None
        return entry.link_key, "link key"
    elapsed = now - entry.added_at
    if elapsed < 0 or elapsed >= entry.timeout_s:
        return None
    if entry.old_key is not None and elapsed < entry.timeout_s / 2:
        return entry.old_key, "old link key"
    return entry.install_key, "install code"


def _nonce(source_eui64: str, counter: int) -> bytes:
    """CCM* nonce: source address, frame counter, security control (13 bytes)."""
    return bytes.fromhex(source_eui64) + counter.to_bytes(4, "little") + _SECURITY_CONTROL


def seal_transport_key(link_key: LinkKey, network_key: bytes, coordinator: str,
                       device: str, counter: int) -> bytes:
    """The coordinator's Transport-Key frame: the network key sealed under ``link_key``."""
    aad = bytes.fromhex(device)
    return AESCCM(bytes(link_key), MIC_LENGTH).encrypt(
        _nonce(coordinator, counter), network_key, aad
    )


def open_transport_key(link_key: LinkKey, frame: bytes, coordinator: str,
                       device: str, counter: int) -> bytes | None:
    """The network key from a Transport-Key frame, or None when ``link_key`` is the wrong key."""
    try:
        return AESCCM(bytes(link_key), MIC_LENGTH).decrypt(
            _nonce(coordinator, counter), frame, bytes.fromhex(device)
        )
    except InvalidTag:
        return None


def next_link_key(key: LinkKey, coordinator: str, device: str, counter: int) -> LinkKey:
    """The link key both sides move to after a join (the emulator's stand-in for key update)."""
    material = bytes(key) + bytes.fromhex(coordinator) + bytes.fromhex(device)
    return LinkKey(aes_mmo_hash(material + counter.to_bytes(4, "big")))


def new_network_key(rng: random.Random) -> bytes:
    """A fresh network key drawn from ``rng`` (a device's seeded generator: reproducible)."""
    return rng.randbytes(16)
