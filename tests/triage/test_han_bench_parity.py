"""The HAN stage on an EZSP bench and on a Telegesis bench gives the same verdicts: the HAN
faults of the catalogue (dead radio, corrupt derived key, another device's code on the
label), a weak link, and devices without a fault, triaged through the real drivers by the
suites on benches/emulated-ezsp.toml and benches/emulated-fast.toml; and on EZSP alone
TRI-HAN-03 has an RSSI."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT, FaultCategory
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.identity import label_for
from harness.triage.intake import BatchRow, ReturnType, Verdict, write_csv
from tests.triage._suite_run import FAST_BENCH, run_suites

EZSP_BENCH = FAST_BENCH.parent / "emulated-ezsp.toml"
HAN = FaultCategory.HAN
DEVICES = (  # (model, faults): never installed, so each waits to join with its install code
    ("EMU-ESME-1", ()), ("EMU-ESME-1", ("han_radio_dead",)), ("EMU-ESME-1", ("han_join_fails",)),
    ("EMU-ESME-1", ("wrong_install_code_label",)), ("EMU-GSME-1", ()),
    ("EMU-GSME-1", ("han_join_fails",)), ("EMU-GSME-1", ("wrong_install_code_label",)),
    ("EMU-CH-1", ()), ("EMU-CH-1", ("han_radio_dead",)),
)


def manifest(path: Path, devices: tuple[tuple[str, tuple[str, ...]], ...]) -> Path:
    """A batch of devices returned before installation (their HAN waits for a join)."""
    rng = random.Random(19)
    rows = []
    for item, (model, faults) in enumerate(devices, start=1):
        seed = rng.getrandbits(32)
        serial, eui64 = label_for(MODELS[model], seed)
        rows.append(BatchRow(
            item=item, device_type=MODELS[model].device_type, model=model, label_id=serial,
            device_id=eui64, return_reason="HAN parity", seed=seed,
            return_type=ReturnType.PRIOR_TO_INSTALLATION, truth_faults=faults or (NO_FAULT,),
            truth_verdict=Verdict.FAULT if faults else Verdict.NO_FAULT_FOUND,
            truth_category=HAN if faults else FaultCategory.NONE))
    write_csv(rows, path)
    return path


def weak(bench: Path, folder: Path) -> Path:
    """``bench`` with the ESME slot's signal at the dongle 6 dB over the quietest channel's
    noise: heard, but a weak link."""
    text = bench.read_text()
    block = "[instruments.dongle]\nkind = \"zigbee\"\n"
    assert block in text, bench
    text = text.replace(block, block + "options = { signal_dbm = { esme = -92.0 } }\n")
    out = folder / f"weak-{bench.name}"
    out.write_text(text)
    return out


def han_stage(folder: Path, batch: Path, bench: Path) -> dict[str, dict]:
    """Verdict lines by item of the HAN stage of ``batch`` on ``bench``."""
    run = folder / bench.stem
    run.mkdir()
    lines, proc = run_suites(run, batch, "test_suites/test_40_han.py", bench=bench,
                             timeout=120)
    assert len(lines) == len(batch.read_text().splitlines()) - 1, (
        proc.stdout[-3000:] + proc.stderr[-3000:])
    return lines


def outcome(line: dict) -> tuple:
    """What must agree across dongles: verdict, category, each finding's clause and diagnosis
    (``join failed: wrong key``), and each measurement both backends take, passed or not
    (RSSI only EZSP reports for a meter)."""
    shared = sorted((m["name"], m["passed"]) for m in line["measurements"]
                    if m["name"] not in ("han_rssi", "han_channel_energy"))
    findings = sorted((f["clause"], ":".join(f["evidence"].split(":")[:2]))
                      for f in line.get("findings", []))
    return line["verdict"], line["category"], findings, shared


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    folder = tmp_path_factory.mktemp("han-parity")
    batch = manifest(folder / "batch.csv", DEVICES)
    one = manifest(folder / "weak.csv", (("EMU-ESME-1", ()),))
    return {"telegesis": han_stage(folder, batch, FAST_BENCH),
            "ezsp": han_stage(folder, batch, EZSP_BENCH),
            "telegesis-weak": han_stage(folder, one, weak(FAST_BENCH, folder)),
            "ezsp-weak": han_stage(folder, one, weak(EZSP_BENCH, folder))}


def test_same_verdicts_on_both_dongles(runs: dict[str, dict[str, dict]]) -> None:
    """Every device: the same verdict, category, findings and measurement outcomes."""
    for telegesis, ezsp in (("telegesis", "ezsp"), ("telegesis-weak", "ezsp-weak")):
        assert runs[telegesis].keys() == runs[ezsp].keys()
        differ = {item: (outcome(runs[telegesis][item]), outcome(runs[ezsp][item]))
                  for item in runs[telegesis]
                  if outcome(runs[telegesis][item]) != outcome(runs[ezsp][item])}
        assert not differ, differ


def test_the_han_faults_are_found_and_the_healthy_pass(runs: dict[str, dict[str, dict]]
                                                       ) -> None:
    """The comparison is not of two blind runs: each HAN fault fails its HAN clause, the
    healthy meters join, and the weak link fails TRI-HAN-03."""
    for name in ("telegesis", "ezsp"):
        for item, (model, faults) in enumerate(DEVICES, start=1):
            line = runs[name][f"item{item}"]
            clauses = {f["clause"] for f in line.get("findings", [])}
            if faults:
                assert line["category"] == HAN.value, (name, model, faults, line["why"])
                assert clauses & {"TRI-HAN-02", "TRI-HAN-03"}, (name, faults, line)
            else:
                assert not clauses, (name, model, line["why"])
                assert line["category"] in (None, FaultCategory.NONE.value)
        weak_line = runs[f"{name}-weak"]["item1"]
        assert weak_line["category"] == HAN.value, weak_line["why"]
        lqi = [m for m in weak_line["measurements"] if m["name"] == "han_lqi"]
        assert lqi and not lqi[0]["passed"]


def test_tri_han_03_has_an_rssi_on_ezsp_only(runs: dict[str, dict[str, dict]]) -> None:
    """A joined meter's han_rssi: measured from the EZSP stack's last hop RSSI (in the radio
    world's bench range, and failing on the weak link); absent on Telegesis."""
    meters = [i for i, (model, faults) in enumerate(DEVICES, start=1)
              if not faults and MODELS[model].device_type is not DeviceType.CHF]

    def rssi(line: dict) -> list[dict]:
        return [m for m in line["measurements"] if m["name"] == "han_rssi"]

    for item in meters:
        assert not rssi(runs["telegesis"][f"item{item}"])
        found = rssi(runs["ezsp"][f"item{item}"])
        assert found and -68 <= found[0]["value"] <= -50 and found[0]["passed"], found
    weak_rssi = rssi(runs["ezsp-weak"]["item1"])
    assert weak_rssi and weak_rssi[0]["value"] == -92 and not weak_rssi[0]["passed"]
