"""A lab's own returns manifest: no truth columns, free-text models mapped by a catalogue,
install codes given or referenced, SMETS1 returns; read with errors naming line and column,
and triaged on the emulated bench with two workers, unattended."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config.catalogue import load_catalogue
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.identity import install_code_for, label_for
from harness.results.store import ResultStore
from harness.triage.intake import Generation, ManifestError, read_csv

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "benches" / "lab-catalogue.toml"
HEADER = ("item,label_id,mpxn,device_id,device_type,generation,model,return_date,"
          "return_reason,return_type,install_code,seed")


def _row(item: int, model: str, kind: str, twin: str, seed: int, code: str | None = None
         ) -> tuple[str, str]:
    """A lab's line for the emulated twin ``twin`` with ``seed``, and its install code."""
    serial, eui = label_for(MODELS[twin], seed)
    real = install_code_for(MODELS[twin], seed).reveal()
    return (f"{item},{serial},,{eui},{kind},,{model},2026-11-0{item},meter exchange,"
            f"post installation,{code or real},{seed}", real)


@pytest.fixture
def catalogue():
    return load_catalogue().merged(load_catalogue(LAB))


def test_a_lab_manifest_needs_no_truth_and_maps_free_text_models(tmp_path: Path,
                                                                 catalogue) -> None:
    line, code = _row(1, "landis+gyr  e470 smets2", "ESME", "EMU-ESME-1", 7, "env:IC_ONE")
    path = tmp_path / "lab.csv"
    path.write_text(HEADER + "\n" + line + "\n"
                    "2,,1200000000002,,ESME,SMETS1,Liberty 100,2026-10-30,exchange,"
                    "post installation,,\n")
    os.environ["IC_ONE"] = code
    try:
        rows = read_csv(path, models=catalogue)
    finally:
        del os.environ["IC_ONE"]
    assert rows[0].install_code is not None and rows[0].install_code.reveal() == code
    assert rows[0].truth_verdict is None and rows[0].seed == 7
    assert code not in repr(rows[0]) and code not in str(rows[0].as_record())
    assert (rows[1].generation, rows[1].mpxn, rows[1].label_id) == (
        Generation.SMETS1, "1200000000002", "")
    assert str(rows[1].return_date) == "2026-10-30"


@pytest.mark.parametrize(("cells", "column", "words"), [
    ("1,A1,,,ESME,,No Such Meter,,r,post installation,,", "model", "no ESME model"),
    ("1,A1,,,ESME,SMETS1,LG E470,,r,post installation,,", "generation", "catalogue says"),
    ("1,A1,,,ESME,,LG E470,31/10/2026,r,post installation,,", "return_date", "not a date"),
    ("1,A1,12AB,,ESME,,LG E470,,r,post installation,,", "mpxn", "not an MPAN or MPRN"),
    ("1,A1,1200000000001,,ESME,,LG E470,,r,post installation,,", "mpxn", "check digit"),
    ("1,,,,ESME,,LG E470,,r,post installation,,", "label_id", "empty label ID"),
    ("1,A1,,,ESME,,LG E470,,r,post installation,env:MB_NO_SUCH_VAR,", "install_code",
     "MB_NO_SUCH_VAR is not set"),
    ("1,A1,,,ESME,,LG E470,,r,post installation,secret:X,", "install_code",
     "unknown secret scheme 'secret'"),
    ("1,A1,,,ESME,,LG E470,,r,post installation,0123456789ABCDEF0000,", "install_code",
     "not a valid install code"),
])
def test_lab_errors_name_line_and_column(tmp_path: Path, catalogue, cells: str, column: str,
                                         words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "\n" + cells + "\n")
    with pytest.raises(ManifestError) as caught:
        read_csv(path, models=catalogue)
    assert (caught.value.line, caught.value.column) == (2, column), str(caught.value)
    assert words in str(caught.value) and str(path) in str(caught.value)
    assert "0123456789ABCDEF" not in str(caught.value)  # a code is never repeated


def test_a_file_reference_is_read_beside_the_manifest(tmp_path: Path, catalogue) -> None:
    line, code = _row(1, "G4SR", "GSME", "EMU-GSME-1", 9, "file:codes.env#G4SR_9")
    (tmp_path / "codes.env").write_text(f"OTHER=1\nG4SR_9 = {code}\n")
    path = tmp_path / "lab.csv"
    path.write_text(HEADER + "\n" + line + "\n")
    (row,) = read_csv(path, models=catalogue)
    assert row.install_code is not None and row.install_code.reveal() == code


