"""The emulated twin of the ``scpi`` power backend: an SCPI supply whose channels feed the
emulated devices of the slots that name them (entry point ``meterbench.emulated.power``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.emulator.power.scpi import ScpiSupplyServer, SupplyChannel, SupplyState
from harness.errors import BenchConfigError

if TYPE_CHECKING:
    from harness.config.models import InstrumentConfig
    from harness.emulator.bench import EmulatedBench


def scpi(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> ScpiSupplyServer:
    """The supply ``name``: options ``channels`` (1), ``rated_voltage``, ``rated_current``,
    ``identity``; registered in ``bench.supplies`` so device swaps and the front panel reach it."""
    count = int(inst.options.get("channels", 1))
    channels = {
        n: SupplyChannel(
            number=n,
            max_voltage=float(inst.options.get("rated_voltage", 300.0)),
            max_current=float(inst.options.get("rated_current", 3.0)),
        )
        for n in range(1, count + 1)
    }
    for slot_name, slot in bench.config.slots.items():
        ref = slot.instruments.get("power")
        if ref is None or ref.instrument != name:
            continue
        number = ref.channel or 1
        if number not in channels:
            raise BenchConfigError(
                f"channel {number} does not exist on {name!r} ({count} channels)",
                key_path=f"slots.{slot_name}.instruments.power",
            )
        channels[number].device = bench.devices[slot_name]
    state = SupplyState(
        identity=inst.options.get("identity", f"meterbench,Emulated PSU {count}CH,EMU-{name},0.1"),
        channels=channels,
        name=name,
        command_log=bench.command_log,
    )
    bench.supplies[name] = state
    return ScpiSupplyServer(state, bench.host, inst.emulator.port)
