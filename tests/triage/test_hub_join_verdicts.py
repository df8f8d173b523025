"""A hub's HAN judged by a real join (issue 19 §5, TRI-HAN-04), through the suites on both
dongle backends: hubs returned before installation with a corrupt install-code derivation
(han_join_fails, which nothing the hub reports about itself shows) are HAN faults through the
join; healthy hubs, with and without a field history, admit the bench dongle and carry no
finding; a dongle that hangs during the join is the bench's trouble (INCONCLUSIVE), never
the hub's."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.domain.vocabulary import NO_FAULT, FaultCategory
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.identity import label_for
from harness.triage.intake import BatchRow, ReturnType, Verdict, write_csv
from tests.triage._suite_run import FAST_BENCH, measured, run_suites

EZSP_BENCH = FAST_BENCH.parent / "emulated-ezsp.toml"
BENCHES = {"telegesis": FAST_BENCH, "ezsp": EZSP_BENCH}
STAGES = ("test_suites/test_30_diagnostics.py", "test_suites/test_40_han.py")
PRIOR, POST = ReturnType.PRIOR_TO_INSTALLATION, ReturnType.POST_INSTALLATION
HUBS = (("EMU-CH-1", ("han_join_fails",), PRIOR), ("EMU-CH-2", ("han_join_fails",), PRIOR),
        ("EMU-CH-1", (), PRIOR), ("EMU-CH-2", (), POST))


def manifest(path: Path, hubs: tuple[tuple[str, tuple[str, ...], ReturnType], ...]) -> Path:
    """A batch of hubs with their truth columns."""
    rng = random.Random(23)
    rows = []
    for item, (model, faults, returned) in enumerate(hubs, start=1):
        seed = rng.getrandbits(32)
        serial, eui64 = label_for(MODELS[model], seed)
        rows.append(BatchRow(
            item=item, device_type=MODELS[model].device_type, model=model, label_id=serial,
            device_id=eui64, return_reason="hub join", seed=seed, return_type=returned,
            truth_faults=faults or (NO_FAULT,),
            truth_verdict=Verdict.FAULT if faults else Verdict.NO_FAULT_FOUND,
            truth_category=FaultCategory.HAN if faults else FaultCategory.NONE))
    write_csv(rows, path)
    return path


@pytest.mark.parametrize("backend", sorted(BENCHES))
def test_hubs_are_judged_by_the_join(tmp_path: Path, backend: str) -> None:
    lines, proc = run_suites(tmp_path, manifest(tmp_path / "hubs.csv", HUBS), *STAGES,
                             bench=BENCHES[backend], timeout=120)
    assert len(lines) == len(HUBS), proc.stdout[-3000:] + proc.stderr[-2000:]
    for item, (model, faults, returned) in enumerate(HUBS, start=1):
        line = lines[f"item{item}"]
        admitted = measured(line, "hub_admits_dongle")
        assert measured(line, "hub_pan_heard")["passed"], line
        if faults:  # the hub's own log shows nothing: the join is what finds it
            assert measured(line, "hub_join_failures")["passed"], line
            assert (line["verdict"], line["category"]) == ("FAULT", "HAN"), line["why"]
            assert not admitted["passed"]
            assert [f["clause"] for f in line["findings"]] == ["TRI-HAN-04"], line["findings"]
            assert "no network key" in line["findings"][0]["evidence"]
        else:
            assert admitted["passed"] and not line["findings"], (model, returned, line["why"])
            assert line["verdict"] != "FAULT"


def test_a_dongle_that_hangs_in_the_join_is_the_benchs(tmp_path: Path) -> None:
    """The dongle stops answering as the hub join starts: INCONCLUSIVE with a bench reason
    naming the dongle, no finding against the healthy hub."""
    batch = manifest(tmp_path / "hub.csv", (("EMU-CH-1", (), PRIOR),))
    lines, proc = run_suites(
        tmp_path, batch, *STAGES, "-p", "_trouble_plugin", bench=EZSP_BENCH, timeout=120,
        env={"MB_TROUBLE": "test_40_han::test_hub_admits_the_bench_dongle:dongle"})
    assert set(lines) == {"item1"}, proc.stdout[-3000:] + proc.stderr[-2000:]
    line = lines["item1"]
    assert line["verdict"] == "INCONCLUSIVE" and not line["findings"], line
    assert "bench: TRI-HAN-04: dongle:" in line["why"], line["why"]
    assert not [m for m in line["measurements"] if m["name"] == "hub_admits_dongle"]
