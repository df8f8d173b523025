"""Emulated twins are found per (kind, backend) through entry points, as drivers are.

A third-party backend registered in-process (as tests/test_registry.py registers fake
backends) serves its own emulated instrument; an emulated backend without a twin is a bench
error naming file and key path, where it used to get the built-in SCPI supply silently.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from harness import registry
from harness.bench.session import BenchSession
from harness.config.loader import load_bench
from harness.config.models import BenchConfig
from harness.emulator.bench import EmulatedBench, twin_for
from harness.errors import BenchConfigError

ACME_TWIN = '''
"""A third-party package's emulated twin of its own power backend 'acme'."""
CALLS = []


class AcmeServer:
    def __init__(self, name):
        self.name = name
        self.running = False

    @property
    def resource(self):
        return f"TCPIP::127.0.0.1::7::SOCKET::{self.name}"

    def start(self):
        self.running = True

    def stop(self):
        self.running = False


def acme(bench, name, inst):
    server = AcmeServer(name)
    CALLS.append((bench, name, inst.backend, server))
    return server
'''

BENCH = """
[bench]
name = "acme-bench"

[instruments.psu]
kind = "power"
backend = "acme"
emulated = true
options = { channels = 1 }

[slots.a]
device_type = "ESME"
instruments = { power = "psu:1" }
"""

Register = Callable[..., None]


@pytest.fixture
def register(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Register:
    """Register extra entry points in-process, on top of the installed ones."""
    extra: dict[str, dict[str, EntryPoint]] = {}
    installed = registry._entry_points
    monkeypatch.setattr(registry, "_entry_points",
                        lambda kind: {**installed(kind), **extra.get(kind, {})})
    monkeypatch.syspath_prepend(str(tmp_path))

    def add(kind: str, name: str, value: str) -> None:
        group = registry.group_for(kind)
        extra.setdefault(kind, {})[name] = EntryPoint(name=name, value=value, group=group)

    return add


@pytest.fixture
def acme_driver(register: Register) -> Register:
    """The 'acme' power backend's driver (an SCPI supply as far as the loader cares)."""
    register("power", "acme", "harness.drivers.power.scpi:ScpiPowerSupply")
    return register


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "acme.toml"
    path.write_text(text)
    return path


def test_every_builtin_backend_has_an_emulated_twin() -> None:
    for kind in ("power", "relay", "optical_probe", "zigbee", "dcc"):
        drivers = registry.known_backends(kind)
        assert drivers, kind
        assert registry.known_backends(registry.twin_kind(kind)) == drivers, kind


def test_a_third_party_twin_serves_its_own_backend(tmp_path: Path, acme_driver: Register
                                                  ) -> None:
    (tmp_path / "mb_acme_twin.py").write_text(ACME_TWIN)
    acme_driver("emulated.power", "acme", "mb_acme_twin:acme")
    path = write(tmp_path, BENCH)
    session = BenchSession.from_file(path)
    emulator = session.start_emulator()
    assert emulator is not None
    calls = sys.modules["mb_acme_twin"].CALLS
    try:
        assert [(bench, name, backend) for bench, name, backend, _ in calls] == [
            (emulator, "psu", "acme")]
        server = calls[0][3]
        assert server.running
        assert emulator.addresses == {"psu": "TCPIP::127.0.0.1::7::SOCKET::psu"}
        assert emulator.supplies == {}  # the built-in SCPI supply was not started
    finally:
        session.close()
    assert not server.running


def test_an_emulated_backend_without_a_twin_is_a_bench_error(tmp_path: Path,
                                                             acme_driver: Register) -> None:
    path = write(tmp_path, BENCH)
    with pytest.raises(BenchConfigError) as info:
        load_bench(path)
    err = info.value
    assert (err.file, err.key_path) == (str(path), "instruments.psu.backend")
    assert "no emulated twin is registered for power backend 'acme'" in str(err)
    assert "one of scpi" in str(err)
    # The same instrument as real hardware needs no twin.
    real = BENCH.replace("emulated = true", 'address = "TCPIP::127.0.0.1::1::SOCKET"')
    assert not load_bench(write(tmp_path, real)).emulated


def test_the_emulated_bench_refuses_it_too_before_starting_anything(
        tmp_path: Path, acme_driver: Register) -> None:
    """A config built without the loader (as tests and scripts do) meets the same check."""
    config = BenchConfig.model_validate(
        {"bench": {"name": "acme"},
         "instruments": {"psu": {"kind": "power", "backend": "acme", "emulated": True}},
         "slots": {"a": {"device_type": "ESME", "instruments": {"power": "psu:1"}}}})
    bench = EmulatedBench(config, source="acme.toml")
    with pytest.raises(BenchConfigError, match=r"^acme.toml: instruments.psu.backend: "):
        bench.start()
    assert bench.servers == {} and bench.devices == {}
    with pytest.raises(BenchConfigError, match="no emulated twin"):
        twin_for("psu", config.instruments["psu"])


def test_a_kind_without_any_twin_names_the_group_a_package_would_register(
        tmp_path: Path, register: Register) -> None:
    assert registry.known_backends(registry.twin_kind("ble_probe")) == []
    register("ble_probe", "acme", "harness.drivers.power.scpi:ScpiPowerSupply")
    text = BENCH.replace('kind = "power"', 'kind = "ble_probe"').replace(
        'instruments = { power = "psu:1" }', "")
    with pytest.raises(BenchConfigError) as info:
        load_bench(write(tmp_path, text))
    assert info.value.key_path == "instruments.psu.backend"
    assert "entry-point group 'meterbench.emulated.ble_probe'" in str(info.value)


def test_each_optical_backend_gets_its_own_twin() -> None:
    """serial and ble probes on one bench: each served by its backend's twin, and a device
    swap reaches the probe in front of it (its server takes the new device's registers)."""
    pytest.importorskip("bumble")
    from harness.emulator.optical.ble_peripheral import BleOpticalPortServer
    from harness.emulator.optical.server import OpticalPortServer
    from harness.emulator.world.models import create_device

    config = BenchConfig.model_validate(
        {"bench": {"name": "probes"},
         "instruments": {
             "wired": {"kind": "optical_probe", "backend": "serial", "emulated": True},
             "air": {"kind": "optical_probe", "backend": "ble", "emulated": True}},
         "slots": {"e": {"device_type": "ESME", "instruments": {"optical": "wired"}},
                   "g": {"device_type": "GSME", "instruments": {"optical": "air"}}}})
    with EmulatedBench(config) as bench:
        assert isinstance(bench.servers["wired"], OpticalPortServer)
        assert isinstance(bench.servers["air"], BleOpticalPortServer)
        assert bench.addresses["air"].startswith("ble-emulated:")
        air = bench.servers["air"]
        before = air.registers  # type: ignore[attr-defined]
        swapped = create_device("g", bench.devices["g"].device_type, "EMU-GSME-1", seed=99)
        bench.present("g", swapped)
        assert bench.devices["g"] is swapped
        assert air.registers is not before  # type: ignore[attr-defined]
