"""ZigBee dongles (a test Communications Hub): the contract and its backends."""

from harness.drivers.zigbee.base import (
    DongleEvent,
    DongleIdentity,
    JoinFailed,
    JoinNotSupportedError,
    JoinStatus,
    Neighbour,
    NetworkDown,
    NetworkInfo,
    NetworkJoin,
    NetworkUp,
    NodeJoined,
    NodeLeft,
    OtherEvent,
    PanInfo,
    ZigbeeDongle,
)

__all__ = [
    "DongleEvent",
    "DongleIdentity",
    "JoinFailed",
    "JoinNotSupportedError",
    "JoinStatus",
    "Neighbour",
    "NetworkDown",
    "NetworkInfo",
    "NetworkJoin",
    "NetworkUp",
    "NodeJoined",
    "NodeLeft",
    "OtherEvent",
    "PanInfo",
    "ZigbeeDongle",
]
