"""A bench mistake is said, once, before the first device (issue 15 §1): what is missing is
named by file and key path with the documented exit status, in progress mode too, and an
error is never followed by an empty summary table."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.bench.bench import Bench
from harness.bench.preflight import preflight
from harness.bench.session import BenchSession
from harness.cli import app
from harness.cli.errors import EXIT_UNAVAILABLE, EXIT_USAGE
from harness.triage.audit import AuditLog

runner = CliRunner()

LAB = """
[bench]
name = "{name}"

[instruments.psu]
kind = "power"
backend = "scpi"
address = "{psu}"
timeout_s = 0.5
options = {{ channels = 3, max_voltage = 253.0 }}
safe_state = {{ output = "off" }}

[instruments.probe_esme]
kind = "optical_probe"
backend = "serial"
address = "socket://127.0.0.1:{port}"

[slots.esme]
device_type = "ESME"
supply_voltage = 230.0
current_limit = 0.5
instruments = {{ power = "{power}", optical = "probe_esme" }}
profile = "{profile}"
{secrets}
"""
SECRETS = 'secrets = { optical_password = "file:lab.secrets#esme" }'


def dead_port() -> int:
    """A loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def lab_bench(folder: Path, name: str = "lab-err", *, psu: str | None = None,
              power: str = "psu:1", profile: str = "reference",
              secrets: str = SECRETS) -> Path:
    """A lab bench file (real addresses, nothing listening) with its secrets file beside."""
    port = dead_port()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lab.secrets").write_text("esme=00000000\n")
    path = folder / f"{name}.toml"
    path.write_text(LAB.format(name=name, psu=psu or f"TCPIP::127.0.0.1::{port}::SOCKET",
                               port=port, power=power, profile=profile, secrets=secrets))
    return path


