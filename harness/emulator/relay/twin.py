"""The emulated twin of the ``usb-hid`` relay backend: a USB HID relay board on loopback
(entry point ``meterbench.emulated.relay``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator.relay.usb_hid import EmulatedRelayServer, serve_relay

if TYPE_CHECKING:
    from harness.config.models import InstrumentConfig
    from harness.emulator.bench import EmulatedBench


def usb_hid(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> EmulatedRelayServer:
    """A USB HID relay board ``name``, logging its commands to the bench's command log."""
    return serve_relay(name, inst, bench.command_log)
