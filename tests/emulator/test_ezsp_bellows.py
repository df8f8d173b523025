"""Interop: bellows, the open-source EZSP host stack of zigpy (GPL-3.0, so never a dependency
of meterbench), resets the emulated NCP over ASH, reads its version and runs an energy scan.

bellows is installed by this test in its own throwaway virtual environment under tmp (pinned
to the version tried, ``MB_BELLOWS_SPEC`` to try another); the test is skipped when PyPI
cannot be reached.  ``_bellows_probe.py`` runs in that environment against the NCP's
``socket://`` port and prints what bellows saw."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from harness.domain.types import DeviceType
from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.ezsp.server import EzspNcpServer
from harness.emulator.world.models import create_device
from harness.emulator.zigbee import RadioWorld

BELLOWS = os.environ.get("MB_BELLOWS_SPEC", "bellows==1.2.1")
PROBE = Path(__file__).with_name("_bellows_probe.py")


@pytest.fixture(scope="module")
def bellows_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Python with bellows installed, in a virtual environment of its own."""
    where = tmp_path_factory.mktemp("bellows-venv")
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / ("Scripts" if sys.platform == "win32" else "bin") / "python"
    try:
        proc = subprocess.run([str(python), "-m", "pip", "install", "-q",
                               "--disable-pip-version-check", BELLOWS],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip(f"PyPI unreachable: installing {BELLOWS} took over 600 s")
    if proc.returncode != 0:
        pytest.skip(f"PyPI unreachable or {BELLOWS} not installable: {proc.stderr[-500:]}")
    return python


@pytest.mark.parametrize("version", [8, 13])
def test_bellows_resets_reads_the_version_and_energy_scans(bellows_python: Path,
                                                           version: int) -> None:
    """Over ASH on socket://, EZSP 8 and 13: bellows' own reset and version negotiation, then
    its energy scan reads each channel's energy of the radio world, the hub's channel too."""
    hub = create_device("ch", DeviceType.CHF, seed=3)
    hub.supply(hub.nominal_voltage)
    deadline = time.monotonic() + 5
    while not hub.ready and time.monotonic() < deadline:
        time.sleep(0.01)
    world = RadioWorld({"ch": hub}, seed=0)
    server = EzspNcpServer(EzspNcpEngine(world, "000D6F0000ABCDEF",
                                         protocol_version=version))
    server.start()
    try:
        proc = subprocess.run([str(bellows_python), str(PROBE), server.resource],
                              capture_output=True, text=True, timeout=60)
    finally:
        server.stop()
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["version"] == version
    assert seen["energy"] == {str(ch): round(world.energy_dbm(ch)) for ch in range(11, 27)}
    assert seen["energy"][str(hub.channel)] > round(world.noise_dbm[hub.channel])