def triage(*args: str) -> tuple[int, str, str]:
    """``meterbench triage ARGS`` in this process: status, stdout, stderr."""
    result = runner.invoke(app, ["triage", *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_lab_bench_without_the_meter_password_is_refused_naming_file_and_key(
        tmp_path: Path) -> None:
    bench = lab_bench(tmp_path, secrets="")
    code, _, err = triage("--bench", str(bench), "--slots", "--no-prompts")
    assert code == EXIT_USAGE, err
    assert err.count("\n") == 1 and err.startswith("error: --bench: ")
    assert f"{bench}: slots.esme.secrets.optical_password: profile 'reference' needs the " \
           "secret 'optical_password'" in err
    checked = runner.invoke(app, ["bench", "check", str(bench)])
    assert checked.exit_code == EXIT_USAGE  # bench check no longer passes such a bench
    assert "slots.esme.secrets.optical_password" in checked.stderr


def test_a_secret_that_cannot_be_resolved_names_the_file_not_bench(tmp_path: Path) -> None:
    bench = lab_bench(tmp_path, secrets='secrets = { optical_password = "env:MB_NO_SUCH_PW" }')
    code, _, err = triage("--bench", str(bench), "--slots", "--no-prompts")
    assert code == EXIT_USAGE
    assert f"{bench}: slots.esme.secrets.optical_password: environment variable " \
           "MB_NO_SUCH_PW is not set" in err
    assert "<bench>" not in err
    # and where a run resolves it (the slot's secrets at run time), the file is named too
    session = BenchSession.from_file(bench)
    with pytest.raises(Exception, match=f"^{bench}: slots.esme.secrets.optical_password"):
        Bench(session.config, source=str(bench)).slot("esme").secrets()


@pytest.mark.parametrize(("address", "said"), [
    ("TCPIP::10.20.0.311::5025::SOCKT",
     "'TCPIP::10.20.0.311::5025::SOCKT' is not a VISA resource name (expected TCPIP::host"),
    ("TCPIP::10.20.0.311::5025::SOCKET", "10.20.0.311 is not an IPv4 address"),
    ("COM3", "'COM3' is not a VISA resource name (expected TCPIP::host::port::SOCKET, "),
])
def test_a_malformed_visa_address_is_refused_in_our_words(tmp_path: Path, address: str,
                                                          said: str) -> None:
    bench = lab_bench(tmp_path, psu=address)
    code, _, err = triage("--bench", str(bench), "--slots", "--no-prompts")
    assert code == EXIT_USAGE
    assert f"{bench}: instruments.psu.address: " in err and said in err, err
    checked = runner.invoke(app, ["bench", "check", str(bench)], env={"COLUMNS": "200"})
    assert checked.exit_code == EXIT_USAGE
    assert said in checked.stderr and "Could not parse" not in checked.output


@pytest.mark.parametrize(("changes", "key_path", "said"), [
    ({"power": "psu:9"}, "slots.esme.instruments.power", "psu has no channel 9"),
    ({"power": "probe_esme"}, "slots.esme.instruments.power",
     "'probe_esme' is an instrument of kind optical_probe"),
    ({"profile": "refrence"}, "slots.esme.profile", "'refrence'"),
    ({"profile": 'reference"\nprofiles = ["dlms", "dlmz"]\n#'}, "slots.esme.profiles[1]", "'dlmz'"),
])
def test_slots_and_profiles_are_checked_before_the_first_device(
        tmp_path: Path, changes: dict[str, str], key_path: str, said: str) -> None:
    bench = lab_bench(tmp_path, **changes)
    code, _, err = triage("--bench", str(bench), "--slots", "--no-prompts")
    assert code == EXIT_USAGE
    assert f"{bench}: {key_path}: " in err and said in err, err


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    bench = lab_bench(tmp_path, psu="TCPIP::10.20.0.311::5025::SOCKT", power="psu:9",
                      secrets="")
    problems = [p.key_path for p in preflight(BenchSession.from_file(bench))]
    assert problems == ["instruments.psu.address", "slots.esme.instruments.power",
                        "slots.esme.secrets.optical_password"]


def test_the_shipped_benches_need_nothing_more() -> None:
    for path in sorted((Path(__file__).parents[2] / "benches").glob("emulated*.toml")):
        assert preflight(BenchSession.from_file(path)) == [], path


def test_a_bench_file_typo_exits_2_in_every_mode(tmp_path: Path) -> None:
    bench = lab_bench(tmp_path)
    bench.write_text(bench.read_text().replace("current_limit", "current_limt"))
    for extra in ([], ["--plain"], ["--json"]):
        code, _, err = triage("--bench", str(bench), "--slots", "--no-prompts", *extra)
        assert code == EXIT_USAGE, (extra, err)
        assert "slots.esme.current_limt: unknown key" in err
    assert runner.invoke(app, ["bench", "check", "--bench", str(bench)]).exit_code == EXIT_USAGE


def run_triage(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``meterbench triage ARGS`` as its own process, in ``folder``."""
    env = {**os.environ, "MB_LOCK_DIR": str(folder / "locks")}
    return subprocess.run([sys.executable, "-m", "harness", "triage", *args],
                          capture_output=True, text=True, timeout=120, cwd=folder, env=env)


def test_an_unreachable_instrument_is_said_in_progress_mode(tmp_path: Path) -> None:
    """The progress display is on (no --plain): the reason still reaches stderr, and no
    empty summary table follows."""
    bench = lab_bench(tmp_path)
    audit = f"sqlite:///{tmp_path / 'audit.db'}"
    AuditLog.open(audit, create=True).close()
    proc = run_triage(tmp_path, "--bench", str(bench), "--slots", "--no-prompts",
                      "--audit-db", audit)
    assert proc.returncode == EXIT_UNAVAILABLE, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0].startswith("error: bench unavailable: psu: "), \
        proc.stderr
    assert "0 devices" not in proc.stdout + proc.stderr


def test_a_suite_that_cannot_be_collected_is_said_without_an_empty_table(
        tmp_path: Path) -> None:
    broken = tmp_path / "test_broken_suite.py"
    broken.write_text("def test_(:\n")
    proc = run_triage(tmp_path, "--devices", "1", "--bench",
                      str(Path(__file__).parents[2] / "benches" / "emulated-fast.toml"),
                      "--", str(broken))
    assert proc.returncode != 0
    assert "error: cannot collect test_broken_suite.py" in proc.stderr, proc.stderr
    assert "SyntaxError" in proc.stderr
    assert "0 devices" not in proc.stdout + proc.stderr


def test_qa_says_why_an_unreachable_bench_stopped_it(tmp_path: Path) -> None:
    bench = lab_bench(tmp_path, "lab-qa")
    AuditLog.open(f"sqlite:///{tmp_path / 'meterbench.db'}", create=True).close()
    env = {**os.environ, "MB_LOCK_DIR": str(tmp_path / "locks")}
    proc = subprocess.run([sys.executable, "-m", "harness", "qa", "--bench", str(bench)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == EXIT_UNAVAILABLE, proc.stderr
    assert proc.stderr.startswith("error: bench unavailable: psu: "), proc.stderr
    assert "nothing ran" not in proc.stdout  # no empty step report after the error
