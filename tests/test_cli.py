"""The meterbench command: bench check, emulate on the wire, exit codes, Ctrl-C safety."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.bench.lock import BenchLock
from harness.cli import app
from harness.config.loader import default_bench_path
from harness.triage.audit import AuditLog

runner = CliRunner(env={"COLUMNS": "200"})


def scpi(port: int, *commands: str) -> list[str]:
    """Ask a running supply something with a plain TCP client, one answer per query."""
    with socket.create_connection(("127.0.0.1", port), timeout=3) as sock:
        sock.sendall("".join(c + "\n" for c in commands).encode())
        want = sum(c.endswith("?") for c in commands)
        data = b""
        while data.count(b"\n") < want:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode().splitlines()


def port_of(described: dict) -> int:
    return int(described["instruments"]["psu"]["address"].split("::")[2])


def test_bench_check_reports_each_identity() -> None:
    result = runner.invoke(app, ["bench", "check", str(default_bench_path())])
    assert result.exit_code == 0, result.output
    assert "Emulated PSU" in result.output


def test_bench_check_with_a_dead_instrument_exits_1(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A bench file with everything a campaign needs, whose instruments do not answer."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("MB_TEST_OPTICAL_PASSWORD", "00000000")
    text = default_bench_path().read_text().replace(
        "emulated = true", f'address = "TCPIP::127.0.0.1::{port}::SOCKET"\ntimeout_s = 0.5'
    ).replace('optical_password = "emulator:"', 'optical_password = "env:MB_TEST_OPTICAL_PASSWORD"')
    path = tmp_path / "dead.toml"
    path.write_text(text.replace('name = "emulated"', 'name = "dead"'))
    result = runner.invoke(app, ["bench", "check", str(path)])
    assert result.exit_code == 1
    assert "cannot connect" in result.output


def test_bad_bench_file_exits_2_with_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text(default_bench_path().read_text().replace('backend = "scpi"',
                                                             'backend = "scip"'))
    proc = subprocess.run([sys.executable, "-m", "harness", "bench", "check", str(path)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{path}: instruments.psu.backend: unknown power backend 'scip'" in " ".join(
        proc.stderr.split())


def test_locked_bench_exits_3(tmp_path: Path, external_emulator: dict, lab_bench) -> None:
    path = lab_bench(external_emulator, tmp_path)
    with BenchLock("lab-psu").acquire("someone else"):
        result = runner.invoke(app, ["bench", "check", str(path)])
    assert result.exit_code == 3
    assert "in use by pid" in result.output


def test_emulate_json_endpoints_answer_a_plain_tcp_client(external_emulator: dict) -> None:
    assert set(external_emulator["devices"]) == {"esme", "gsme", "ch"}
    answer = scpi(port_of(external_emulator), "*IDN?")
    assert answer[0].startswith("meterbench,Emulated PSU")


INNER_SUITE = """
import pathlib, time

def test_hangs_with_power_on(power):
    power.set_voltage(230.0, 1)
    power.output(True, 1)
    pathlib.Path({marker!r}).write_text("on")
    time.sleep(60)
"""


def test_ctrl_c_during_a_run_leaves_the_supply_off(tmp_path: Path,
                                                   external_emulator: dict, lab_bench) -> None:
    bench = lab_bench(external_emulator, tmp_path)
    marker = tmp_path / "powered"
    suite = tmp_path / "test_inner.py"
    suite.write_text(INNER_SUITE.format(marker=str(marker)))
    audit = f"sqlite:///{tmp_path / 'audit.db'}"  # a lab bench audits to a log that exists
    AuditLog.open(audit, create=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(suite), "--mb-bench", str(bench), "-p",
         "no:cacheprovider", "-q", "--rootdir", str(tmp_path), "--mb-audit-db", audit],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "MB_LOCK_DIR": str(tmp_path / "locks")},
    )
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists(), "inner run never powered the DUT"
    port = port_of(external_emulator)
    assert scpi(port, "INST:NSEL 1", "OUTP?") == ["1"]
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    assert "KeyboardInterrupt" in output
    assert scpi(port, "INST:NSEL 1", "OUTP?") == ["0"], output
