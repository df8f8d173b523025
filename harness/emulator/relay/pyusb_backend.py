"""A virtual USB bus for emulated HID relay boards, and the pyusb backend that reaches it.

Boards are plugged in process-wide (:func:`register_board`); :data:`BACKEND` enumerates them
as 16c0:05df devices and answers what ``usb.core.find`` and ``Device.ctrl_transfer`` ask:
device/configuration/string descriptors, configuration and interface claims, kernel-driver
binding, and the HID feature reports (SET_REPORT, GET_REPORT) that the board acts on.
Errors are raised as libusb would (``USBError`` with errno: ENODEV, EBUSY, EPIPE).
"""

from __future__ import annotations

import errno
import logging
import re
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Protocol

import usb.backend
import usb.core
import usb.util

log = logging.getLogger("meterbench.emulator.usb_relay")

VENDOR_ID = 0x16C0
PRODUCT_ID = 0x05DF
MANUFACTURER = "www.dcttech.com"
SCHEME = "usb-emulated"
BUS = 1


class ReportBoard(Protocol):
    """What the bus needs of a board: its names and its two feature reports."""

    serial: str

    @property
    def product(self) -> str: ...

    def set_report(self, report: bytes) -> None: ...

    def feature_report(self) -> bytes: ...


# -- the process-wide registry ---------------------------------------------------------------


@dataclass(eq=False)
class _Plugged:
    """A board plugged into the virtual bus: its USB address and host-side state."""

    board_id: str
    board: ReportBoard
    address: int
    kernel_driver: bool = False
    claimed_by: object | None = None


_REGISTRY: dict[str, _Plugged] = {}
_REGISTRY_LOCK = threading.Lock()


def register_board(
    board: ReportBoard, board_id: str | None = None, *, kernel_driver: bool = False
) -> str:
    """Plug a board into the virtual bus; return its address ``usb-emulated:<id>``.

    The id defaults to the serial and is made unique (``-2``, ``-3``...). ``kernel_driver``
    makes the board look bound to usbhid, as real boards are, so a driver must detach it.
    """
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", board_id or board.serial) or "board"
    with _REGISTRY_LOCK:
        unique, n = base, 1
        while unique in _REGISTRY:
            n += 1
            unique = f"{base}-{n}"
        used = {p.address for p in _REGISTRY.values()}
        address = next((a for a in range(1, 128) if a not in used), None)
        if address is None:
            raise RuntimeError("the emulated USB bus is full (127 devices)")
        _REGISTRY[unique] = _Plugged(unique, board, address, kernel_driver)
    log.debug("plugged %s (serial %s) as %s:%s", board.product, board.serial, SCHEME, unique)
    return f"{SCHEME}:{unique}"


def unregister_board(board_id: str) -> None:
    """Unplug a board; open handles fail with ENODEV from now on. Unknown ids are ignored."""
    with _REGISTRY_LOCK:
        _REGISTRY.pop(board_id, None)


def registered_boards() -> dict[str, ReportBoard]:
    """The boards on the virtual bus, by id."""
    with _REGISTRY_LOCK:
        return {bid: p.board for bid, p in _REGISTRY.items()}


def device_match(board_id: str) -> dict[str, int]:
    """The ``usb.core.find`` keywords (bus, address) that pick one board by its id."""
    with _REGISTRY_LOCK:
        plugged = _REGISTRY.get(board_id)
        known = ", ".join(sorted(_REGISTRY)) or "none"
    if plugged is None:
        raise LookupError(f"no emulated USB relay board {board_id!r} (registered: {known})")
    return {"bus": BUS, "address": plugged.address}


# -- the pyusb backend -----------------------------------------------------------------------


def _usb_error(code: int, text: str) -> usb.core.USBError:
    return usb.core.USBError(text, error_code=-code, errno=code)


@dataclass(eq=False)
class _Handle:
    """What ``open_device`` returns: one host-side open of one plugged board."""

    plugged: _Plugged


def _device_descriptor(p: _Plugged) -> SimpleNamespace:
    return SimpleNamespace(
        bLength=18, bDescriptorType=usb.util.DESC_TYPE_DEVICE, bcdUSB=0x0110, bDeviceClass=0,
        bDeviceSubClass=0, bDeviceProtocol=0, bMaxPacketSize0=8, idVendor=VENDOR_ID,
        idProduct=PRODUCT_ID, bcdDevice=0x0100, iManufacturer=1, iProduct=2, iSerialNumber=0,
        bNumConfigurations=1, bus=BUS, address=p.address, port_number=p.address,
        port_numbers=(p.address,), speed=usb.util.SPEED_LOW,
    )


