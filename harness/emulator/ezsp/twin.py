"""The emulated twin of the ``ezsp`` ZigBee backend: an EmberZNet NCP whose radio world holds
every slot's device (entry point ``meterbench.emulated.zigbee``).

Bench options it reads (all optional), as the Telegesis twin: ``seed`` (channel noise),
``eui64`` (the NCP's own), ``signal_dbm`` (a table slot -> dBm at the NCP, e.g. a weak link),
``join_delay_s``; and ``ncp_protocol_version`` (the EZSP version the NCP speaks, default 8).
The NCP holds an install code of its own in its manufacturing token, drawn from the seed.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.ezsp.server import EzspNcpServer
from harness.emulator.world.faults import stable_seed
from harness.emulator.zigbee.radio import RadioWorld
from harness.protocols.installcode import InstallCode

if TYPE_CHECKING:
    from harness.config.models import InstrumentConfig
    from harness.emulator.bench import EmulatedBench

SILABS_OUI = "000D6F"


def ezsp(bench: EmulatedBench, name: str, inst: InstrumentConfig) -> EzspNcpServer:
    """The EZSP NCP ``name`` on the bench's host, in the radio world of the bench's devices."""
    options = inst.options
    seed = int(options.get("seed", 0))
    world = RadioWorld(bench.devices, seed=seed, signal_dbm=options.get("signal_dbm"))
    rng = random.Random(stable_seed(seed, "ncp-eui64", name))
    eui64 = str(options.get("eui64") or f"{SILABS_OUI}{rng.getrandbits(40):010X}")
    engine = EzspNcpEngine(world, eui64,
                           protocol_version=int(options.get("ncp_protocol_version", 8)),
                           time_scale=bench.config.bench.time_scale,
                           install_code=InstallCode.generate(random.Random(
                               stable_seed(seed, "ncp-install-code", eui64))))
    engine.trust_centre.join_delay_s = float(options.get("join_delay_s", 0.3))
    return EzspNcpServer(engine, bench.host, inst.emulator.port)
