"""An optical probe on Bluetooth LE: an IR head with a serial-over-GATT (Nordic UART) service.

Addresses: ``ble:AA:BB:CC:DD:EE:FF`` (a MAC; a CoreBluetooth UUID on macOS),
``ble-name:IRHEAD-1`` (the first head advertising that name), or ``ble-emulated:<id>`` (an
emulated head on the in-process virtual air, reached through our bumble backend for bleak).
The IEC 62056-21 client of :class:`OpticalProbe` stays synchronous: bleak runs on an event
loop in a background thread, each hook waits for its coroutine with a deadline, and TX
notifications land in a thread-safe buffer that ``_read`` drains. Baud changes are written
to the head's optional line-control characteristic (CDC ``LINE_CODING``, see
:mod:`harness.protocols.ble_uart`); a head without one keeps its own baud handling and the
change is a no-op on the head.

Bench options: ``service_uuid``, ``rx_uuid``, ``tx_uuid``, ``line_control_uuid`` (``""``
for a head without one), ``mtu`` (ATT MTU to ask for; writes are split to ``mtu - 3``),
``chunk_size`` (overrides the write size), ``write_with_response`` (default true),
``scan_timeout_s``, ``connect_timeout_s``, ``gatt_timeout_s``, ``adapter`` (BlueZ hciN).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakDeviceNotFoundError, BleakError

from harness.drivers.optical.base import OpticalProbe
from harness.errors import InstrumentConnectError, InstrumentTimeoutError, OperationError
from harness.protocols.ble_uart import (
    LINE_CONTROL_UUID,
    NUS_RX_UUID,
    NUS_SERVICE_UUID,
    NUS_TX_UUID,
    LineCoding,
    encode_line_coding,
)
from harness.protocols.iec62056_21 import INITIAL_BAUD
from harness.transports.loop_thread import LoopThread

SCHEMES = {"ble": "mac", "ble-name": "name", "ble-emulated": "emulated"}
DEFAULT_MTU = 247


class BleOpticalProbe(OpticalProbe):
    """IEC 62056-21 over bleak, to a NUS-style IR head (real or emulated)."""

    wire_bounds = False  # the head's IR side may run at a baud of its own

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop: LoopThread | None = None
        self._client: BleakClient | None = None
        self._rx: BleakGATTCharacteristic | None = None
        self._line_char: BleakGATTCharacteristic | None = None
        self._chunk = 20
        self._buffer = bytearray()
        self._data = threading.Condition()
        self._lost: str | None = None

    # -- address and options -----------------------------------------------------------------

    def parse_address(self) -> tuple[str, str]:
        """``(kind, target)``: kind is ``mac``, ``name`` or ``emulated``."""
        scheme, sep, target = self.address.partition(":")
        if not sep or scheme not in SCHEMES or not target:
            raise InstrumentConnectError(
                f"{self.name}: BLE probe address {self.address!r} must be ble:<MAC>, "
                "ble-name:<advertised name> or ble-emulated:<id>",
                instrument=self.name, address=self.address)
        return SCHEMES[scheme], target

    @property
    def gatt_timeout_s(self) -> float:
        """Deadline for one GATT operation (a write, a subscription, a disconnect)."""
        return float(self._option("gatt_timeout_s", 5.0))

    # -- lifecycle -----------------------------------------------------------------------------

    def _open_internal(self) -> None:
        kind, target = self.parse_address()
        backend: type | None = None
        if kind == "emulated":
            try:
                from harness.transports.bleak_bumble import BumbleBleakClient
            except ModuleNotFoundError as exc:
                raise InstrumentConnectError(
                    f"{self.name}: {self.address} needs the module {exc.name!r}: "
                    "pip install 'meterbench[ble-emulation]'",
                    instrument=self.name, address=self.address) from None
            backend = BumbleBleakClient
        scan_s = float(self._option("scan_timeout_s", 10.0))
        connect_s = float(self._option("connect_timeout_s", 20.0))
        self._lost = None
        self._loop = LoopThread(f"ble-{self.name}")
        try:
            self._loop.run(self._connect(kind, target, backend, scan_s, connect_s),
                           timeout=scan_s + connect_s + self.gatt_timeout_s)
        except (BleakError, TimeoutError, OSError) as exc:
            self._close_internal()
            reason = str(exc) or type(exc).__name__
            if kind != "emulated" and isinstance(exc, OSError):
                reason += " (no Bluetooth stack reachable: is BlueZ running, an adapter present?)"
            raise InstrumentConnectError(f"{self.name}: cannot connect to {self.address}: "
                                         f"{reason}", instrument=self.name,
                                         address=self.address) from None
        except BaseException:
            self._close_internal()
            raise
        self.baud = INITIAL_BAUD
        if self._line_char is not None:
            try:
                self._set_baud(INITIAL_BAUD)  # a head may remember the last session's baud
            except BaseException:
                self._close_internal()
                raise

    async def _connect(self, kind: str, target: str, backend: type | None,
                       scan_s: float, connect_s: float) -> None:
        """Find the head, connect, check the GATT layout and subscribe to TX."""
        kwargs: dict[str, Any] = {"timeout": connect_s,
                                  "disconnected_callback": self._on_disconnected}
        scan: dict[str, Any] = {}
        if self._option("adapter", None):
            scan["bluez"] = kwargs["bluez"] = {"adapter": str(self._option("adapter", ""))}
        device: Any = target
        if backend is not None:
            kwargs.update(backend=backend, mtu=int(self._option("mtu", DEFAULT_MTU)))
        elif kind == "name":
            device = await BleakScanner.find_device_by_name(target, timeout=scan_s, **scan)
        else:
            device = await BleakScanner.find_device_by_address(target, timeout=scan_s, **scan)
        if device is None:
            raise BleakDeviceNotFoundError(target, f"no BLE head {target!r} seen in {scan_s} s")
        client = BleakClient(device, **kwargs)
        await client.connect()
        try:
            self._rx, tx, self._line_char = self._layout(client)
            await client.start_notify(tx, self._on_notify)
        except BaseException:
            with contextlib.suppress(Exception):
                await client.disconnect()
            raise
        self._client = client
        self._chunk = self._chunk_size(self._rx)

    def _layout(self, client: BleakClient) -> tuple[BleakGATTCharacteristic,
                                                   BleakGATTCharacteristic,
                                                   BleakGATTCharacteristic | None]:
        """RX, TX and the optional line-control characteristic, or a BleakError naming
        what is missing."""
        service_uuid = str(self._option("service_uuid", NUS_SERVICE_UUID))
        service = client.services.get_service(service_uuid)
        if service is None:
            raise BleakError(f"the head has no serial service {service_uuid}")
        found = []
        for key, default in (("rx_uuid", NUS_RX_UUID), ("tx_uuid", NUS_TX_UUID)):
            uuid = str(self._option(key, default))
            char = service.get_characteristic(uuid)
            if char is None:
                raise BleakError(f"service {service_uuid} has no characteristic {uuid} ({key})")
            found.append(char)
        line_uuid = str(self._option("line_control_uuid", LINE_CONTROL_UUID) or "")
        line = client.services.get_characteristic(line_uuid) if line_uuid else None
        if line is None:
            self.log.debug("no line-control characteristic: baud changes stay on the probe")
        return found[0], found[1], line

    def _chunk_size(self, rx: BleakGATTCharacteristic) -> int:
        if self._option("chunk_size", None):
            return max(1, int(self._option("chunk_size", 20)))
        if self._option("mtu", None):
            return max(1, int(self._option("mtu", DEFAULT_MTU)) - 3)
        return max(1, rx.max_write_without_response_size)

    def _close_internal(self) -> None:
        client, self._client = self._client, None
        loop, self._loop = self._loop, None
        if loop is not None:
            if client is not None:
                with contextlib.suppress(Exception):
                    loop.run(self._disconnect(client), timeout=self.gatt_timeout_s)
            loop.stop()
        self._rx = self._line_char = None
        with self._data:
            self._buffer.clear()

    @staticmethod
    async def _disconnect(client: BleakClient) -> None:
        with contextlib.suppress(BleakError, OSError, asyncio.CancelledError):
            await client.disconnect()

    # -- callbacks (on the loop thread) ---------------------------------------------------------

    def _on_notify(self, _sender: BleakGATTCharacteristic, data: bytearray) -> None:
        with self._data:
            self._buffer += data
            self._data.notify_all()

    def _on_disconnected(self, _client: BleakClient) -> None:
        with self._data:
            self._lost = f"{self.name}: the BLE link to {self.address} dropped"
            self._data.notify_all()

    # -- hooks ---------------------------------------------------------------------------------

    def _gatt(self, coro: Any, what: str) -> None:
        """Run one GATT operation on the loop; errors become meterbench's."""
        if self._loop is None or self._client is None:
            coro.close()
            raise OperationError(f"{self.name}: not open", instrument=self.name)
        if self._lost:
            coro.close()
            raise OperationError(self._lost, instrument=self.name)
        try:
            self._loop.run(coro, timeout=self.gatt_timeout_s)
        except TimeoutError:
            raise InstrumentTimeoutError(f"{self.name}: {what} not done within "
                                         f"{self.gatt_timeout_s} s", instrument=self.name
                                         ) from None
        except (BleakError, OSError) as exc:
            client = self._client
            if client is not None and not client.is_connected:  # callback may still be due
                raise OperationError(f"{self.name}: the BLE link to {self.address} dropped "
                                     f"({what} failed: {exc})", instrument=self.name) from None
            raise OperationError(f"{self.name}: {what} failed: {exc}",
                                 instrument=self.name) from None

    def _write(self, data: bytes) -> None:
        response = bool(self._option("write_with_response", True))
        for i in range(0, len(data), self._chunk):
            client, rx = self._client, self._rx
            if client is None or rx is None:
                raise OperationError(f"{self.name}: not open", instrument=self.name)
            self._gatt(client.write_gatt_char(rx, data[i:i + self._chunk], response=response),
                       "write")

    def _read(self, timeout: float) -> bytes:
        with self._data:
            if not self._buffer and not self._lost and timeout > 0:
                self._data.wait_for(lambda: bool(self._buffer) or bool(self._lost), timeout)
            if self._buffer:
                data = bytes(self._buffer)
                self._buffer.clear()
                return data
            if self._lost:
                raise OperationError(self._lost, instrument=self.name)
            return b""

    def _set_baud(self, baud: int) -> None:
        client, line = self._client, self._line_char
        if line is None or client is None:
            return  # a head without line control: nothing to tell it
        coding = LineCoding(baud, 8, "N") if self.framing == "8N1" else LineCoding(baud)
        value = encode_line_coding(coding)
        self._gatt(client.write_gatt_char(line, value, response=True), f"switch to {baud} Bd")
