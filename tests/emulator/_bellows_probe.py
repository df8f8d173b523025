"""Run inside a throwaway virtual environment holding bellows (GPL-3.0, never a dependency of
meterbench): reset the EZSP NCP at the serial URL given over ASH, read its version, run an
energy scan, and print what bellows saw as one JSON line."""

from __future__ import annotations

import asyncio
import json
import sys

import bellows.types as t
import zigpy.config
from bellows.ezsp import EZSP


async def main(url: str) -> dict[str, object]:
    """bellows' own start-up (RST, RSTACK, version negotiation), then startScan(ENERGY)."""
    config = zigpy.config.SCHEMA_DEVICE({zigpy.config.CONF_DEVICE_PATH: url,
                                         zigpy.config.CONF_DEVICE_BAUDRATE: 115200})
    ezsp = EZSP(config)
    await ezsp.connect(use_thread=False)
    try:
        version = ezsp.ezsp_version
        results = await ezsp.startScan(scanType=t.EzspNetworkScanType.ENERGY_SCAN,
                                       channelMask=t.Channels.ALL_CHANNELS, duration=1)
    finally:
        await ezsp.disconnect()
    return {"version": version,
            "energy": {int(channel): int(rssi) for channel, rssi in results}}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1]))))
