"""A bleak client backend over bumble: BLE GATT without a Bluetooth adapter, in one process.

bleak (>= 0.18) lets ``BleakClient(..., backend=cls)`` take any :class:`BaseBleakClient`.
:class:`BumbleBleakClient` is one whose radio is the in-process
:class:`~harness.transports.bumble_air.VirtualAir`: on ``connect`` it powers up its own
central (bumble controller + host) on the air, connects to the peripheral registered under
the ``ble-emulated:<id>`` address, exchanges the ATT MTU and discovers the GATT database
into bleak's service collection. Each call runs on the air's loop and is awaited from the
caller's loop; notifications are handed back to the caller's loop, as a platform backend
would, and bumble's errors become bleak's.

Written for meterbench (not derived from any other bleak-over-bumble project).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from bleak.args import SizedBuffer
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError, BleakGATTProtocolError
from bleak.uuids import normalize_uuid_str
from bumble import att, core
from bumble.device import Connection, Device, Peer
from bumble.gatt import Characteristic
from bumble.hci import Address

from harness.transports.bumble_air import Registered, air, peripheral_id

if TYPE_CHECKING:  # bleak names its property strings in recent versions only
    from bleak.assigned_numbers import CharacteristicPropertyName

log = logging.getLogger("meterbench.transports.ble")

DEFAULT_MTU = 247  # what current phones and USB dongles negotiate (244-byte payloads)

T = TypeVar("T")

# bumble's characteristic property bits → bleak's property names.
_PROPERTY_NAMES: dict[Characteristic.Properties, CharacteristicPropertyName] = {
    Characteristic.Properties.BROADCAST: "broadcast",
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
    Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES: "authenticated-signed-writes",
    Characteristic.Properties.EXTENDED_PROPERTIES: "extended-properties",
}


def _uuid(uuid: core.UUID) -> str:
    return normalize_uuid_str(uuid.to_hex_str("-"))


class BumbleBleakClient(BaseBleakClient):
    """bleak backend reaching emulated peripherals on the :class:`VirtualAir`.

    Pass it as ``BleakClient("ble-emulated:<id>", backend=BumbleBleakClient)``; the keyword
    ``mtu`` (default 247) is the ATT MTU the central asks for after connecting.
    """

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        self._mtu_request = int(kwargs.pop("mtu", DEFAULT_MTU))
        kwargs.setdefault("disconnected_callback", None)
        kwargs.setdefault("timeout", 10.0)
        super().__init__(address_or_ble_device, **kwargs)
        self._id = peripheral_id(self.address)
        self._air = air()
        self._caller: asyncio.AbstractEventLoop | None = None
        self._device: Device | None = None
        self._connection: Connection | None = None
        self._peer: Peer | None = None
        self._entry: Registered | None = None
        self._disconnecting = False
        self._subscribers: dict[int, Callable[[bytes], None]] = {}

    @property
    def name(self) -> str:
        """The advertised name of the peripheral (its id before connecting)."""
        return self._entry.name if self._entry else self._id

    @property
    def mtu_size(self) -> int:
        """The negotiated ATT MTU."""
        return self._connection.att_mtu if self._connection else att.ATT_DEFAULT_MTU

    @property
    def is_connected(self) -> bool:
        """Whether the link to the peripheral is up."""
        return self._connection is not None

    # -- connection ---------------------------------------------------------------------------

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        """Connect over the air, exchange the MTU and discover services (``pair`` is ignored:
        the emulated heads need no bonding)."""
        if pair:
            log.debug("pairing not emulated; connecting without it")
        self._caller = asyncio.get_running_loop()
        entry = self._air.lookup(self._id)
        if entry is None:
            known = ", ".join(self._air.known()) or "none running"
            raise BleakDeviceNotFoundError(
                self._id, f"no emulated BLE peripheral {self._id!r} (known: {known})")
        self._entry = entry
        self._disconnecting = False
        try:
            await asyncio.wait_for(self._call(self._connect_on_air(entry)), self._timeout)
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await self._call(self._teardown())
            if isinstance(exc, TimeoutError):
                raise BleakError(f"connecting to {self._id!r} timed out after "
                                 f"{self._timeout} s") from None
            raise

    async def _connect_on_air(self, entry: Registered) -> None:
        self._device = await self._air.new_device(f"central-{self._id}", self._air.new_address())
        await self._device.power_on()
        connection = await self._device.connect(Address(entry.address), timeout=self._timeout)
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        self._connection = connection
        self._peer = Peer(connection)
        if self._mtu_request > att.ATT_DEFAULT_MTU:
            await self._peer.request_mtu(self._mtu_request)
        self.services = await self._discover(self._peer)

    async def _discover(self, peer: Peer) -> BleakGATTServiceCollection:
        """The peer's GATT database as bleak's service collection."""
        collection = BleakGATTServiceCollection()
        await peer.discover_services()
        for service in peer.services:
            bleak_service = BleakGATTService(service, service.handle, _uuid(service.uuid))
            collection.add_service(bleak_service)
            await service.discover_characteristics()
            for char in service.characteristics:
                await peer.discover_descriptors(char)
                props = [name for bit, name in _PROPERTY_NAMES.items() if char.properties & bit]
                bleak_char = BleakGATTCharacteristic(
                    char, char.handle, _uuid(char.uuid), props,
                    lambda: self.mtu_size - 3, bleak_service)
                collection.add_characteristic(bleak_char)
                for desc in char.descriptors:
                    collection.add_descriptor(
                        BleakGATTDescriptor(desc, desc.handle, _uuid(desc.type), bleak_char))
        return collection

    def _on_disconnection(self, reason: int) -> None:
        """Air loop: the link dropped; tell bleak's callback unless we asked for it."""
        self._connection = None
        self._peer = None
        if self._device is not None:
            device, self._device = self._device, None
            asyncio.get_running_loop().create_task(self._air.remove_device(device))
        if not self._disconnecting and self._disconnected_callback and self._caller:
            log.debug("emulated peripheral %s disconnected (reason 0x%02X)", self._id, reason)
            with contextlib.suppress(RuntimeError):
                self._caller.call_soon_threadsafe(self._disconnected_callback)

    async def disconnect(self) -> None:
        """Disconnect and take our central off the air; safe when already disconnected."""
        self._disconnecting = True
        await self._call(self._teardown())

    async def _teardown(self) -> None:
        connection, self._connection, self._peer = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.disconnect()
        if self._device is not None:
            device, self._device = self._device, None
            await self._air.remove_device(device)
        self._subscribers.clear()

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        """No bonding on the emulated link: accepted and ignored."""

    async def unpair(self) -> None:
        """No bonding on the emulated link: accepted and ignored."""

    # -- GATT I/O -----------------------------------------------------------------------------

    def _require_peer(self) -> Peer:
        if self._peer is None:
            raise BleakError(f"not connected to {self._id!r}")
        return self._peer

    async def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run on the air; bumble's errors become bleak's."""
        try:
            return await self._air.on_air(coro)
        except att.ATT_Error as exc:
            raise BleakGATTProtocolError(exc.error_code) from exc
        except (core.TimeoutError, core.CommandTimeoutError) as exc:
            raise BleakError(f"{self._id}: timed out: {exc}") from exc
        except core.BaseBumbleError as exc:
            raise BleakError(f"{self._id}: {exc}") from exc

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        """ATT read of a characteristic value."""
        peer = self._require_peer()
        return bytearray(await self._call(peer.read_value(characteristic.obj)))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        """ATT read of a descriptor."""
        peer = self._require_peer()
        return bytearray(await self._call(peer.read_value(descriptor.obj)))

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic,
                              data: SizedBuffer, response: bool) -> None:
        """ATT write request (``response``) or write command."""
        peer = self._require_peer()
        await self._call(peer.write_value(characteristic.obj, bytes(data),
                                          with_response=response))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor,
                                    data: SizedBuffer) -> None:
        """ATT write request to a descriptor."""
        peer = self._require_peer()
        await self._call(peer.write_value(descriptor.obj, bytes(data), with_response=True))

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: NotifyCallback, **kwargs: Any) -> None:
        """Subscribe (CCCD write); each value is handed to ``callback`` on the caller's loop."""
        peer = self._require_peer()
        caller = self._caller or asyncio.get_running_loop()

        def deliver(value: bytes) -> None:
            with contextlib.suppress(RuntimeError):  # the caller's loop has gone
                caller.call_soon_threadsafe(callback, bytearray(value))

        self._subscribers[characteristic.handle] = deliver
        await self._call(peer.subscribe(characteristic.obj, deliver, prefer_notify=True))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        """Unsubscribe (CCCD write)."""
        peer = self._require_peer()
        deliver = self._subscribers.pop(characteristic.handle, None)
        await self._call(peer.unsubscribe(characteristic.obj, deliver))
