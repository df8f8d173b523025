"""TRI-HAN-03 for meters returned after installation (issue 19, "RSSI for installed
devices"): such a meter keeps its field HAN until the reset, so TRI-HAN-02's join is not
assessed and its link had no han_lqi or han_rssi at all; an ESME, a router of its field
network, is now measured by its beacon in the dongle's PAN scan (EZSP's networkFoundHandler
gives the RSSI, and a Telegesis +PANSCAN line carries one too), while a GSME, a sleepy end
device that sends no beacon, is not assessed, never passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.domain.vocabulary import FaultCategory
from tests.triage._suite_run import FAST_BENCH, batch, run_suites

BENCHES = {"telegesis": FAST_BENCH, "ezsp": FAST_BENCH.parent / "emulated-ezsp.toml"}
STAGES = ("test_suites/test_30_diagnostics.py", "test_suites/test_40_han.py")
NONE = FaultCategory.NONE


@pytest.mark.parametrize("backend", sorted(BENCHES))
def test_an_installed_esme_has_an_rssi_and_a_gsme_is_not_assessed(tmp_path: Path,
                                                                  backend: str) -> None:
    """ESME 1's field channel is clear: measured. ESME 2's sits beside the bench's Wi-Fi and
    the GSME sends no beacon: both not assessed, with the reason, and no finding."""
    manifest = batch(tmp_path / "b.csv", ("EMU-ESME-1", (), NONE), ("EMU-ESME-2", (), NONE),
                     ("EMU-GSME-1", (), NONE))
    lines, proc = run_suites(tmp_path, manifest, *STAGES, "-rs", bench=BENCHES[backend],
                             timeout=120)
    assert len(lines) == 3, proc.stdout[-3000:] + proc.stderr[-2000:]
    found = {m["name"]: m for m in lines["item1"]["measurements"]
             if m["clause"] == "TRI-HAN-03"}
    assert set(found) == {"han_lqi", "han_rssi"}, lines["item1"]["measurements"]
    assert -68 <= found["han_rssi"]["value"] <= -50 and found["han_rssi"]["passed"]
    assert found["han_lqi"]["passed"]
    for item in ("item2", "item3"):
        assert not [m for m in lines[item]["measurements"]
                    if m["name"] in ("han_rssi", "han_lqi")], lines[item]["measurements"]
    assert all(not line["findings"] for line in lines.values())
    skipped = [s for s in proc.stdout.splitlines() if "test_link_quality_in_its_field" in s
               or "field channel" in s or "field network" in s]
    assert any("field channel 15 is in interference" in s for s in skipped), proc.stdout
    assert any("a sleepy end device sends none" in s for s in skipped), proc.stdout