def test_a_lab_batch_triages_unattended_on_two_workers(tmp_path: Path) -> None:
    """Healthy devices with their codes end NO_FAULT_FOUND (TRI-VER-03 ran on the manifest's
    code), one given another device's code does not, and the SMETS1 return is recorded as not
    triaged; no install code is printed."""
    esme, esme_code = _row(1, "L+G E470 SMETS2", "ESME", "EMU-ESME-1", 101, "env:IC_ESME")
    gsme, gsme_code = _row(2, "g4sr", "GSME", "EMU-GSME-1", 202)
    hub, _ = _row(3, "CH North", "CHF", "EMU-CH-1", 303)
    wrong, _ = _row(4, "LG E470", "ESME", "EMU-ESME-1", 404, gsme_code)  # not its code
    smets1 = "5,S1-0001,1200000000002,,ESME,SMETS1,Liberty 100,2026-11-05,exchange," \
             "post installation,,"
    batch = tmp_path / "lab.csv"
    batch.write_text("\n".join([HEADER, esme, gsme, hub, wrong, smets1]) + "\n")
    env = {**os.environ, "IC_ESME": esme_code, "COLUMNS": "200"}
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench",
         str(ROOT / "benches" / "emulated-fast.toml"), "--batch", str(batch), "--manifest",
         str(LAB), "--workers", "2", "--no-prompts", "--json", "--db",
         f"sqlite:///{tmp_path / 'r.db'}"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL)
    lines = {v["item"]: v for v in map(json.loads, proc.stdout.splitlines())}
    verdicts = {k: v["verdict"] for k, v in lines.items()}
    healthy = {"item1": "NO_FAULT_FOUND", "item2": "NO_FAULT_FOUND",
               "item3": "NO_FAULT_FOUND", "item5": "SKIPPED"}
    assert verdicts == {**healthy, "item4": verdicts.get("item4")}, proc.stderr[-2000:]
    assert verdicts["item4"] != "NO_FAULT_FOUND"
    assert "TRI-VER-03" in lines["item4"]["why"]
    assert lines["item5"]["why"].startswith("not triaged: SMETS1")
    for code in (esme_code, gsme_code):
        assert code not in proc.stdout + proc.stderr
    with ResultStore.open(f"sqlite:///{tmp_path / 'r.db'}", create=False) as store:
        stored = {r.item_key: (r.generation, str(r.return_date), r.mpxn)
                  for r in store.results()}
    assert stored["item5"] == ("SMETS1", "2026-11-05", "1200000000002")  # the manifest's MPxN
    assert stored["item2"] == ("SMETS2", "2026-11-02", None)  # the catalogue's generation


def test_a_smets1_meter_with_a_profile_is_triaged_without_smki(tmp_path: Path) -> None:
    """Through its optical route, reset of consumer data and HAN, and verified; the anchor
    clauses are not applicable (recorded so), not passed."""
    catalogue = tmp_path / "lab.yaml"
    catalogue.write_text("models:\n  ACME S1:\n    device_type: ESME\n    generation: SMETS1\n"
                         "    profile: reference\n    reports_as: [EMU-ESME-1]\n"
                         "    firmware_versions: ['1.4.1', '1.4.2']\n"
                         "    idle_current_a: [0.004, 0.030]\n    commit_s: 2.5\n")
    line, _ = _row(1, "ACME S1", "ESME", "EMU-ESME-1", 11)
    batch = tmp_path / "lab.csv"
    batch.write_text(HEADER + "\n" + line + "\n")
    db = f"sqlite:///{tmp_path / 'r.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench",
         str(ROOT / "benches" / "emulated-fast.toml"), "--batch", str(batch), "--manifest",
         str(catalogue), "--json", "--db", db], cwd=tmp_path, capture_output=True,
        text=True, timeout=120, stdin=subprocess.DEVNULL)
    (verdict,) = [json.loads(x) for x in proc.stdout.splitlines()]
    assert (verdict["verdict"], verdict["reset"]) == ("NO_FAULT_FOUND", True), verdict["why"]
    with ResultStore.open(db, create=False) as store:
        (stored,) = store.results()
    assert stored.generation == "SMETS1"
    assert stored.evidence["not_applicable"] == ["TRI-RST-01", "TRI-VER-02"]
    assert "TRI-VER-02" not in stored.evidence["verified"]
    assert "TRI-RST-01" not in stored.evidence["reset"]


@pytest.mark.parametrize(("model", "seed", "words"), [
    ("LG E470", "", "item 1: no seed"),
    ("ACME E1", "5", "model 'ACME E1' has no emulated twin"),
])
def test_an_emulated_bench_refuses_a_row_it_cannot_build(tmp_path: Path, model: str,
                                                         seed: str, words: str) -> None:
    """A lab row without the emulator's seed, or of a model with no emulated twin: a usage
    error naming the item, before any device is touched."""
    catalogue = tmp_path / "lab.toml"
    catalogue.write_text(LAB.read_text() + '\n[models."ACME E1"]\ndevice_type = "ESME"\n')
    batch = tmp_path / "lab.csv"
    batch.write_text("label_id,device_type,model,return_reason,return_type,seed\n"
                     f"A1,ESME,{model},exchange,post installation,{seed}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench",
         str(ROOT / "benches" / "emulated-fast.toml"), "--batch", str(batch), "--manifest",
         str(catalogue), "--json"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert words in proc.stderr and proc.stdout == ""
