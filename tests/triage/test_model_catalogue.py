"""The model catalogue: TOML or YAML, validated with errors naming file and key path, names
and aliases matched loosely; a fact it leaves out makes its clause not assessed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config.catalogue import load_catalogue
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.identity import install_code_for, label_for
from harness.errors import BenchConfigError

ROOT = Path(__file__).resolve().parents[2]
FP = "AB" * 32


def test_toml_and_yaml_say_the_same(tmp_path: Path) -> None:
    toml = tmp_path / "lab.toml"
    toml.write_text('[models."ACME E1"]\ndevice_type = "esme"\naliases = ["Acme  e-1"]\n'
                    f'[models."ACME E1".original_anchors]\nROOT = "{FP.lower()}"\n')
    yaml = tmp_path / "lab.yaml"
    yaml.write_text(f"models:\n  ACME E1:\n    device_type: ESME\n    aliases: [Acme  e-1]\n"
                    f"    original_anchors: {{ROOT: {FP}}}\n")
    assert load_catalogue(toml) == load_catalogue(yaml)
    entry = load_catalogue(toml).for_model("acme E-1")
    assert entry is not None and entry.original_anchors == {"ROOT": FP}
    assert entry.firmware_versions is None and entry.idle_current_a is None


@pytest.mark.parametrize(("text", "key_path", "words"), [
    ('[models.A]\ndevice_type = "ESME"\nfirmware = ["1"]\n', "models.A.firmware",
     "unknown key"),
    ('[models.A]\ndevice_type = "TOASTER"\n', "models.A.device_type", "unknown device type"),
    ('[models.A]\ndevice_type = "ESME"\noriginal_anchors = { KING = "00" }\n',
     "models.A.original_anchors", "unknown SMKI role 'KING'"),
    ('[models.A]\ndevice_type = "ESME"\noriginal_anchors = { ROOT = "00" }\n',
     "models.A.original_anchors", "64 hex digits"),
    ('[models.A]\ndevice_type = "ESME"\nidle_current_a = [0.3, 0.1]\n',
     "models.A.idle_current_a", "not an envelope"),
    ('[models.A]\ndevice_type = "ESME"\n[models.B]\ndevice_type = "GSME"\naliases = ["a"]\n',
     "models.B.aliases[0]", "already names model 'A'"),
    (f'[models.A]\ndevice_type = "ESME"\ngeneration = "SMETS1"\n'
     f'original_anchors = {{ ROOT = "{FP}" }}\n', "models.A", "SMETS1 model has no SMKI"),
    ('[models.A]\ndevice_type = "ESME"\ngeneration = "SMETS3"\n', "models.A.generation",
     "unknown value"),
])
def test_errors_name_file_and_key_path(tmp_path: Path, text: str, key_path: str,
                                       words: str) -> None:
    path = tmp_path / "lab.toml"
    path.write_text(text)
    with pytest.raises(BenchConfigError) as caught:
        load_catalogue(path)
    assert caught.value.context.get("key_path") == key_path, str(caught.value)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_the_example_lab_catalogue_maps_its_models() -> None:
    lab = load_catalogue(ROOT / "benches" / "lab-catalogue.toml")
    found = lab.lookup("Landis+Gyr  E470 smets2")
    assert found is not None and found[0] == "L+G E470 SMETS2"
    assert found[1].profile == "reference" and "EMU-ESME-1" in found[1].reports_as


def test_a_model_without_anchors_is_not_passed_on_tri_ver_02(tmp_path: Path) -> None:
    """Its other clauses run; the anchor check is not assessed, so no NO_FAULT_FOUND."""
    catalogue = tmp_path / "lab.yaml"
    catalogue.write_text("models:\n  ACME E1:\n    device_type: ESME\n    profile: reference\n"
                         "    reports_as: [EMU-ESME-1]\n    firmware_versions: ['1.4.1', '1.4.2']\n"
                         "    idle_current_a: [0.004, 0.030]\n    commit_s: 2.5\n")
    serial, eui = label_for(MODELS["EMU-ESME-1"], 5)
    code = install_code_for(MODELS["EMU-ESME-1"], 5).reveal()
    batch = tmp_path / "lab.csv"
    batch.write_text("item,label_id,device_id,device_type,model,return_reason,return_type,"
                     f"install_code,seed\n1,{serial},{eui},ESME,ACME E1,exchange,"
                     f"post installation,{code},5\n")
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench",
         str(ROOT / "benches" / "emulated-fast.toml"), "--batch", str(batch), "--manifest",
         str(catalogue), "--json"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, stdin=subprocess.DEVNULL)
    (line,) = [json.loads(x) for x in proc.stdout.splitlines()]
    assert line["verdict"] == "INCONCLUSIVE", line["why"]
    assert "TRI-VER-02" in line["why"]
