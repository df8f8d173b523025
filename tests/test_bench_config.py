"""Bench files: the default bench validates; user errors name file, key path and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config.loader import default_bench_path, load_bench
from harness.domain.types import DeviceType
from harness.errors import BenchConfigError

GOOD = """
[bench]
name = "lab-1"

[instruments.psu]
kind = "power"
backend = "scpi"
address = "TCPIP::10.0.0.5::5025::SOCKET"
options = { channels = 2 }

[slots.a]
device_type = "ESME"
instruments = { power = "psu:2" }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bench.toml"
    path.write_text(text)
    return path


def test_default_bench_has_the_three_slots_and_a_probe_per_meter() -> None:
    config = load_bench(default_bench_path())
    types = {slot.device_type for slot in config.slots.values()}
    assert types == {DeviceType.ESME, DeviceType.GSME, DeviceType.CHF}
    assert config.instruments_of("power")
    assert config.emulated


def test_a_good_lab_bench_loads(tmp_path: Path) -> None:
    config = load_bench(write(tmp_path, GOOD))
    assert config.slots["a"].instruments["power"].channel == 2
    assert not config.emulated


@pytest.mark.parametrize(
    ("old", "new", "key_path", "fragment"),
    [
        ('kind = "power"', 'kind = "powr"', "instruments.psu.kind", "'powr'"),
        ('address = "TCPIP::10.0.0.5::5025::SOCKET"\n', "", "instruments.psu",
         "missing 'address'"),
        ('backend = "scpi"', 'backend = "sccpi"', "instruments.psu.backend",
         "unknown power backend 'sccpi'"),
        ('device_type = "ESME"', 'device_type = "ESMX"', "slots.a.device_type", "ESMX"),
        ('power = "psu:2"', 'power = "pus:2"', "slots.a.instruments.power", "'pus'"),
        ('name = "lab-1"', 'name = "lab-1"\nnmae = "x"', "bench.nmae", "unknown key"),
        ("options = { channels = 2 }", "timeout_s = -1", "instruments.psu.timeout_s", "greater"),
    ],
)
def test_user_errors_name_the_file_and_key_path(
    tmp_path: Path, old: str, new: str, key_path: str, fragment: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(BenchConfigError) as info:
        load_bench(path)
    err = info.value
    assert err.file == str(path)
    assert err.key_path == key_path
    assert fragment in str(err)
    assert str(err).startswith(f"{path}: {key_path}: ")


def test_unknown_backend_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(BenchConfigError) as info:
        load_bench(write(tmp_path, GOOD.replace('backend = "scpi"', 'backend = "nope"')))
    assert "expected one of scpi" in str(info.value)


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BenchConfigError, match=r"not valid TOML.*line 3"):
        load_bench(write(tmp_path, "[bench]\nname = 'x'\n[instruments.psu\n"))
    with pytest.raises(BenchConfigError, match="bench file not found"):
        load_bench(tmp_path / "absent.toml")


def test_several_errors_are_all_reported(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "power"', 'kind = "powr"').replace('"ESME"', '"ESMX"')
    with pytest.raises(BenchConfigError) as info:
        load_bench(write(tmp_path, text))
    assert "instruments.psu.kind" in str(info.value)
    assert "also slots.a.device_type" in str(info.value)
