"""Bad input to every ``meterbench`` command: one clear line, the documented status, nothing lost.

Table-driven over ``tests/_bad_input_cases.py`` (shared with ``benchmarks/bad_inputs.py``).
Cases refused before a campaign starts run in process with typer's CliRunner, with
``pytest.main`` made to fail the test if it is reached (so each is refused before any device
is triaged); cases refused by pytest itself run as a subprocess, where exit codes are real.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _bad_input_cases import CASES, Case, conditions, fingerprint, judge, prepare, run_process
from typer.testing import CliRunner

from harness.cli import app
from harness.triage.intake import ManifestError, read_csv

runner = CliRunner(env={"COLUMNS": "200"})


def _param(case: Case) -> object:
    marks = [pytest.mark.xfail(reason=f"fixed by the {case.owner} part of issue 12: clear "
                                      "`owner` in the case once merged", strict=False)
             ] if case.owner else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The input files every case names, written once."""
    root = tmp_path_factory.mktemp("bad-input") / "inputs"
    return root, prepare(root)


def _no_campaign(*_args: object, **_kwargs: object) -> int:
    raise AssertionError("the bad input was not refused before the campaign started")


@pytest.mark.parametrize("case", [_param(c) for c in CASES if not c.process])
def test_refused_before_anything_runs(case: Case, scratch: tuple[Path, dict[str, str]],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    root, places = scratch
    monkeypatch.chdir(root)
    monkeypatch.setattr(pytest, "main", _no_campaign)
    before = fingerprint(root)
    with conditions(case):
        result = runner.invoke(app, case.argv(places))
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        f"{type(result.exception).__name__}: {result.exception}"
    outcome = judge(case, root, before, result.exit_code, result.stdout, result.stderr)
    assert outcome.problems == [], outcome.stderr
    assert outcome.status == case.status, outcome.stderr


@pytest.mark.parametrize("case", [_param(c) for c in CASES if c.process])
def test_refused_by_pytest_as_a_process(case: Case,
                                        scratch: tuple[Path, dict[str, str]]) -> None:
    root, places = scratch
    outcome = run_process(case, root, places, timeout=60)
    assert outcome.problems == [], outcome.stderr
    assert outcome.status == case.status, outcome.stderr


def test_the_table_covers_every_command() -> None:
    commands = {c.args[0] if c.args[0] not in ("bench", "batch", "optical", "audit")
                else " ".join(c.args[:2]) for c in CASES}
    assert {"triage", "qa", "report", "batch new", "bench check", "emulate", "spec",
            "optical readout", "optical identify", "installcode", "audit verify",
            "audit init"} <= commands
    assert len(CASES) >= 45


def test_duplicate_items_name_both_lines(scratch: tuple[Path, dict[str, str]]) -> None:
    root, _ = scratch
    with pytest.raises(ManifestError) as caught:
        read_csv(root / "dup.csv")
    assert (caught.value.line, caught.value.column) == (3, "item")
    assert "is on line 2 and again on line 3" in str(caught.value)
