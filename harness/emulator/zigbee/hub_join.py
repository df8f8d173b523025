"""A bench dongle joining a Communications Hub's network, as both emulated dongles play it.

The dongle is a joiner like any meter (``harness.emulator.world.han.HanJoiner``): it holds the
link key derived from its own install code (Telegesis S09, an EZSP NCP's preconfigured key)
and must open the hub's Transport-Key frame with it.  The hub seals its network key under the
key *its* whitelist rule gives (SR 8.11, derived by the hub from the code the bench sent it),
so a hub that derives a wrong key, never got the dongle in its device log, or whose radio is
dead does not admit the dongle.  Nothing here reads a fault: the outcome is the hub's own
behaviour in the radio world.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from harness.domain.types import DeviceType
from harness.emulator.world.han import JoinResult, open_transport_key
from harness.emulator.world.models.comms_hub import CommsHub
from harness.emulator.zigbee.radio import RadioWorld, Transmitter
from harness.protocols.installcode import LinkKey


class HubJoin(StrEnum):
    """How a dongle's join of a hub's network ended (its stack's view)."""

    JOINED = "joined"
    NO_BEACONS = "no beacons"  # no hub of that PAN heard on the channel
    NO_NETWORK_KEY = "no network key"  # associated, but the transport key did not open
    JOIN_FAILED = "join failed"  # the hub did not admit the dongle (not in its device log)


@dataclass
class DongleJoiner:
    """The dongle as a joiner: its EUI-64 and the link key it holds; the network key it opened."""

    eui64: str
    link_key: LinkKey = field(repr=False)
    network_key: bytes | None = field(default=None, repr=False)

    @property
    def device_type(self) -> DeviceType | None:
        """A bench dongle is no GBCS device."""
        return None

    def receive_transport_key(self, frame: bytes, coordinator: str, counter: int,
                              channel: int, pan_id: int) -> JoinResult:
        """Open the hub's Transport-Key frame with the dongle's own key."""
        self.network_key = open_transport_key(self.link_key, frame, coordinator, self.eui64,
                                              counter)
        return JoinResult.KEY_MISMATCH if self.network_key is None else JoinResult.JOINED


def hub_on(world: RadioWorld, channel: int, pan_id: int) -> Transmitter | None:
    """The hub whose network ``pan_id`` the dongle hears on ``channel`` (its beacon), if any."""
    for t in world.transmitters():
        device = t.device
        if (isinstance(device, CommsHub) and t.channel == channel and device.pan_id == pan_id
                and world.heard(t.rssi_dbm, channel)):
            return t
    return None


def join_hub(world: RadioWorld, eui64: str, link_key: LinkKey, channel: int,
             pan_id: int) -> tuple[HubJoin, Transmitter | None]:
    """The dongle ``eui64`` holding ``link_key`` joins the network ``pan_id`` on ``channel``:
    association with the hub heard there, then the hub's Transport-Key frame it must open."""
    t = hub_on(world, channel, pan_id)
    if t is None:
        return HubJoin.NO_BEACONS, None
    hub = t.device
    assert isinstance(hub, CommsHub)
    result = hub.join(DongleJoiner(eui64.upper(), link_key))
    outcome = {JoinResult.JOINED: HubJoin.JOINED,
               JoinResult.KEY_MISMATCH: HubJoin.NO_NETWORK_KEY,
               JoinResult.NO_RESPONSE: HubJoin.NO_BEACONS}.get(result, HubJoin.JOIN_FAILED)
    return outcome, t
