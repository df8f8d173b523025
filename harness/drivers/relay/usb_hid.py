"""The common "USBRelay" HID boards (V-USB, 16c0:05df, product ``USBRelayN``) over pyusb.

The boards speak HID feature reports on endpoint 0: SET_REPORT ``[0xFF, ch]`` closes a
contact, ``[0xFD, ch]`` opens it, ``[0xFE]`` / ``[0xFC]`` switch them all; GET_REPORT answers
the board's 5-character serial (bytes 0..4) and a bitmask of contacts (byte 7, bit 0 =
channel 1). They have no USB serial string, so a board is chosen by the serial in that report.

Addresses: ``usb:16c0:05df`` (the first board), ``usb:16c0:05df:SERIAL`` (a board by its
serial), ``usb-emulated:<board-id>`` or ``usb-emulated:16c0:05df[:SERIAL]`` (boards of
:mod:`harness.emulator.relay.usb_hid`, reached through the same pyusb calls on its backend).
"""

from __future__ import annotations

import errno
import importlib
import re
from dataclasses import dataclass, field
from typing import Any

import usb.core
import usb.util

from harness.drivers.relay.base import Relay
from harness.errors import (
    InstrumentConnectError,
    InstrumentTimeoutError,
    OperationError,
)

VENDOR_ID = 0x16C0
PRODUCT_ID = 0x05DF
PRODUCT_PREFIX = "USBRelay"

# HID class requests on interface 0 (HID 1.11 §7.2); wValue = report type 3 (feature) << 8.
_SET_REPORT = (0x21, 0x09)
_GET_REPORT = (0xA1, 0x01)
_FEATURE_REPORT = 0x0300
_REPORT_LEN = 8
_INTERFACE = 0

CMD_ON = 0xFF
CMD_OFF = 0xFD
CMD_ALL_ON = 0xFE
CMD_ALL_OFF = 0xFC

_SCHEMES = {"usb": None, "usb-emulated": "harness.emulator.relay.usb_hid"}
_HEX4 = re.compile(r"^[0-9A-Fa-f]{4}$")


