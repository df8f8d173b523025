"""The emulated NCP's trust centre: transient link keys, the join window, the meters that join
through it, its neighbour and child tables, and removing a node.

Joining is real cryptography on both sides, as on the emulated Telegesis dongle
(``harness.emulator.world.han``): while joins are permitted, every meter on the air that
waits to join with its install code tries once per window; the trust centre reports the
association (trustCenterJoinHandler, UNSECURED_JOIN), seals the network key of its security
state under the transient key it holds for that EUI-64 (else its preconfigured key), and the
meter opens it with the key it derived itself.  A meter that opened it announces itself (a
ZDO Device_annce in incomingMessageHandler, with the last hop's LQI and RSSI from the radio
world); one that could not is dropped by its parent, which the trust centre reports as
DEVICE_LEFT (the emulator's stand-in for the authentication timeout of a real stack).
ESMEs join as routers (neighbour table), GSMEs as sleepy end devices (child table).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from harness.domain.types import DeviceType
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.han import JoinResult, seal_transport_key
from harness.emulator.world.models.meter import MeterDevice
from harness.emulator.zigbee.radio import RadioWorld, Transmitter
from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp import messages_node as n
from harness.protocols.ezsp.types import ApsFrame, ChildData, NeighborEntry, NetworkParameters
from harness.protocols.installcode import LinkKey

CHILD_TABLE_SIZE = 16
"""Entries of the child table; past it getChildData answers INDEX_OUT_OF_RANGE."""
INDEX_OUT_OF_RANGE, NOT_JOINED, INVALID_CALL, ERR_FATAL = 0xB1, 0x93, 0x70, 0x01
AUTH_DROP_S = 0.1
"""After a failed key, how long before the parent drops the node (DEVICE_LEFT)."""
ANNOUNCE_S = 0.02
"""From the transport key to the joined node's Device_annce."""
BROADCAST = 0x04  # EmberIncomingMessageType EMBER_INCOMING_BROADCAST
Schedule = Callable[[float, str, c.Message], None]
Handler = Callable[[c.Message, float, int], tuple[str, c.Message]]


@dataclass
class Node:
    """A node joined through this trust centre."""

    eui64: str
    node_id: int
    router: bool
    lqi: int
    rssi: int


