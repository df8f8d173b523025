"""A Telegesis ETRX357 (R309) as the emulator plays it: AT lines in, answers and prompts out.

No I/O: :meth:`TelegesisEngine.receive` takes one command line and returns the lines sent
at once (echo, body, ``OK``/``ERROR:<code>``); :meth:`TelegesisEngine.due` returns the
prompts whose time has come (``NEWNODE:``, the ``NTable:`` block, ``LeftPAN``...).  The
server (``harness.emulator.zigbee.server``) puts both on the wire.

Joining is real cryptography on both sides (``harness.emulator.world.han``): while joins are
permitted, every meter on the air that waits to join with its install code tries once per
window; the dongle, as trust centre, seals its network key under the key in S09 (when S0A
bit 8 says to use it; else the well-known ``ZigBeeAlliance09`` key) and the meter opens it
with the key it derived itself.  A wrong key gives ``AUTHFAIL:`` (a meterbench extension,
see ``harness.protocols.telegesis_extra``); a meter not heard gives nothing.  ``AT+JPAN``
makes the module the joiner of a hub's network, with the key in S09
(``harness.emulator.zigbee.hub_join``).
"""

from __future__ import annotations

import random
import re
import threading
from dataclasses import dataclass, field

from harness.domain.types import DeviceType
from harness.emulator.world.faults import stable_seed
from harness.emulator.world.han import JoinResult, seal_transport_key
from harness.emulator.world.models.meter import MeterDevice
from harness.emulator.zigbee.hub_join import HubJoin, join_hub
from harness.emulator.zigbee.radio import CHANNELS, RadioWorld, Transmitter
from harness.protocols.installcode import LinkKey
from harness.protocols.telegesis import PASSWORD_REGISTERS, REGISTER_WIDTHS
from harness.protocols.telegesis_extra import S0A_PRECONFIGURED_TC_KEY, authfail, energy_byte

WELL_KNOWN_TC_KEY = LinkKey(b"ZigBeeAlliance09")
"""The default trust-centre link key of ZigBee stacks (used when S0A bit 8 is clear)."""
MODEL, FIRMWARE = "ETRX357", "R309C"
TX_POWER_DBM = 8
DEFAULT_PERMIT_S = 60
# Error codes (R309 manual table, harness.protocols.telegesis_lines.ERROR_NAMES).
E_UNKNOWN, E_REGISTER, E_PARAMETER, E_PASSWORD = 0x02, 0x04, 0x05, 0x20
E_IN_PAN, E_NO_PAN = 0x28, 0x93
_JOIN_ERRORS = {HubJoin.NO_BEACONS: 0xAB, HubJoin.NO_NETWORK_KEY: 0xAD,
                HubJoin.JOIN_FAILED: 0x94}  # no beacons, no network key, cannot join
_WRITE = re.compile(r"ATS([0-9A-F]{2})([0-9A-F])?=([^:]*)(?::(.*))?", re.IGNORECASE)
_READ = re.compile(r"ATS([0-9A-F]{2})\?", re.IGNORECASE)
_SECRET_REGISTERS = (0x08, 0x09, 0x0C)  # keys and the password: write only


@dataclass
class Network:
    """The PAN the dongle formed (role ``COO``) or joined (``FFD``, a router of a hub's)."""

    channel: int
    pan_id: int
    epan: str
    network_key: bytes = field(repr=False)
    role: str = "COO"


@dataclass
class Node:
    """A node in the dongle's neighbour table."""

    eui64: str
    node_id: int
    device_type: str
    lqi: int


