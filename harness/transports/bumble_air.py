"""The in-process Bluetooth LE "air": bumble controllers on one virtual link, one event loop.

bumble runs whole Bluetooth controllers and hosts in Python; a :class:`~bumble.link.LocalLink`
carries their packets to each other with the *sender's* running loop, so every device on it
must live on one loop. :class:`VirtualAir` owns that loop (on a daemon thread), the link, and
a registry of emulated peripherals by id, which ``ble-emulated:<id>`` addresses name. The
emulated heads (:mod:`harness.emulator.optical.ble_peripheral`) power up here and the bleak
backend (:mod:`harness.transports.bleak_bumble`) connects its centrals here. bumble only; no
bleak needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from bumble.controller import Controller
from bumble.device import Device
from bumble.hci import Address
from bumble.host import Host
from bumble.link import LocalLink
from bumble.transport.common import AsyncPipeSink

from harness.transports.loop_thread import LoopThread

SCHEME = "ble-emulated"

T = TypeVar("T")


@dataclass(frozen=True)
class Registered:
    """An emulated peripheral on the air: its BLE address and advertised name."""

    peripheral_id: str
    address: str
    name: str


class VirtualAir:
    """The in-process radio: one LocalLink, one event loop thread, the peripherals by id."""

    def __init__(self) -> None:
        self.thread = LoopThread("ble-air")
        self.link = LocalLink()
        self._lock = threading.Lock()
        self._peripherals: dict[str, Registered] = {}
        self._counter = itertools.count(1)
        self._controllers: dict[int, Controller] = {}

    # -- addresses and devices (call the async ones on the air loop) -------------------------

    def new_address(self) -> str:
        """A fresh static random address (two top bits set, as the Core spec requires)."""
        n = next(self._counter)
        return f"C0:DE:00:{(n >> 16) & 0xFF:02X}:{(n >> 8) & 0xFF:02X}:{n & 0xFF:02X}"

    async def new_device(self, name: str, address: str) -> Device:
        """A powered-off bumble device whose controller sits on the link (air loop only)."""
        controller = Controller(name, link=self.link, public_address=address)
        device = Device(name=name, address=Address(address),
                        host=Host(controller, AsyncPipeSink(controller)))
        self._controllers[id(device)] = controller
        return device

    async def remove_device(self, device: Device) -> None:
        """Power ``device`` off and take its controller off the link (air loop only)."""
        with contextlib.suppress(Exception):
            await device.power_off()
        controller = self._controllers.pop(id(device), None)
        if controller is not None and controller in self.link.controllers:
            self.link.remove_controller(controller)

    # -- the registry of emulated peripherals -------------------------------------------------

    def register(self, entry: Registered) -> None:
        """Make a peripheral reachable as ``ble-emulated:<id>``; ids are unique."""
        with self._lock:
            if entry.peripheral_id in self._peripherals:
                raise ValueError(f"emulated BLE peripheral {entry.peripheral_id!r} exists")
            self._peripherals[entry.peripheral_id] = entry

    def unregister(self, peripheral_id: str) -> None:
        """Forget a peripheral (it stopped)."""
        with self._lock:
            self._peripherals.pop(peripheral_id, None)

    def lookup(self, peripheral_id: str) -> Registered | None:
        """The registered peripheral with this id, or None."""
        with self._lock:
            return self._peripherals.get(peripheral_id)

    def known(self) -> list[str]:
        """Ids of the peripherals on the air, sorted."""
        with self._lock:
            return sorted(self._peripherals)

    # -- running coroutines on the air --------------------------------------------------------

    async def on_air(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the air loop from any loop (cancelling one cancels the other)."""
        if asyncio.get_running_loop() is self.thread.loop:
            return await coro
        return await asyncio.wrap_future(self.thread.submit(coro))

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 10.0) -> T:
        """Run ``coro`` on the air loop from synchronous code (an emulated server's start/stop)."""
        return self.thread.run(coro, timeout)


_air: VirtualAir | None = None
_air_lock = threading.Lock()


def air() -> VirtualAir:
    """The process-wide virtual air, started on first use."""
    global _air
    with _air_lock:
        if _air is None or not _air.thread.alive:
            _air = VirtualAir()
        return _air


def peripheral_id(address: str) -> str:
    """``ble-emulated:meter-1`` (or plain ``meter-1``) → ``meter-1``."""
    prefix = f"{SCHEME}:"
    return address[len(prefix):] if address.startswith(prefix) else address
