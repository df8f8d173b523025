"""Operator prompts: place, label and probe answered at the terminal with a timeout; a skip or
an abort is the device's recorded verdict; an emulated bench answers its own prompts."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.emulator.world.population import PopulationSpec, generate
from harness.plugin.operator import Answer, ConsoleOperator
from harness.triage.classify import VerdictKind, classify
from harness.triage.intake import write_csv
from harness.triage.record import TriageRecord


@pytest.fixture
def console() -> Iterator[tuple[ConsoleOperator, io.TextIOWrapper, io.StringIO]]:
    """An operator reading a pipe (what a terminal or a barcode scanner would type)."""
    read_fd, write_fd = os.pipe()
    stdin = os.fdopen(read_fd, "r")
    typed = os.fdopen(write_fd, "w")
    shown = io.StringIO()
    yield ConsoleOperator(0.3, stdin, shown), typed, shown
    typed.close()  # the input ends first: the operator's reader thread sees it and stops
    stdin.close()


def test_enter_scan_enter_loads_the_device_with_its_label(console) -> None:
    operator, typed, shown = console
    typed.write("\nG4E85513067 00DB22525C190E76 AABBCCDDEEFF00112233445566778899\n\n")
    typed.flush()
    loading = operator.load("item3", "gsme", "the EMU-GSME-1 labelled G4E85513067", True)
    assert loading.answer is Answer.DONE
    assert loading.label is not None and loading.label.serial == "G4E85513067"
    assert loading.label.device_id == "00DB22525C190E76"
    assert len(loading.prompts) == 3  # place, label, probe
    assert "Place the EMU-GSME-1 labelled G4E85513067 (item3) in slot gsme" in shown.getvalue()


def test_a_hub_is_inspected_and_what_failed_is_recorded(console) -> None:
    """TRI-ID-03: the operator types the words of what is not sound (Enter: all sound)."""
    operator, typed, shown = console
    typed.write("\nC1 00DB22525C190E70\n\ncase, leds\n")
    typed.flush()
    loading = operator.load("item2", "ch", "a CHF", True, inspect=True)
    assert loading.answer is Answer.DONE and len(loading.prompts) == 4
    assert loading.inspection == {"case_intact": False, "connector_intact": True,
                                  "seals_intact": True, "leds_working": False,
                                  "no_environmental_damage": True}
    assert "Inspect the hub in slot ch" in shown.getvalue()


def test_an_inspection_word_that_is_no_item_skips_with_why(console) -> None:
    operator, typed, _ = console
    typed.write("\nC1\n\nscratched\n")
    typed.flush()
    loading = operator.load("item2", "ch", "a CHF", True, inspect=True)
    assert loading.answer is Answer.SKIP and "'scratched' is not an inspection item" in loading.why


def test_a_meter_is_not_inspected(console) -> None:
    operator, typed, _ = console
    typed.write("\nE1\n\n")
    typed.flush()
    loading = operator.load("item1", "esme", "an ESME", True)
    assert loading.answer is Answer.DONE and loading.inspection is None


def test_skip_at_any_prompt_skips_the_device(console) -> None:
    operator, typed, _ = console
    typed.write("\ns\n")
    typed.flush()
    loading = operator.load("item1", "esme", "an ESME", True)
    assert loading.answer is Answer.SKIP and "skipped by the operator" in loading.why


def test_abort_stops_the_campaign(console) -> None:
    operator, typed, _ = console
    typed.write("a\n")
    typed.flush()
    assert operator.load("item1", "esme", "an ESME", True).answer is Answer.ABORT


def test_no_answer_in_time_skips_the_device(console) -> None:
    operator, _, _ = console
    loading = operator.load("item1", "ch", "a CHF", False)
    assert loading.answer is Answer.SKIP and "no answer within 0.3 s" in loading.why


def test_a_process_without_a_terminal_gets_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Started with stdin and stderr closed (sys.__stdin__ None): the device is skipped as
    unanswered, not an AttributeError (found by mypy)."""
    monkeypatch.setattr(sys, "__stdin__", None)
    monkeypatch.setattr(sys, "__stderr__", None)
    loading = ConsoleOperator(0.3).load("item1", "ch", "a CHF", False)
    assert loading.answer is Answer.SKIP and "no answer within 0.3 s" in loading.why


def test_an_operator_outcome_is_the_verdict() -> None:
    record = TriageRecord(key="item1", slot="esme", device_type="ESME")
    record.notes["operator_outcome"] = {"answer": "skip", "why": "no answer within 300 s"}
    verdict = classify(record)
    assert verdict.kind is VerdictKind.SKIPPED and verdict.why == "no answer within 300 s"
    record.notes["operator_outcome"]["answer"] = "abort"
    assert classify(record).kind is VerdictKind.ABORTED


def test_physical_bench_prompts_and_records_a_skip(tmp_path: Path, external_emulator: dict,
                                                    lab_bench) -> None:
    """A bench of real (here: externally emulated) instruments: the campaign waits on the
    operator; skipping the first device records it SKIPPED and the second is triaged."""
    bench = lab_bench(external_emulator, tmp_path)
    batch = tmp_path / "batch.csv"
    rows = [r for r in generate(PopulationSpec(12, seed=3)) if r.device_type.name == "CHF"][:2]
    write_csv(rows, batch)
    first, second = (f"item{r.item}" for r in rows)
    # skip the first; place, scan, seat and inspect (all sound) the second
    answers = f"s\n\n{rows[1].label_id}\n\n\n"
    audit = f"sqlite:///{tmp_path / 'audit.db'}"
    subprocess.run([sys.executable, "-m", "harness", "audit", "init", "--db", audit],
                   check=True, capture_output=True, timeout=60)
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench", str(bench), "--batch",
         str(batch), "--json", "--audit-db", audit,
         "--", "-k", "power or identity"],
        input=answers, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    verdicts = {line.split('"item": "')[1].split('"')[0]: line
                for line in proc.stdout.splitlines() if line.startswith("{")}
    assert '"verdict": "SKIPPED"' in verdicts[first], proc.stderr[-2000:]
    assert "skipped by the operator" in verdicts[first]
    assert '"verdict": "SKIPPED"' not in verdicts[second]
    assert f"Place the {rows[1].model} labelled {rows[1].label_id}" in proc.stderr


def test_prompts_wait_without_select(console, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows' select() polls only sockets: a prompt waits on its input without it, keeping
    typed-ahead lines in order and timing out when none comes (issue 15 §5)."""
    import select

    def refused(*_: object) -> None:
        raise OSError("select() on a console or pipe (WinError 10038 on Windows)")

    monkeypatch.setattr(select, "select", refused)
    operator, typed, _ = console
    typed.write("\nE1 00DB22525C190E70\n\n")  # a scanner typing ahead of the prompts
    typed.flush()
    loading = operator.load("item1", "esme", "an ESME", True)
    assert loading.answer is Answer.DONE and loading.label is not None
    assert loading.label.serial == "E1"
    assert operator.ask("one more") is None  # nothing typed: the timeout, not a hang