class TrustCentre:
    """The coordinator's trust centre and tables for one formed network."""

    def __init__(self, world: RadioWorld, eui64: str, later: Schedule, *,
                 join_delay_s: float = 0.3) -> None:
        self.world = world
        self.eui64 = eui64
        self.later = later
        self.join_delay_s = join_delay_s
        self.network: NetworkParameters | None = None
        self.security: n.InitialSecurityState | None = None
        self.transient: dict[str, LinkKey] = {}
        self.nodes: dict[str, Node] = {}
        self.permit_until = 0.0
        self._tries: dict[str, float] = {}
        self._window = 0
        self._counter = 0
        self._rng = random.Random(stable_seed(0, "ezsp-tc", eui64))

    def start(self, network: NetworkParameters, security: n.InitialSecurityState) -> None:
        """A network was formed with this security state."""
        self.network, self.security = network, security
        self.nodes.clear()
        self.permit_until = 0.0

    def stop(self) -> None:
        """The network was left: no nodes, no window, no transient keys."""
        self.network = self.security = None
        self.nodes.clear()
        self.transient.clear()
        self._tries.clear()
        self.permit_until = 0.0

    def handler(self, name: str) -> Handler | None:
        """The handler of EZSP frame ``name``, if the trust centre answers it."""
        return {
            "permitJoining": self._permit, "addTransientLinkKey": self._transient,
            "importTransientKey": self._transient, "neighborCount": self._count,
            "getNeighbor": self._neighbour, "getChildData": self._child,
            "removeDevice": self._remove,
        }.get(name)

    # -- commands -----------------------------------------------------------------------------

    def _permit(self, message: c.Message, now: float, version: int) -> tuple[str, c.Message]:
        assert isinstance(message, n.Duration)
        seconds = message.duration
        self.permit_until = float("inf") if seconds == 255 else (now + seconds if seconds
                                                                   else 0.0)
        self._tries.clear()  # a new window: every waiting meter tries again
        self._window += 1
        return "permitJoining", c.Status(0)

    def _transient(self, message: c.Message, now: float, version: int
                   ) -> tuple[str, c.Message]:
        assert isinstance(message, c.TransientKey)
        self.transient[message.eui64.upper()] = LinkKey(bytes(message.key))
        name = c.transient_key_frame(version)
        return name, c.SlStatus(0) if version >= 13 else c.Status(0)

    def _routers(self) -> list[Node]:
        self._refresh()
        return [node for node in self.nodes.values() if node.router]

    def _children(self) -> list[Node]:
        self._refresh()
        return [node for node in self.nodes.values() if not node.router]

    def _count(self, message: c.Message, now: float, version: int) -> tuple[str, c.Message]:
        return "neighborCount", n.Count(len(self._routers()))

    def _neighbour(self, message: c.Message, now: float, version: int
                   ) -> tuple[str, c.Message]:
        assert isinstance(message, c.Index)
        routers = self._routers()
        if message.index >= len(routers):
            return "getNeighbor", c.NeighborResponse(
                ERR_FATAL, NeighborEntry(0xFFFF, 0, 0, 0, 0, "0000000000000000"))
        node = routers[message.index]
        cost = max(1, min(7, 8 - node.lqi // 32))
        return "getNeighbor", c.NeighborResponse(
            0, NeighborEntry(node.node_id, node.lqi, cost, cost, 1, node.eui64))

    def _child(self, message: c.Message, now: float, version: int) -> tuple[str, c.Message]:
        assert isinstance(message, c.Index)
        children = self._children()
        empty = ChildData("0000000000000000", 0, 0xFFFF, 0, 0, 0, 0)
        if message.index >= CHILD_TABLE_SIZE:
            return "getChildData", c.ChildDataResponse(INDEX_OUT_OF_RANGE, empty)
        if message.index >= len(children):
            return "getChildData", c.ChildDataResponse(NOT_JOINED, empty)
        node = children[message.index]
        return "getChildData", c.ChildDataResponse(0, ChildData(
            node.eui64, c.NODE_SLEEPY_END_DEVICE, node.node_id, 0, 0, 8, 0))

    def _remove(self, message: c.Message, now: float, version: int) -> tuple[str, c.Message]:
        assert isinstance(message, n.RemoveDevice)
        node = self.nodes.get(message.target_long.upper())
        t = self.world.find(node.eui64) if node else None
        if node is None or t is None or not isinstance(t.device, MeterDevice):
            return "removeDevice", c.Status(INVALID_CALL)
        t.device.leave()
        del self.nodes[node.eui64]
        self.later(now, "trustCenterJoinHandler", c.TrustCenterJoin(
            node.node_id, node.eui64, n.DEVICE_LEFT, n.NO_ACTION, 0x0000))
        return "removeDevice", c.Status(0)

    def _refresh(self) -> None:
        """Drop nodes that left on their own; update link quality from the air."""
        net = self.network
        for eui, node in list(self.nodes.items()):
            t = self.world.find(eui)
            if t is None or net is None:
                continue  # not heard now: the entry keeps its last values until it ages out
            han = t.device.han_status()
            if not han.joined or han.coordinator != self.eui64 or han.pan_id != net.pan_id:
                del self.nodes[eui]
            else:
                node.lqi = self.world.lqi(t.rssi_dbm, net.radio_channel)

    # -- joining -------------------------------------------------------------------------------

    def joins(self, now: float) -> None:
        """Let the meters waiting to join try, once per window, a little after it opens."""
        net = self.network
        if net is None or now >= self.permit_until:
            return
        for t in self.world.transmitters():
            device = t.device
            if (not isinstance(device, MeterDevice) or t.channel is not None
                    or not device.han_status().awaiting_install_code_join):
                continue
            eui = device.eui64
            when = self._tries.get(eui)
            if when is None:
                rng = random.Random(stable_seed(device.seed, "join-delay", str(self._window)))
                self._tries[eui] = now + rng.uniform(0.2, 1.0) * self.join_delay_s
            elif when <= now:
                self._tries[eui] = float("inf")  # one try per window
                self._attempt(t, net, now)

    def _attempt(self, t: Transmitter, net: NetworkParameters, now: float) -> None:
        if not self.world.heard(t.rssi_dbm, net.radio_channel):
            return  # its association request never reached the NCP
        device = t.device
        assert isinstance(device, MeterDevice) and self.security is not None
        node_id = self._rng.randint(0x0001, 0xFFF7)
        self.later(now, "trustCenterJoinHandler", c.TrustCenterJoin(
            node_id, device.eui64, n.UNSECURED_JOIN, n.USE_PRECONFIGURED_KEY, 0x0000))
        key = self.transient.get(device.eui64) or LinkKey(self.security.preconfigured_key)
        self._counter += 1
        frame = seal_transport_key(key, self.security.network_key, self.eui64, device.eui64,
                                   self._counter)
        result = device.receive_transport_key(frame, self.eui64, self._counter,
                                              net.radio_channel, net.pan_id)
        if result is JoinResult.JOINED:
            router = device.device_type is not DeviceType.GSME
            lqi = self.world.lqi(t.rssi_dbm, net.radio_channel)
            rssi = max(-128, min(127, round(t.rssi_dbm)))
            self.nodes[device.eui64] = Node(device.eui64, node_id, router, lqi, rssi)
            capability = 0x8E if router else 0x80  # FFD, mains, rx on, security / sleepy
            annce = (bytes([self._counter & 0xFF]) + node_id.to_bytes(2, "little")
                     + bytes.fromhex(device.eui64)[::-1] + bytes([capability]))
            aps = ApsFrame(0x0000, 0x0013, 0, 0, 0, 0, self._counter & 0xFF)
            self.later(now + ANNOUNCE_S, "incomingMessageHandler", c.IncomingMessage(
                BROADCAST, aps, lqi, rssi, node_id, 0xFF, 0xFF, annce))
        elif result is JoinResult.KEY_MISMATCH:
            self.later(now + AUTH_DROP_S, "trustCenterJoinHandler", c.TrustCenterJoin(
                node_id, device.eui64, n.DEVICE_LEFT, n.NO_ACTION, 0x0000))