# HID class descriptor (HID 1.11 §6.2.1): HID 1.01, one report descriptor of 22 bytes.
_HID_DESCRIPTOR = bytes([9, 0x21, 0x01, 0x01, 0, 1, 0x22, 22, 0])
_CONFIG = SimpleNamespace(
    bLength=9, bDescriptorType=usb.util.DESC_TYPE_CONFIG, wTotalLength=34, bNumInterfaces=1,
    bConfigurationValue=1, iConfiguration=0, bmAttributes=0x80, bMaxPower=10,
    extra_descriptors=[],
)
_INTERFACE = SimpleNamespace(
    bLength=9, bDescriptorType=usb.util.DESC_TYPE_INTERFACE, bInterfaceNumber=0,
    bAlternateSetting=0, bNumEndpoints=1, bInterfaceClass=3, bInterfaceSubClass=0,
    bInterfaceProtocol=0, iInterface=0, extra_descriptors=list(_HID_DESCRIPTOR),
)
_ENDPOINT = SimpleNamespace(
    bLength=7, bDescriptorType=usb.util.DESC_TYPE_ENDPOINT, bEndpointAddress=0x81,
    bmAttributes=0x03, wMaxPacketSize=8, bInterval=20, bRefresh=0, bSynchAddress=0,
    extra_descriptors=[],
)


def _pack(d: SimpleNamespace, fields: str, layout: str) -> bytes:
    return struct.pack("<" + layout, *(getattr(d, f) for f in fields.split()))