class TelegesisEngine:
    """The dongle's state and command set; thread-safe (one lock around each call)."""

    def __init__(self, world: RadioWorld, eui64: str, *, seed: int = 0,
                 password: str = "password", echo: bool = True,
                 join_delay_s: float = 0.3, time_scale: float = 1.0) -> None:
        self.world = world
        self.eui64 = eui64.upper()
        self.echo = echo
        self.join_delay_s = join_delay_s  # the meter's seconds: divided by the time scale
        if not time_scale > 0:
            raise ValueError(f"time_scale must be positive, not {time_scale}")
        self.time_scale = time_scale  # a fast bench's: the meter's join delay scales with it
        self.password = password
        self.registers: dict[int, int] = {0x00: 0xFFFF, 0x02: 0, 0x03: 0, 0x08: 0, 0x09: 0,
                                          0x0A: 0x0010, 0x0E: 0, 0x0F: 0, 0x10: 0}
        self.network: Network | None = None
        self.nodes: dict[str, Node] = {}
        self.permit_until = 0.0
        self._tries: dict[str, float] = {}  # this window: EUI-64 -> when it tries
        self._scheduled: list[tuple[float, str]] = []
        self._seq = 0
        self._counter = 0
        self._rng = random.Random(stable_seed(seed, "telegesis", self.eui64))
        self._lock = threading.RLock()

    # -- the wire side ----------------------------------------------------------------------

    def receive(self, line: str, now: float) -> list[str]:
        """One command line (without CR): the lines the module sends back at once."""
        text = line.strip()
        if not text:
            return []
        with self._lock:
            out = [text] if self.echo else []
            return out + self._command(text, now)

    def due(self, now: float) -> list[str]:
        """Prompts due by ``now``, after letting due join attempts happen."""
        with self._lock:
            self._joins(now)
            ready = [text for t, text in self._scheduled if t <= now]
            self._scheduled = [(t, text) for t, text in self._scheduled if t > now]
            return ready

    def drop_pending(self) -> None:
        """Forget prompts not yet sent (the host went away)."""
        with self._lock:
            self._scheduled.clear()

    def _later(self, now: float, *lines: str) -> None:
        self._scheduled += [(now, text) for text in lines]

    # -- commands ---------------------------------------------------------------------------

    def _command(self, text: str, now: float) -> list[str]:
        if text[:3].upper() == "ATS":
            return self._register(text)
        cmd, _, arg = text.upper().partition(":")
        handler = {
            "AT": lambda: ["OK"], "ATZ": lambda: ["OK"], "ATI": self._ati,
            "AT+ESCAN": self._escan, "AT+PANSCAN": self._panscan, "AT+N?": self._n,
            "AT+N": self._n, "AT+EN": self._en, "AT+DASSL": lambda: self._dassl(now),
            "AT+PJOIN": lambda: self._pjoin(arg, now),
            "AT+NTABLE": lambda: self._ntable(arg, now),
            "AT+DASSR": lambda: self._dassr(arg, now),
            "AT+JPAN": lambda: self._jpan(arg),
        }.get(cmd)
        return handler() if handler else _error(E_UNKNOWN)

    def _ati(self) -> list[str]:
        return [f"Telegesis {MODEL}", FIRMWARE, self.eui64, "OK"]

    def _escan(self) -> list[str]:
        readings = [f"{ch}:{energy_byte(self.world.energy_dbm(ch)):02X}" for ch in CHANNELS]
        return ["+ESCAN:", *readings, "OK"]

    def _panscan(self) -> list[str]:
        lines = [f"+PANSCAN:{b.channel},{b.pan_id:04X},{b.extended_pan_id},02,00,"
                 f"{round(b.rssi_dbm)},{b.lqi:02X}" for b in self.world.beacons()]
        return [*lines, "OK"]

    def _n(self) -> list[str]:
        net = self.network
        if net is None:
            return ["+N=NoPAN", "OK"]
        return [f"+N={net.role},{net.channel},{TX_POWER_DBM:02d},{net.pan_id:04X},{net.epan}",
                "OK"]

    def _en(self) -> list[str]:
        if self.network is not None:
            return _error(E_IN_PAN)
        mask = self.registers[0x00]
        allowed = [ch for ch in CHANNELS if mask >> (ch - 11) & 1]
        if not allowed:
            return _error(0x25)
        channel = min(allowed, key=lambda ch: (self.world.energy_dbm(ch), ch))
        pan_id = self.registers[0x02] or self._rng.randint(0x0001, 0xFFFE)
        epan = f"{self.registers[0x03]:016X}" if self.registers[0x03] else self.eui64
        key = self.registers[0x08].to_bytes(16, "big") if self.registers[0x08] else (
            self._rng.randbytes(16))
        self.network = Network(channel, pan_id, epan, key)
        self.nodes.clear()
        return [f"JPAN:{channel},{pan_id:04X},{epan}", "OK"]

    def _jpan(self, arg: str) -> list[str]:
        """Join a hub's PAN as a router, with the key in S09 when S0A bit 8 says so (else the
        well-known key): the hub must admit the dongle and its Transport-Key frame open."""
        if self.network is not None:
            return _error(E_IN_PAN)
        channel_text, _, pan_text = arg.partition(",")
        try:
            channel, pan_id = int(channel_text), int(pan_text, 16)
        except ValueError:
            return _error(E_PARAMETER)
        if channel not in CHANNELS or not 0 <= pan_id <= 0xFFFF:
            return _error(E_PARAMETER)
        use_s09 = self.registers[0x0A] & S0A_PRECONFIGURED_TC_KEY
        key = LinkKey(self.registers[0x09].to_bytes(16, "big")) if use_s09 else (
            WELL_KNOWN_TC_KEY)
        outcome, hub = join_hub(self.world, self.eui64, key, channel, pan_id)
        if outcome is not HubJoin.JOINED or hub is None:
            return _error(_JOIN_ERRORS.get(outcome, 0x94))
        epan = hub.device.eui64
        self.network = Network(channel, pan_id, epan, b"", role="FFD")
        self.nodes.clear()
        return [f"JPAN:{channel},{pan_id:04X},{epan}", "OK"]

    def _dassl(self, now: float) -> list[str]:
        if self.network is None:
            return _error(E_NO_PAN)
        self.network, self.permit_until = None, 0.0
        self.nodes.clear()
        self._tries.clear()
        self._later(now, "LeftPAN")
        return ["OK"]

    def _pjoin(self, arg: str, now: float) -> list[str]:
        if self.network is None:
            return _error(E_NO_PAN)
        try:
            seconds = int(arg, 16) if arg else DEFAULT_PERMIT_S
        except ValueError:
            return _error(E_PARAMETER)
        self.permit_until = now + seconds if seconds else 0.0
        self._tries.clear()  # a new window: every waiting meter tries again
        return ["OK"]

    def _next_seq(self) -> int:
        self._seq = (self._seq + 1) & 0xFF
        return self._seq

    def _ntable(self, arg: str, now: float) -> list[str]:
        index_text, _, address = arg.partition(",")
        try:
            index = int(index_text, 16)
        except ValueError:
            return _error(E_PARAMETER)
        net = self.network
        if net is None:
            return _error(E_NO_PAN)
        seq = self._next_seq()
        address = address or "0000"
        if address in ("0000", self.eui64):
            self._refresh_nodes()
            rows = [(n.device_type, n.eui64, n.node_id, n.lqi) for n in self.nodes.values()]
        else:
            node = self._node(address)
            if node is None:
                self._later(now, f"NACK:{seq:02X}")
                return [f"SEQ:{seq:02X}", "OK"]
            rows = [("COO", self.eui64, 0x0000, node.lqi)]
        table = [f"{i}. | {dev} | {eui} | {nid:04X} | {lqi:02X}"
                 for i, (dev, eui, nid, lqi) in enumerate(rows) if index <= i < index + 3]
        self._later(now, f"NTable:{address},00", f"Length:{len(rows):02X}",
                    "No.| Dev | EUI | ID | LQI", *table, f"ACK:{seq:02X}")
        return [f"SEQ:{seq:02X}", "OK"]

    def _dassr(self, address: str, now: float) -> list[str]:
        if self.network is None:
            return _error(E_NO_PAN)
        seq = self._next_seq()
        node = self._node(address)
        transmitter = self.world.find(node.eui64) if node else None
        if node is None or transmitter is None or not isinstance(transmitter.device,
                                                                 MeterDevice):
            self._later(now, f"NACK:{seq:02X}")
        else:
            transmitter.device.leave()
            del self.nodes[node.eui64]
            self._later(now, f"NODELEFT:{node.node_id:04X},{node.eui64}", f"ACK:{seq:02X}")
        return [f"SEQ:{seq:02X}", "OK"]

    def _node(self, address: str) -> Node | None:
        address = address.upper()
        return self.nodes.get(address) or next(
            (n for n in self.nodes.values() if f"{n.node_id:04X}" == address), None)

    # -- registers ---------------------------------------------------------------------------

    def _register(self, text: str) -> list[str]:
        if found := _READ.fullmatch(text):
            reg = int(found.group(1), 16)
            if reg not in self.registers:
                return _error(E_REGISTER)
            if reg in _SECRET_REGISTERS:
                return _error(E_PARAMETER)  # keys are write-only on this emulator
            return [f"{self.registers[reg]:0{REGISTER_WIDTHS[reg]}X}", "OK"]
        found = _WRITE.fullmatch(text)
        if found is None:
            return _error(E_UNKNOWN)
        reg, bit, value, password = (int(found.group(1), 16), found.group(2),
                                     found.group(3), found.group(4))
        if reg == 0x0C:  # a new password, given with the old one
            if password != self.password:
                return _error(E_PASSWORD)
            self.password = value
            return ["OK"]
        if reg not in self.registers:
            return _error(E_REGISTER)
        if reg in PASSWORD_REGISTERS and password != self.password:
            return _error(E_PASSWORD)
        width = REGISTER_WIDTHS[reg]
        if bit is not None:
            if value not in ("0", "1"):
                return _error(E_PARAMETER)
            mask = 1 << int(bit, 16)
            current = self.registers[reg]
            self.registers[reg] = current | mask if value == "1" else current & ~mask
            return ["OK"]
        if not re.fullmatch(rf"[0-9A-Fa-f]{{1,{width}}}", value):
            return _error(E_PARAMETER)
        self.registers[reg] = int(value, 16)
        return ["OK"]

    # -- joining -----------------------------------------------------------------------------

    def _joins(self, now: float) -> None:
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
            if when is None:  # first heard scanning in this window: it tries a little later
                rng = random.Random(stable_seed(device.seed, "join-delay", str(self._seq)))
                self._tries[eui] = now + (rng.uniform(0.2, 1.0) * self.join_delay_s
                                          / self.time_scale)
            elif when <= now:
                self._tries[eui] = float("inf")  # one try per window
                self._attempt(t, net, now)

    def _attempt(self, t: Transmitter, net: Network, now: float) -> None:
        """One meter's join: association, then the Transport-Key frame it must open."""
        if not self.world.heard(t.rssi_dbm, net.channel):
            return  # its association request never reached the dongle
        device = t.device
        assert isinstance(device, MeterDevice)  # _joins tries only meters awaiting a join
        node_id = self._rng.randint(0x0001, 0xFFF7)
        self._counter += 1
        use_s09 = self.registers[0x0A] & S0A_PRECONFIGURED_TC_KEY
        key = LinkKey(self.registers[0x09].to_bytes(16, "big")) if use_s09 else (
            WELL_KNOWN_TC_KEY)
        frame = seal_transport_key(key, net.network_key, self.eui64, device.eui64,
                                   self._counter)
        result = device.receive_transport_key(frame, self.eui64, self._counter, net.channel,
                                              net.pan_id)
        if result is JoinResult.JOINED:
            kind = "SED" if device.device_type is DeviceType.GSME else "FFD"
            lqi = self.world.lqi(t.rssi_dbm, net.channel)
            self.nodes[device.eui64] = Node(device.eui64, node_id, kind, lqi)
            self._later(now, f"NEWNODE:{node_id:04X},{device.eui64},0000",
                        f"{kind}:{device.eui64},{node_id:04X}")
        elif result is JoinResult.KEY_MISMATCH:
            self._later(now, authfail(node_id, device.eui64))

    def _refresh_nodes(self) -> None:
        """Update each node's LQI from the air; drop nodes that left on their own."""
        net = self.network
        for eui, node in list(self.nodes.items()):
            t = self.world.find(eui)
            if t is None:
                continue  # not heard now: the entry keeps its last LQI until it ages out
            han = t.device.han_status()
            if not han.joined or han.coordinator != self.eui64 or (
                    net is not None and han.pan_id != net.pan_id):
                del self.nodes[eui]
            elif net is not None:
                node.lqi = self.world.lqi(t.rssi_dbm, net.channel)


def _error(code: int) -> list[str]:
    return [f"ERROR:{code:02X}"]
