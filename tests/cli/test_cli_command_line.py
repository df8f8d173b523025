"""The command line as a user and a script meet it (issue 15 §6): --version, completion, one
spelling per idea, readable help, triage options that are real, --devices refused where no
population is generated, and --exit-zero-on-fault."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from importlib.metadata import version
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from harness.cli import app
from harness.cli.errors import EXIT_USAGE
from harness.cli.pytest_bridge import StopReasons
from harness.cli.triage import only_faults

REPO = Path(__file__).resolve().parents[2]
FAST = str(REPO / "benches" / "emulated-fast.toml")
runner = CliRunner(env={"COLUMNS": "200"})


def commands(command: typer.core.TyperGroup | None = None, path: tuple[str, ...] = ()
             ) -> list[tuple[tuple[str, ...], object]]:
    """Every command of ``meterbench`` with its path (``("bench", "check")``)."""
    command = command or typer.main.get_command(app)
    found: list[tuple[tuple[str, ...], object]] = [(path, command)]
    for name, sub in getattr(command, "commands", {}).items():
        found += commands(sub, (*path, name))
    return found


def test_version_names_the_installed_distribution() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"meterbench {version('meterbench')} (Python ")


def test_shell_completion_is_offered_and_completes() -> None:
    shown = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in shown and "--show-completion" in shown
    script = Path(sys.executable).with_name("meterbench")
    env = {**os.environ, "_METERBENCH_COMPLETE": "complete_bash",
           "COMP_WORDS": "meterbench triage --no-pr", "COMP_CWORD": "2"}
    done = subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["--no-prompts"], done.stderr


def test_one_spelling_per_idea() -> None:
    """A short flag means one long option everywhere; the output folder or file is --out."""
    longs: dict[str, set[str]] = defaultdict(set)
    outputs = set()
    for path, command in commands():
        for param in getattr(command, "params", []):
            if param.param_type_name != "option" or getattr(param, "hidden", False):
                continue
            long = max(param.opts, key=len)
            for short in (o for o in param.opts if not o.startswith("--")):
                longs[short].add(long)
            if long in ("--output", "--out"):
                outputs.add((" ".join(path), long, tuple(sorted(param.opts))))
    assert {s: n for s, n in longs.items() if len(n) > 1} == {}
    assert longs["-n"] == {"--workers"} and longs["-o"] == {"--out"}
    assert {o[1:] for o in outputs} == {("--out", ("--out", "-o"))}, outputs


def test_former_spellings_still_work_hidden(tmp_path: Path) -> None:
    old = runner.invoke(app, ["batch", "new", "-n", "3", "--output", str(tmp_path / "a.csv")])
    new = runner.invoke(app, ["batch", "new", "--size", "3", "--out", str(tmp_path / "b.csv")])
    assert old.exit_code == new.exit_code == 0, old.output + new.output
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()
    shown = runner.invoke(app, ["batch", "new", "--help"]).stdout
    assert "--output" not in shown and " -n " not in shown
    both = runner.invoke(app, ["batch", "new", "--size", "3", "-n", "3", "-o", "x.csv"])
    assert both.exit_code == EXIT_USAGE and "former spelling of --size" in both.stderr


def test_bench_check_takes_the_bench_as_an_option_too() -> None:
    assert runner.invoke(app, ["bench", "check", "--bench", FAST]).exit_code == 0
    two = runner.invoke(app, ["bench", "check", FAST, "--bench", "other.toml"])
    assert two.exit_code == EXIT_USAGE and "two bench files" in two.stderr


def test_help_is_plain_text() -> None:
    """No reStructuredText backticks, no typer type names (<list[Path]>, <bool>) for options."""
    for path, _ in commands():
        shown = runner.invoke(app, [*path, "--help"]).stdout
        assert "``" not in shown, path
        options = shown.split("Options", 1)[-1]
        assert not re.findall(r"<(?:list\[|bool|int|float|str|path)", options,
                              flags=re.I), (path, options)


def test_triage_prompt_and_audit_options_are_its_own(tmp_path: Path) -> None:
    """--no-prompts, --audit-db and --prompt-timeout are triage options shown in its help and
    checked as such (not only as --mb- options after --)."""
    shown = runner.invoke(app, ["triage", "--help"]).stdout
    for option in ("--no-prompts", "--audit-db", "--prompt-timeout"):
        assert option in shown
    bad = runner.invoke(app, ["triage", "--prompt-timeout", "nan"])
    assert bad.exit_code == EXIT_USAGE and "--prompt-timeout" in bad.stderr
    assert "--mb-" not in bad.stderr


@pytest.mark.parametrize("extra", [["--batch", "{batch}"], ["--slots"]])
def test_devices_is_refused_where_no_population_is_generated(tmp_path: Path,
                                                             extra: list[str]) -> None:
    batch = tmp_path / "b.csv"
    runner.invoke(app, ["batch", "new", "--size", "2", "--out", str(batch)])
    args = [a.format(batch=batch) for a in extra]
    result = runner.invoke(app, ["triage", "--devices", "5", *args])
    assert result.exit_code == EXIT_USAGE
    assert result.stderr.startswith("error: --devices is for a generated population")


def test_devices_on_a_physical_bench_is_an_error(tmp_path: Path) -> None:
    bench = tmp_path / "lab.toml"
    bench.write_text((REPO / "benches" / "example-lab.toml").read_text())
    env = {"MB_OPTICAL_PASSWORD_ESME": "0", "MB_OPTICAL_PASSWORD_GSME": "0",
           "MB_OPTICAL_PASSWORD_CH": "0"}
    result = runner.invoke(app, ["triage", "--bench", str(bench), "--devices", "5",
                                 "--seed", "2"], env=env)
    assert result.exit_code == EXIT_USAGE, result.stderr
    assert "--devices and --seed are for a generated population" in result.stderr
    assert f"bench {bench} has real instruments" in result.stderr


def test_exit_zero_on_fault_when_the_campaign_ends_with_faults(tmp_path: Path) -> None:
    """Seed 0's second device is an ESME with a logged hardware alert: FAULT, so pytest says
    1; with --exit-zero-on-fault a script sees 0."""
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--devices", "2", "--bench", FAST,
         "--json", "--exit-zero-on-fault", "--", "-k", "item2"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path,
        env={**os.environ, "MB_LOCK_DIR": str(tmp_path / "locks")})
    verdicts = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert [v["verdict"] for v in verdicts] == ["FAULT"], proc.stderr[-2000:]
    assert proc.returncode == 0


def _verdicts(tmp_path: Path, *kinds: str) -> Path:
    path = tmp_path / "verdicts.jsonl"
    path.write_text("".join(json.dumps({"verdict": k}) + "\n" for k in kinds))
    return path


def test_exit_zero_on_fault_keeps_every_other_failure(tmp_path: Path) -> None:
    stops = StopReasons()
    assert only_faults(1, stops, _verdicts(tmp_path, "FAULT", "NO_FAULT_FOUND"))
    assert not only_faults(1, stops, _verdicts(tmp_path, "FAULT", "INCONCLUSIVE"))
    assert not only_faults(3, stops, _verdicts(tmp_path, "FAULT"))
    assert not only_faults(1, stops, _verdicts(tmp_path))  # nothing triaged
    stops.hook_failures.append("a verdict hook raised")
    assert not only_faults(1, stops, _verdicts(tmp_path, "FAULT"))
    stopped = StopReasons()
    stopped.errors.append("cannot collect x")
    assert not only_faults(1, stopped, _verdicts(tmp_path, "FAULT"))
