"""An emulated BLE IR head in front of an emulated meter: a bumble GATT peripheral on the air.

The peripheral advertises the Nordic UART Service. What the central writes to RX goes
through the optical line model into a :class:`MeterPortEngine`; the meter's answers come
back as TX notifications, split to the connection's ATT payload size (bumble silently
truncates a longer notification). The optional line-control characteristic carries the
head's IR-side baud and framing (CDC ``LINE_CODING``, see :mod:`harness.protocols.ble_uart`):
the meter compares it with the baud of each answer and a mismatch gives garbage, as on a
real bench. An answer waits at most the meter's reaction time for the probe to switch baud,
as :mod:`~harness.emulator.optical.server` does. Port faults (dead, dropped or corrupted
frames) come from the register map's :class:`PortBehaviour`.

Reached by drivers as ``ble-emulated:<id>`` through
:class:`~harness.transports.bleak_bumble.BumbleBleakClient`. Needs bumble only (the
``ble-emulation`` extra); the driver side needs bleak.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field

from bumble import att
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.gatt import Characteristic, CharacteristicValue, Service

from harness.emulator.guard import report_unexpected
from harness.emulator.optical.engine import MeterPortEngine, Reply
from harness.emulator.optical.line import LineSettings, meter_to_probe, probe_to_meter
from harness.emulator.optical.registers import OpticalRegisters, PortBehaviour
from harness.emulator.world.clock import Clock
from harness.errors import ProtocolError
from harness.protocols.ble_uart import (
    LINE_CONTROL_UUID,
    NUS_RX_UUID,
    NUS_SERVICE_UUID,
    NUS_TX_UUID,
    LineCoding,
    decode_line_coding,
    encode_line_coding,
)
from harness.transports.bumble_air import SCHEME, Registered, VirtualAir, air

log = logging.getLogger("meterbench.emulator.optical.ble")

BITS_PER_CHAR = 10  # start, 7 data, parity, stop
_ids = itertools.count(1)


@dataclass
class _Pending:
    reply: Reply
    not_before: float
    deadline: float


@dataclass
class HeadUuids:
    """The GATT layout of the emulated head (NUS by default, each UUID overridable)."""

    service: str = NUS_SERVICE_UUID
    rx: str = NUS_RX_UUID
    tx: str = NUS_TX_UUID
    line_control: str | None = LINE_CONTROL_UUID  # None: a head without baud control


@dataclass
class _LinkState:
    """What one connection has set: the IR line, and the answers still to send."""

    line: LineSettings | None
    queue: asyncio.Queue[_Pending] = field(default_factory=asyncio.Queue)
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class BleOpticalPortServer:
    """One meter's optical port behind an emulated BLE IR head (an EmulatedServer)."""

    def __init__(
        self,
        registers: OpticalRegisters,
        clock: Clock | None = None,
        *,
        peripheral_id: str | None = None,
        name: str | None = None,
        uuids: HeadUuids | None = None,
        baud_accurate: bool = False,
        seed: int = 0,
        advertising_interval_ms: float = 20.0,
    ) -> None:
        self.registers = registers
        self.engine = MeterPortEngine(registers, clock)
        self.peripheral_id = peripheral_id or f"optical-{next(_ids)}"
        self.name = name or f"IRHEAD-{self.peripheral_id}"
        self.uuids = uuids or HeadUuids()
        self.baud_accurate = baud_accurate
        # A central connects on the next advertising event: bumble's default of 1 s would
        # make every connect take a second; 20 ms is the Core spec's minimum.
        self.advertising_interval_ms = advertising_interval_ms
        self.rng = random.Random(seed)
        self.baud_changes: list[int] = []  # every baud the probe set, in order
        self.rx_log: deque[bytes] = deque(maxlen=1000)  # GATT writes to RX, as received
        self.bd_address = ""
        self._air: VirtualAir | None = None
        self._device: Device | None = None
        self._tx: Characteristic | None = None
        self._state = _LinkState(self._idle_line())
        self._sender: asyncio.Task[None] | None = None

    def replace_registers(self, registers: OpticalRegisters) -> None:
        """Another meter now sits in front of the head (a batch presents its next device)."""
        self.registers = registers
        self.engine.registers = registers
        self.engine.reset()

    @property
    def resource(self) -> str:
        """The address a BLE probe driver opens: ``ble-emulated:<id>``."""
        return f"{SCHEME}:{self.peripheral_id}"

    @property
    def line(self) -> LineSettings | None:
        """The IR line as the probe last set it (None for a head without line control)."""
        return self._state.line

    def _idle_line(self) -> LineSettings | None:
        return LineSettings() if self.uuids.line_control else None  # 300 Bd 7E1

    # -- lifecycle (any thread) ---------------------------------------------------------------

    def start(self) -> None:
        """Power the head up on the virtual air, advertise, and register its id."""
        the_air = air()
        if the_air.lookup(self.peripheral_id) is not None:
            raise ValueError(f"an emulated BLE head {self.peripheral_id!r} is already running")
        self._air = the_air
        the_air.run(self._start_on_air())
        try:
            the_air.register(Registered(self.peripheral_id, self.bd_address, self.name))
        except ValueError:
            self.stop()
            raise

    def stop(self) -> None:
        """Drop any connected probe, power down and unregister; safe to call twice."""
        if self._air is None:
            return
        the_air, self._air = self._air, None
        the_air.unregister(self.peripheral_id)
        with contextlib.suppress(Exception):
            the_air.run(self._stop_on_air(the_air), timeout=5.0)

    # -- on the air loop --------------------------------------------------------------------

    async def _start_on_air(self) -> None:
        assert self._air is not None
        self.bd_address = self._air.new_address()
        device = await self._air.new_device(self.name, self.bd_address)
        device.add_service(self._service())
        device.on(device.EVENT_CONNECTION, self._on_connection)
        await device.power_on()
        advertising = AdvertisingData([
            (AdvertisingData.FLAGS, bytes([0x06])),  # LE general discoverable, no BR/EDR
            (AdvertisingData.COMPLETE_LOCAL_NAME, self.name.encode()[:26]),
        ])
        scan_response = AdvertisingData([
            (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
             bytes(UUID(self.uuids.service))),
        ])
        await device.start_advertising(
            auto_restart=True, advertising_data=bytes(advertising),
            scan_response_data=bytes(scan_response),
            advertising_interval_min=self.advertising_interval_ms,
            advertising_interval_max=self.advertising_interval_ms)
        self._device = device
        self._state = _LinkState(self._idle_line())
        self._sender = asyncio.get_running_loop().create_task(self._send_loop())

    async def _stop_on_air(self, the_air: VirtualAir) -> None:
        if self._sender is not None:
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
            self._sender = None
        device, self._device = self._device, None
        if device is None:
            return
        for connection in list(device.connections.values()):
            with contextlib.suppress(Exception):
                await connection.disconnect()
        with contextlib.suppress(Exception):
            await device.stop_advertising()
        await the_air.remove_device(device)

    def _service(self) -> Service:
        props = Characteristic.Properties
        self._tx = Characteristic(self.uuids.tx, props.NOTIFY, Characteristic.READABLE, b"")
        rx: Characteristic[bytes] = Characteristic(
            self.uuids.rx, props.WRITE | props.WRITE_WITHOUT_RESPONSE, Characteristic.WRITEABLE,
            CharacteristicValue(write=self._on_rx))
        chars = [rx, self._tx]
        if self.uuids.line_control:
            chars.append(Characteristic(
                self.uuids.line_control, props.READ | props.WRITE,
                Characteristic.READABLE | Characteristic.WRITEABLE,
                CharacteristicValue(read=self._read_line, write=self._on_line)))
        return Service(self.uuids.service, chars)

    def _on_connection(self, connection: Connection) -> None:
        """A probe connected: the meter starts idle at 300 Bd, the head at 300 Bd 7E1."""
        self.engine.reset()
        self._state.line = self._idle_line()
        self._drain()
        connection.on(connection.EVENT_DISCONNECTION, lambda *_: self._drain())

    def _drain(self) -> None:
        while not self._state.queue.empty():
            self._state.queue.get_nowait()

    def _read_line(self, connection: Connection) -> bytes:
        line = self._state.line or LineSettings()
        return encode_line_coding(LineCoding(line.baudrate, line.bytesize, line.parity,
                                             line.stopbits))

    def _on_line(self, connection: Connection, value: bytes) -> None:
        try:
            coding = decode_line_coding(bytes(value))
        except ProtocolError as exc:
            log.debug("line control refused: %s", exc)
            raise att.ATT_Error(att.ATT_INVALID_ATTRIBUTE_LENGTH_ERROR) from None
        self._state.line = LineSettings(coding.baudrate, coding.bytesize, coding.parity,
                                        coding.stopbits)
        self.baud_changes.append(coding.baudrate)
        del self.baud_changes[:-1000]  # bounded, whatever a central keeps writing
        self._state.changed.set()

    def _on_rx(self, connection: Connection, value: bytes) -> None:
        """Bytes from the probe's IR LED: into the meter once they have landed (at once, or
        in baud-accurate mode after their wire time: a meter samples its clock then)."""
        self.rx_log.append(bytes(value))
        if self.baud_accurate:
            wire = len(value) * BITS_PER_CHAR / self.engine.baud
            asyncio.get_running_loop().call_later(wire, self._landed, bytes(value))
        else:
            self._landed(bytes(value))

    def _landed(self, value: bytes) -> None:
        """The probe's bytes have reached the meter: its answers queued for sending."""
        if self.registers.behaviour().dead:
            return
        rx_baud, framing = self.engine.baud, self.engine.framing  # 8N1 once in HDLC (mode E)
        try:
            replies = self.engine.receive(probe_to_meter(bytes(value), rx_baud,
                                                         self._state.line, framing))
        except Exception as exc:  # a parser bug: the meter stays silent and starts over
            report_unexpected("BLE optical head (meter engine)", exc)
            self.engine.reset()
            return
        reaction = self.registers.identification().reaction_time_s
        now = time.monotonic()
        wait = reaction if self.baud_accurate else 0.0  # the bytes have landed already
        for reply in replies:
            self._state.queue.put_nowait(_Pending(reply, now + wait, now + max(wait, reaction)))

    async def _send_loop(self) -> None:
        state = self._state
        while True:
            pending = await state.queue.get()
            delay = pending.not_before - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # Give the probe up to the reaction time to switch to the answer's baud.
            while state.line is not None and state.line.baudrate != pending.reply.baud:
                remaining = pending.deadline - time.monotonic()
                if remaining <= 0:
                    break
                state.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.changed.wait(), remaining)
            data = apply_faults(pending.reply.data, self.registers.behaviour(), self.rng)
            if data:
                line_bytes = meter_to_probe(data, pending.reply.baud, state.line,
                                            pending.reply.framing)
                try:
                    await self._notify(line_bytes, pending.reply.baud)
                except Exception:  # a probe gone mid-answer must not end the head
                    log.debug("notification failed", exc_info=True)

    async def _notify(self, data: bytes, baud: int) -> None:
        """TX notifications of at most ATT MTU - 3 bytes each; in baud-accurate mode each
        piece (about 20 ms of line time) goes out when its last byte has crossed the IR."""
        device, tx = self._device, self._tx
        if device is None or tx is None or not device.connections:
            return
        mtu = min(c.att_mtu for c in device.connections.values())
        size = max(1, mtu - 3)
        if self.baud_accurate:
            size = min(size, max(1, baud // (BITS_PER_CHAR * 50)))
        start = time.monotonic()
        for i in range(0, len(data), size):
            piece = data[i:i + size]
            if self.baud_accurate:
                due = start + (i + len(piece)) * BITS_PER_CHAR / baud
                await asyncio.sleep(max(0.0, due - time.monotonic()))
            await device.notify_subscribers(tx, piece)


def apply_faults(data: bytes, behaviour: PortBehaviour, rng: random.Random) -> bytes:
    """An intermittent port: drop a whole answer, or flip one bit of one byte (as server.py)."""
    if behaviour.drop_fraction and rng.random() < behaviour.drop_fraction:
        return b""
    if behaviour.corrupt_fraction and rng.random() < behaviour.corrupt_fraction:
        i = rng.randrange(len(data))
        return data[:i] + bytes([data[i] ^ 0x20]) + data[i + 1:]
    return data
