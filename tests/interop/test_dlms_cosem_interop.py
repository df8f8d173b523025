"""Interoperability: an independent DLMS client reads our emulated meter from outside the
project. dlms-cosem 21.3.2 (MIT; later releases are under the Business Source License and are
not used) runs in its own process, importing nothing of meterbench, over the meter's
``socket://`` and ``rfc2217://`` optical port: HDLC straight away, public client 0x10,
server 1, no authentication; it reads the clock, the serial number and the import register.
Over HLS-GMAC too (management client 0x01, the meter's own keys; dlms-cosem 21.3.2 does HLS
only in the ciphered context): the same reads plus a non-public one, and a wrong key refused."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.server import OpticalPortServer
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.models import create_device

READER = Path(__file__).with_name("read_with_dlms_cosem.py")


@pytest.fixture
def registers() -> DeviceRegisters:
    clock = ManualClock()
    device = create_device("esme", "ESME", clock=clock, seed=5)
    device.supply(230.0)
    clock.advance(5.0)
    device.commission_with_consumer_data(days=2)
    return registers_for_device(device)


@pytest.fixture
def server(registers: DeviceRegisters) -> Iterator[OpticalPortServer]:
    srv = OpticalPortServer(registers, registers.device.clock)
    srv.start()
    yield srv
    srv.stop()


@pytest.mark.parametrize("transport", ["socket", "rfc2217"])
def test_dlms_cosem_reads_clock_serial_and_energy(server: OpticalPortServer,
                                                  registers: DeviceRegisters,
                                                  transport: str) -> None:
    run = subprocess.run([sys.executable, str(READER), server.addresses[transport]],
                         capture_output=True, text=True, timeout=25, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    read = json.loads(run.stdout)
    device = registers.device
    assert read["serial"] == device.identity.serial == registers.read("0.0.1")
    assert read["energy"] == device.consumer_data().import_register
    assert f"{read['energy'] / 1000:.3f}" == registers.read("1.8.0")  # the mode C twin's value
    assert read["scaler_unit"] == [0, 30]  # 10^0 Wh
    clock = bytes.fromhex(read["clock"])
    when = datetime.datetime(int.from_bytes(clock[:2], "big"), clock[2], clock[3], clock[5],
                             clock[6], clock[7], tzinfo=datetime.UTC)
    assert clock[9:11] == b"\x00\x00"  # deviation 0: UTC
    assert abs((when - device.clock_time()).total_seconds()) < 2


def test_dlms_cosem_reads_over_hls_gmac(server: OpticalPortServer,
                                       registers: DeviceRegisters) -> None:
    keys = registers.dlms_keys
    run = subprocess.run([sys.executable, str(READER), server.addresses["socket"],
                          keys.encryption_key.hex(), keys.authentication_key.hex()],
                         capture_output=True, text=True, timeout=25, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    read = json.loads(run.stdout)
    device = registers.device
    assert read["serial"] == device.identity.serial
    assert read["energy"] == device.consumer_data().import_register
    assert read["event_log_entries"] == len(device.read_log("event"))  # management only
    assert read["meter_system_title"] == keys.system_title.hex().upper()
    assert keys.client_title == b"DLMSCOSM"  # the meter saw dlms-cosem's system title


def test_dlms_cosem_with_a_wrong_key_is_refused(server: OpticalPortServer,
                                               registers: DeviceRegisters) -> None:
    keys = registers.dlms_keys
    run = subprocess.run([sys.executable, str(READER), server.addresses["socket"],
                          keys.encryption_key.hex(), bytes(16).hex()],
                         capture_output=True, text=True, timeout=25, check=False)
    assert run.returncode != 0
    # the glo-initiateRequest in its AARQ does not decipher with the meter's keys: rejected
    assert "Unable to perform Association" in run.stderr, run.stderr[-2000:]
    assert "REJECTED_PERMANENT" in run.stderr
