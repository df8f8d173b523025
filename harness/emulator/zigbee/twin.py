"""The emulated twin of the ``telegesis`` ZigBee backend: a dongle whose radio world holds every
slot's device (entry point ``meterbench.emulated.zigbee``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator.zigbee import serve_dongle
from harness.emulator.zigbee.server import TelegesisDongleServer

if TYPE_CHECKING:
    from harness.config.models import InstrumentConfig
    from harness.emulator.bench import EmulatedBench


def telegesis(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> TelegesisDongleServer:
    """The Telegesis dongle ``name`` on the bench's host."""
    return serve_dongle(name, inst, bench.devices, bench.host,
                        time_scale=bench.config.bench.time_scale)
