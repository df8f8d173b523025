"""The emulated twin of the ``duis`` DCC backend: the emulated DCC, reaching every slot's device
through its hub and following device swaps (entry point ``meterbench.emulated.dcc``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator.dcc import serve_dcc
from harness.emulator.dcc.environment import EmulatedDcc

if TYPE_CHECKING:
    from harness.config.models import InstrumentConfig
    from harness.emulator.bench import EmulatedBench


def duis(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> EmulatedDcc:
    """The emulated DCC ``name``; it follows :meth:`EmulatedBench.present` swaps."""
    dcc = serve_dcc(name, inst, bench.devices, bench.clock, bench.host)
    bench.present_listeners.append(dcc.on_present)
    return dcc
