"""Campaigns on several benches: xdist workers get whole devices, in stage order, even under
``--dist loadgroup`` with pytest 9.2 (which ignores ``xdist_group``: pytest-xdist #1386)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from harness.bench.lock import BenchLock
from harness.bench.session import BenchSession
from harness.emulator.world.population import PopulationSpec, generate
from harness.errors import BenchLockedError
from harness.plugin.parallel import device_of
from harness.triage.intake import write_csv

pytest.importorskip("xdist")

LINE = re.compile(r"^\[(gw\d+)\] .*?(PASSED|FAILED|SKIPPED|ERROR) (\S*?(test_\d+)\w*\.py"
                  r"::\w+\[(item\d+)\])")


def test_device_of_reads_the_parameter_id() -> None:
    assert device_of("test_suites/test_10_power.py::test_power_on[item7]") == "item7"
    assert device_of("tests/test_x.py::test_plain") is None


def test_each_device_runs_whole_on_one_worker_in_stage_order(
        pytester: pytest.Pytester, tmp_path: Path) -> None:
    batch = tmp_path / "batch.csv"
    write_csv(generate(PopulationSpec(6, seed=11, no_fault_ratio=1.0)), batch)
    result = pytester.runpytest_subprocess(
        "--pyargs", "test_suites", "-p", "no:cacheprovider", "--mb-batch", str(batch),
        "--mb-time-scale", "10", "-n", "2", "--dist", "loadgroup", "-v",
        "-k", "power or identity or standby", timeout=300)
    runs: dict[str, list[tuple[str, str]]] = defaultdict(list)  # device -> (worker, stage)
    for line in result.outlines:
        match = LINE.match(line)
        if match:
            worker, _, _, stage, device = match.groups()
            runs[device].append((worker, stage))
    assert set(runs) == {f"item{i}" for i in range(1, 7)}, result.outlines[-20:]
    workers = {device: {w for w, _ in seen} for device, seen in runs.items()}
    assert all(len(w) == 1 for w in workers.values()), workers
    assert {w for ws in workers.values() for w in ws} == {"gw0", "gw1"}  # both benches worked
    for device, seen in runs.items():
        stages = [stage for _, stage in seen]
        assert stages == sorted(stages), (device, stages)
    assert result.ret == 0


def test_workers_lease_different_physical_benches(tmp_path: Path) -> None:
    """Two bench files with real instruments: a second lease takes the other bench; a third
    finds none free and says which are held."""
    paths = []
    for name in ("lab-a", "lab-b"):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'[bench]\nname = "{name}"\n\n[instruments.psu]\nkind = "power"\n'
                        f'backend = "scpi"\naddress = "TCPIP::10.0.0.5::5025::SOCKET"\n')
        paths.append(path)
    first = BenchSession.lease(paths, start=0)
    second = BenchSession.lease(paths, start=0)
    try:
        assert {first.config.bench.name, second.config.bench.name} == {"lab-a", "lab-b"}
        with pytest.raises(BenchLockedError, match="no free bench") as busy:
            BenchSession.lease(paths, start=1)
        assert "'lab-a' is in use" in str(busy.value) and "'lab-b' is in use" in str(busy.value)
    finally:
        first.close()
        second.close()
    assert not BenchLock("lab-a").acquire().release()  # both given back
