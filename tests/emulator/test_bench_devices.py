"""The emulated bench builds each slot's device from its model, seed and faults."""

from __future__ import annotations

from typing import Any

from harness.config.models import BenchConfig, InstrumentConfig
from harness.drivers.power.scpi import ScpiPowerSupply
from harness.emulator.bench import EmulatedBench
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import CommsHub, Esme


def config(faults: list[str]) -> BenchConfig:
    slot: dict[str, Any] = {"device_type": "ESME", "instruments": {"power": "psu:1"},
                            "emulation": {"model": "EMU-ESME-2", "seed": 4, "faults": faults}}
    return BenchConfig.model_validate({
        "bench": {"name": "t"},
        "instruments": {"psu": {"kind": "power", "backend": "scpi", "emulated": True,
                                "options": {"channels": 2}}},
        "slots": {"esme": slot, "ch": {"device_type": "CHF",
                                       "instruments": {"power": "psu:2"}}},
    })


def idle_current_over_the_wire(faults: list[str]) -> float:
    clock = ManualClock()
    with EmulatedBench(config(faults), clock=clock) as bench:
        esme, hub = bench.devices["esme"], bench.devices["ch"]
        assert isinstance(esme, Esme) and esme.model.name == "EMU-ESME-2" and esme.seed == 4
        assert isinstance(hub, CommsHub) and hub.model.name == "EMU-CH-1"
        inst = InstrumentConfig(kind="power", backend="scpi", address=bench.addresses["psu"],
                                options={"channels": 2})
        with ScpiPowerSupply("psu", inst) as psu:
            ch = psu.channel(1)
            ch.set_voltage(230.0)
            ch.set_current_limit(2.0)
            ch.on()
            clock.advance(2.0)
            return ch.current()


def test_slot_faults_show_on_the_supply() -> None:
    healthy = idle_current_over_the_wire([])
    leaky = idle_current_over_the_wire(["excessive_standby_current"])
    assert 0.005 < healthy < 0.05 < leaky
