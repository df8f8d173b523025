"""The emulated ZigBee side of a bench: a radio world and a Telegesis dongle on loopback.

``serve_dongle`` is what ``EmulatedBench`` calls for an ``emulated = true`` instrument of
kind ``zigbee``.  Bench options it reads (all optional): ``seed`` (channel noise),
``eui64`` (the dongle's own), ``signal_dbm`` (a table slot -> dBm at the dongle, e.g. a weak
link), ``join_delay_s`` (how long a waiting meter takes to try a newly opened window, in the meter's
seconds: a fast bench divides it by its time scale, as the EZSP twin does).
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from harness.config.models import InstrumentConfig
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.faults import stable_seed
from harness.emulator.zigbee.engine import TelegesisEngine
from harness.emulator.zigbee.radio import RadioWorld
from harness.emulator.zigbee.server import TelegesisDongleServer
from harness.errors import BackendUnavailableError

__all__ = ["RadioWorld", "TelegesisDongleServer", "TelegesisEngine", "serve_dongle"]

TELEGESIS_OUI = "000D6F"  # Ember / Silicon Labs, as on ETRX357 modules


def serve_dongle(name: str, inst: InstrumentConfig, devices: Mapping[str, EmulatedDevice],
                 host: str = "127.0.0.1", time_scale: float = 1.0) -> TelegesisDongleServer:
    """An emulated dongle for instrument ``name`` whose radio world holds ``devices``
    (``time_scale``: a fast bench's, by which the meters' join delay shrinks)."""
    if inst.backend != "telegesis":
        raise BackendUnavailableError(
            f"instruments.{name}: the emulator serves zigbee backend 'telegesis' only, "
            f"not {inst.backend!r}", instrument=name, backend=inst.backend)
    options = inst.options
    seed = int(options.get("seed", 0))
    world = RadioWorld(devices, seed=seed, signal_dbm=options.get("signal_dbm"))
    rng = random.Random(stable_seed(seed, "dongle-eui64", name))
    eui64 = str(options.get("eui64") or f"{TELEGESIS_OUI}{rng.getrandbits(40):010X}")
    engine = TelegesisEngine(world, eui64, seed=seed,
                             join_delay_s=float(options.get("join_delay_s", 0.3)),
                             time_scale=time_scale)
    return TelegesisDongleServer(engine, host, inst.emulator.port)