class EmulatedUsbBackend(usb.backend.IBackend):
    """A pyusb backend whose bus holds the registered boards (VID:PID 16c0:05df)."""

    def enumerate_devices(self) -> Iterable[_Plugged]:
        with _REGISTRY_LOCK:
            return list(_REGISTRY.values())

    def get_parent(self, dev: _Plugged) -> None:
        return None

    def get_device_descriptor(self, dev: _Plugged) -> SimpleNamespace:
        return _device_descriptor(dev)

    def get_configuration_descriptor(self, dev: _Plugged, config: int) -> SimpleNamespace:
        self._index(config == 0, "configuration")
        return _CONFIG

    def get_interface_descriptor(
        self, dev: _Plugged, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        self._index((intf, alt, config) == (0, 0, 0), "interface")
        return _INTERFACE

    def get_endpoint_descriptor(
        self, dev: _Plugged, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        self._index((ep, intf, alt, config) == (0, 0, 0, 0), "endpoint")
        return _ENDPOINT

    def open_device(self, dev: _Plugged) -> _Handle:
        self._alive(dev)
        return _Handle(dev)

    def close_device(self, dev_handle: _Handle) -> None:
        if dev_handle.plugged.claimed_by is dev_handle:
            dev_handle.plugged.claimed_by = None

    def set_configuration(self, dev_handle: _Handle, config_value: int) -> None:
        self._alive(dev_handle.plugged)
        if config_value not in (0, 1):
            raise _usb_error(errno.EINVAL, "Invalid parameter")

    def get_configuration(self, dev_handle: _Handle) -> int:
        self._alive(dev_handle.plugged)
        return 1

    def set_interface_altsetting(self, dev_handle: _Handle, intf: int, altsetting: int) -> None:
        self._interface(dev_handle, intf)
        if altsetting != 0:
            raise _usb_error(errno.EINVAL, "Invalid parameter")

    def claim_interface(self, dev_handle: _Handle, intf: int) -> None:
        self._interface(dev_handle, intf)

    def release_interface(self, dev_handle: _Handle, intf: int) -> None:
        if dev_handle.plugged.claimed_by is dev_handle:
            dev_handle.plugged.claimed_by = None

    def is_kernel_driver_active(self, dev_handle: _Handle, intf: int) -> bool:
        return self._alive(dev_handle.plugged).kernel_driver

    def detach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        plugged = self._alive(dev_handle.plugged)
        if not plugged.kernel_driver:
            raise _usb_error(errno.ENOENT, "Entity not found")
        plugged.kernel_driver = False

    def attach_kernel_driver(self, dev_handle: _Handle, intf: int) -> None:
        plugged = self._alive(dev_handle.plugged)
        if plugged.claimed_by is not None:
            raise _usb_error(errno.EBUSY, "Resource busy")
        plugged.kernel_driver = True

    def clear_halt(self, dev_handle: _Handle, ep: int) -> None:
        self._alive(dev_handle.plugged)

    def reset_device(self, dev_handle: _Handle) -> None:
        self._alive(dev_handle.plugged)

    def intr_read(self, dev_handle: _Handle, ep: int, intf: int, buff: Any, timeout: int) -> int:
        self._interface(dev_handle, intf)
        # The boards never send on their interrupt endpoint.
        raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)

    def ctrl_transfer(
        self, dev_handle: _Handle, bmRequestType: int, bRequest: int, wValue: int,
        wIndex: int, data: Any, timeout: int,
    ) -> int:
        plugged = self._alive(dev_handle.plugged)
        request = (bmRequestType, bRequest)
        if request == (0x80, 0x06):  # GET_DESCRIPTOR
            return self._fill(data, self._descriptor(plugged, wValue >> 8, wValue & 0xFF, wIndex))
        if request == (0x80, 0x08):  # GET_CONFIGURATION
            return self._fill(data, b"\x01")
        if request == (0x80, 0x00):  # GET_STATUS: bus powered, no remote wake-up
            return self._fill(data, b"\x00\x00")
        if request == (0x21, 0x09) and wValue == 0x0300:  # HID SET_REPORT, feature report 0
            self._interface(dev_handle, wIndex & 0xFF)
            plugged.board.set_report(bytes(data))
            return len(data)
        if request == (0xA1, 0x01) and wValue == 0x0300:  # HID GET_REPORT, feature report 0
            self._interface(dev_handle, wIndex & 0xFF)
            return self._fill(data, plugged.board.feature_report())
        raise _usb_error(errno.EPIPE, "Pipe error")  # the device stalls what it does not know

    # -- helpers --------------------------------------------------------------------------------

    @staticmethod
    def _alive(plugged: _Plugged) -> _Plugged:
        with _REGISTRY_LOCK:
            if _REGISTRY.get(plugged.board_id) is not plugged:
                raise _usb_error(errno.ENODEV, "No such device (it may have been disconnected)")
        return plugged

    def _interface(self, dev_handle: _Handle, intf: int) -> None:
        """Claim (or check the claim of) interface 0, as usbfs does for class requests."""
        plugged = self._alive(dev_handle.plugged)
        if intf != 0:
            raise _usb_error(errno.ENOENT, "Entity not found")
        if plugged.claimed_by is dev_handle:
            return
        if plugged.kernel_driver or plugged.claimed_by is not None:
            raise _usb_error(errno.EBUSY, "Resource busy")
        plugged.claimed_by = dev_handle

    @staticmethod
    def _index(ok: bool, what: str) -> None:
        if not ok:
            raise IndexError(f"the emulated relay has no such {what}")

    @staticmethod
    def _descriptor(plugged: _Plugged, kind: int, index: int, langid: int) -> bytes:
        if kind == usb.util.DESC_TYPE_DEVICE:
            return _pack(_device_descriptor(plugged), "bLength bDescriptorType bcdUSB "
                         "bDeviceClass bDeviceSubClass bDeviceProtocol bMaxPacketSize0 idVendor "
                         "idProduct bcdDevice iManufacturer iProduct iSerialNumber "
                         "bNumConfigurations", "BBHBBBBHHHBBBB")
        if kind == usb.util.DESC_TYPE_CONFIG:
            return (
                _pack(_CONFIG, "bLength bDescriptorType wTotalLength bNumInterfaces "
                      "bConfigurationValue iConfiguration bmAttributes bMaxPower", "BBHBBBBB")
                + _pack(_INTERFACE, "bLength bDescriptorType bInterfaceNumber "
                        "bAlternateSetting bNumEndpoints bInterfaceClass bInterfaceSubClass "
                        "bInterfaceProtocol iInterface", "BBBBBBBBB")
                + _HID_DESCRIPTOR
                + _pack(_ENDPOINT, "bLength bDescriptorType bEndpointAddress bmAttributes "
                        "wMaxPacketSize bInterval", "BBBBHB")
            )
        if kind == usb.util.DESC_TYPE_STRING:
            if index == 0:
                return bytes([4, 3, 0x09, 0x04])  # one language: en-US
            text = {1: MANUFACTURER, 2: plugged.board.product}.get(index)
            if text is not None and langid == 0x0409:
                encoded = text.encode("utf-16-le")
                return bytes([2 + len(encoded), 3]) + encoded
        raise _usb_error(errno.EPIPE, "Pipe error")

    @staticmethod
    def _fill(buffer: Any, payload: bytes) -> int:
        n = min(len(buffer), len(payload))
        buffer[:n] = type(buffer)(buffer.typecode, payload[:n])
        return n


BACKEND = EmulatedUsbBackend()
"""The one backend the relay driver uses for ``usb-emulated:`` addresses."""
