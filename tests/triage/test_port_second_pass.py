"""TRI-OPT-01's second pass failing outright is the port's failure repeated, not the bench's:
a catalogue gas meter with an intermittent optical port (seeded, so its frames fail at the
same places every run) whose fresh re-read of the diagnosis ends in a garbled frame after its
retries came out INCONCLUSIVE; it is FAULT, optical port."""

from __future__ import annotations

from pathlib import Path

from harness.emulator.world.population import catalogue_batch
from harness.triage.intake import ReturnType, write_csv
from tests.triage._suite_run import measured, run_suites


def test_a_second_pass_that_fails_outright_is_held_against_the_port(tmp_path: Path) -> None:
    rows = catalogue_batch(seed=11, return_type=ReturnType.POST_INSTALLATION)
    row = next(r for r in rows if r.item == 25)
    assert row.truth_faults == ("optical_port_intermittent",), row  # the catalogue's case
    manifest = tmp_path / "batch.csv"
    write_csv([row], manifest)
    lines, proc = run_suites(tmp_path, manifest, "--pyargs", "test_suites")
    line = lines["item25"]
    assert (line["verdict"], line["category"]) == ("FAULT", "optical port"), (line["why"],
                                                                             proc.stdout[-2000:])
    assert measured(line, "optical_link_errors_repeated")["value"] >= 1