@dataclass(frozen=True)
class UsbRelayAddress:
    """A parsed address: which pyusb backend, which VID:PID, which serial or emulated board."""

    emulated: bool
    vid: int = VENDOR_ID
    pid: int = PRODUCT_ID
    serial: str | None = None
    board_id: str | None = None
    match: dict[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> UsbRelayAddress:
        """Parse ``usb:VID:PID[:SERIAL]``, ``usb-emulated:VID:PID[:SERIAL]`` or
        ``usb-emulated:BOARD-ID``; raise ``ValueError`` saying what was expected."""
        scheme, _, rest = text.partition(":")
        if scheme not in _SCHEMES or not rest:
            raise ValueError(
                f"not a USB relay address: {text!r} (expected usb:16c0:05df[:SERIAL] "
                "or usb-emulated:<board-id>)"
            )
        emulated = scheme == "usb-emulated"
        parts = rest.split(":")
        if len(parts) in (2, 3) and _HEX4.match(parts[0]) and _HEX4.match(parts[1]):
            serial = parts[2] if len(parts) == 3 and parts[2] else None
            return cls(emulated, int(parts[0], 16), int(parts[1], 16), serial)
        if emulated and len(parts) == 1:
            return cls(True, board_id=parts[0])
        raise ValueError(
            f"not a USB relay address: {text!r} (expected {scheme}:16c0:05df[:SERIAL])"
        )


class UsbHidRelay(Relay):
    """A USBRelay HID board; bench options: ``channels`` (default from the product string)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Each control transfer is one discrete report: never join two into one entry.
        self.transcript.merge_s = 0.0
        self._dev: Any = None
        self._product = ""
        self._serial = ""
        self._count = 0
        self._detached = False

    @property
    def serial(self) -> str:
        """The connected board's serial, from its feature report."""
        return self._serial

    # -- link ----------------------------------------------------------------------------------

    def _open_internal(self) -> None:
        try:
            target = UsbRelayAddress.parse(self.address)
        except ValueError as exc:
            raise self._connect_error(str(exc)) from None
        backend, match = self._backend_for(target)
        where = f"{target.vid:04x}:{target.pid:04x}"
        try:
            candidates = list(usb.core.find(find_all=True, backend=backend, idVendor=target.vid,
                                            idProduct=target.pid, **match))
        except usb.core.NoBackendError:
            raise self._connect_error(
                "no libusb backend is available to pyusb: install libusb-1.0 "
                "(e.g. apt install libusb-1.0-0)"
            ) from None
        except usb.core.USBError as exc:
            raise self._connect_error(f"cannot list USB devices: {exc}") from None
        found: list[str] = []
        for dev in candidates:
            product, problem = self._product_of(dev)
            if problem is not None:
                found.append(f"? ({problem})")
            if product is None:
                continue
            try:
                self._claim(dev)
                serial = self._feature_serial(dev)
                if target.serial is None or serial == target.serial:
                    self._count = self._channels_of(product)
                    self._dev, self._product, self._serial = dev, product, serial
                    self.log.debug("using %s serial %s at %s", product, serial, self.address)
                    return
            except usb.core.USBError as exc:
                found.append(f"? ({self._usb_problem(exc)})")
            except OperationError as exc:
                found.append(f"? ({exc.message.removeprefix(self.name + ': ')})")
            except BaseException:
                self._release(dev)
                raise
            else:
                found.append(serial)
            self._release(dev)
        wanted = f" with serial {target.serial}" if target.serial else ""
        seen = f" (found: {', '.join(found)})" if found else ""
        raise self._connect_error(f"no USB relay {where}{wanted} found{seen}")

    def _backend_for(self, target: UsbRelayAddress) -> tuple[Any, dict[str, int]]:
        """pyusb's own backend for ``usb:``; the emulator's backend for ``usb-emulated:``."""
        if not target.emulated:
            return None, {}
        emulator = importlib.import_module(_SCHEMES["usb-emulated"] or "")
        if target.board_id is None:
            return emulator.BACKEND, {}
        try:
            return emulator.BACKEND, emulator.device_match(target.board_id)
        except LookupError as exc:
            raise self._connect_error(str(exc.args[0] if exc.args else exc)) from None

    def _product_of(self, dev: Any) -> tuple[str | None, str | None]:
        """(product, None) for a USBRelay board; (None, None) for another V-USB device that
        shares the VID:PID; (None, problem) when the product string cannot be read."""
        try:
            product = dev.product or ""
        except (usb.core.USBError, ValueError) as exc:
            self.log.debug("cannot read the product string of %s: %s", dev, exc)
            return None, self._usb_problem(exc)
        return (product if product.startswith(PRODUCT_PREFIX) else None), None

    def _channels_of(self, product: str) -> int:
        digits = product[len(PRODUCT_PREFIX):]
        if digits.isdigit() and 1 <= int(digits) <= 8:
            return int(digits)
        if self.config.options.get("channels") is not None:
            return int(self.config.options["channels"])
        raise self._connect_error(
            f"cannot tell how many channels {product!r} has: set options.channels in the bench"
        )

    def _claim(self, dev: Any) -> None:
        """Take interface 0 from the kernel's usbhid driver (real boards are bound to it)."""
        self._detached = False
        try:
            if dev.is_kernel_driver_active(_INTERFACE):
                dev.detach_kernel_driver(_INTERFACE)
                self._detached = True
        except NotImplementedError:  # backends without kernel drivers (Windows, macOS)
            pass
        usb.util.claim_interface(dev, _INTERFACE)

    def _release(self, dev: Any) -> None:
        """Give the board back as found: release, re-attach usbhid, free the handle."""
        try:
            usb.util.release_interface(dev, _INTERFACE)
            if self._detached:
                dev.attach_kernel_driver(_INTERFACE)
        except (usb.core.USBError, NotImplementedError):
            self.log.debug("ignoring error while releasing %s", dev, exc_info=True)
        finally:
            self._detached = False
            try:
                usb.util.dispose_resources(dev)
            except usb.core.USBError:
                self.log.debug("ignoring error while disposing %s", dev, exc_info=True)

    def _close_internal(self) -> None:
        if self._dev is not None:
            self._release(self._dev)
        self._dev = None

    def _connect_error(self, message: str) -> InstrumentConnectError:
        return InstrumentConnectError(
            f"{self.name}: {message}", instrument=self.name, address=self.address
        )

    # -- feature reports -----------------------------------------------------------------------

    def _send(self, command: int, channel: int = 0) -> None:
        """One SET_REPORT carrying an 8-byte command."""
        report = bytes([command, channel]).ljust(_REPORT_LEN, b"\0")
        self.transcript.record(">", report)
        try:
            written = self._dev.ctrl_transfer(*_SET_REPORT, _FEATURE_REPORT, _INTERFACE, report,
                                              self._timeout_ms)
        except usb.core.USBError as exc:
            raise self._operation_error(exc, f"SET_REPORT {report.hex(' ')}") from None
        if written != _REPORT_LEN:
            raise OperationError(
                f"{self.name}: SET_REPORT wrote {written} of {_REPORT_LEN} bytes",
                instrument=self.name,
            )

    def _report(self, dev: Any = None) -> bytes:
        """One GET_REPORT: serial in bytes 0..4, contact bitmask in byte 7."""
        dev = dev if dev is not None else self._dev
        try:
            data = bytes(dev.ctrl_transfer(*_GET_REPORT, _FEATURE_REPORT, _INTERFACE, _REPORT_LEN,
                                           self._timeout_ms))
        except usb.core.USBError as exc:
            raise self._operation_error(exc, "GET_REPORT") from None
        self.transcript.record("<", data)
        if len(data) != _REPORT_LEN:
            raise OperationError(
                f"{self.name}: GET_REPORT answered {len(data)} bytes, expected {_REPORT_LEN}",
                instrument=self.name,
            )
        return data

    def _feature_serial(self, dev: Any) -> str:
        return self._report(dev)[:5].rstrip(b"\0").decode("ascii", "replace")

    @property
    def _timeout_ms(self) -> int:
        return max(1, int(self.config.timeout_s * 1000))

    def _operation_error(self, exc: usb.core.USBError, what: str) -> Exception:
        message = f"{self.name}: {what} failed: {self._usb_problem(exc)}"
        if isinstance(exc, usb.core.USBTimeoutError):
            return InstrumentTimeoutError(message, instrument=self.name)
        return OperationError(message, instrument=self.name, errno=exc.errno)

    @staticmethod
    def _usb_problem(exc: Exception) -> str:
        code = getattr(exc, "errno", None)
        if code == errno.ENODEV:
            return "the board is gone (unplugged?)"
        if code == errno.EACCES:
            return "permission denied (add a udev rule for 16c0:05df)"
        if code == errno.EBUSY:
            return "the board is in use by another program"
        return str(exc)

    # -- hooks ---------------------------------------------------------------------------------

    def _identify_internal(self) -> str:
        return f"{self._product} serial {self._serial}"

    def _board_channels(self) -> int:
        if not self._count:
            raise OperationError(f"{self.name}: not open", instrument=self.name)
        return self._count

    def _set_channel(self, channel: int, on: bool) -> None:
        self._send(CMD_ON if on else CMD_OFF, channel)

    def _set_all(self, on: bool) -> None:
        self._send(CMD_ALL_ON if on else CMD_ALL_OFF)

    def _read_states(self) -> dict[int, bool]:
        mask = self._report()[7]
        return {ch: bool(mask >> (ch - 1) & 1) for ch in range(1, self._count + 1)}
