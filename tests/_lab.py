"""A "lab" bench whose instruments outlive the run under test: ``meterbench emulate --json
--log FILE`` in its own process, and a bench file that reaches it as real hardware.

Shared by the signal tests and ``benchmarks/signal_matrix.py``: what a signal did to the
bench is read from the emulated supply's own log of the commands it received.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from harness.config.loader import default_bench_path, load_bench
from harness.emulator.optical.device_registers import optical_password
from harness.emulator.power.scpi import LoggedCommand, outputs_from_log, read_command_log

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Lab:
    """An external emulated bench and the bench file that drives it as real hardware."""

    proc: subprocess.Popen[str]
    described: dict
    log: Path
    bench: Path

    def commands(self) -> list[LoggedCommand]:
        """What the instruments have received so far."""
        return read_command_log(self.log)

    def outputs(self) -> dict[int, bool]:
        """The supply's outputs as its own log says it was last told."""
        channels = int(load_bench(self.bench).instruments["psu"].options.get("channels", 1))
        return outputs_from_log(self.commands(), "psu", channels)

    def wait_for(self, command: str, *, after: int = 0, timeout: float = 60.0,
                 alive: subprocess.Popen | None = None) -> int:
        """Block until the supply logs ``command`` (from entry ``after``); its index."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            entries = self.commands()
            for i in range(after, len(entries)):
                if entries[i].command == command:
                    return i
            if alive is not None and alive.poll() is not None:
                raise AssertionError(f"the run ended (status {alive.returncode}) before the "
                                     f"supply received {command!r}")
            time.sleep(0.01)
        raise AssertionError(f"the supply never received {command!r} in {timeout} s")

    def stop(self) -> None:
        """Stop the emulator (SIGTERM: it exits cleanly)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_lab(folder: Path, name: str = "lab-sig") -> Lab:
    """Start ``meterbench emulate --json --log`` and write a bench file for it in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "instruments.log"
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--json", "--log",
                             str(log)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=REPO)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        described = json.loads(line)
    except json.JSONDecodeError:
        proc.kill()
        raise AssertionError(f"meterbench emulate printed no endpoints: {line!r}") from None
    return Lab(proc, described, log, write_lab_bench(described, folder, name))


def write_lab_bench(described: dict, folder: Path, name: str) -> Path:
    """A bench file whose instruments are the running emulator's, secrets in a file beside."""
    source = default_bench_path()
    text = source.read_text().replace('name = "emulated"', f'name = "{name}"')
    for instrument, info in described["instruments"].items():
        header = f"[instruments.{instrument}]"
        head, _, rest = text.partition(header)
        text = head + header + rest.replace("emulated = true", f'address = "{info["address"]}"',
                                            1)
    config = load_bench(source)
    secrets = folder / f"{name}.secrets"
    secrets.write_text("".join(
        f"{slot}={optical_password(SimpleNamespace(seed=cfg.emulation.seed))}\n"  # type: ignore[arg-type]
        for slot, cfg in config.slots.items()))
    for slot in config.slots:
        text = text.replace('secrets = { optical_password = "emulator:" }',
                            f'secrets = {{ optical_password = "file:{secrets.name}#{slot}" }}', 1)
    assert "emulated = true" not in text and "emulator:" not in text.split("[slots", 1)[1]
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


def meterbench(*args: str) -> list[str]:
    """The command line that runs ``meterbench ARGS`` with this interpreter."""
    return [sys.executable, "-m", "harness", *args]


def audit_key(folder: Path) -> str:
    """The audit key reference a run under test uses: the test session's own (conftest sets
    MB_AUDIT_KEY), else a key made once in ``folder`` (a benchmark run)."""
    from harness.triage.audit_key import create_key_file

    named = os.environ.get("MB_AUDIT_KEY")
    if named:
        return named
    key = folder / "audit-key" / "audit.key"
    if not key.exists():
        create_key_file(key)
    return f"file:{key}"


def audit_log(folder: Path) -> str:
    """An initialised audit log in ``folder`` (a lab bench audits to a log that exists)."""
    from harness.triage.audit import AuditLog

    url = f"sqlite:///{folder / 'audit.db'}"
    AuditLog.open(url, create=True, key=audit_key(folder)).close()
    return url


def lab_site(folder: Path) -> Path:
    """A site access file granting every login the supplier role (the lab's own site file),
    protected as the gate demands: not writable by anyone but its owner (root in CI)."""
    site = folder / "site" / "site.yaml"
    site.parent.mkdir(parents=True, exist_ok=True)
    site.write_text('site: meterbench tests\nusers:\n  "*": [supplier]\n')
    site.chmod(0o644)
    return site


def run_env(folder: Path) -> dict[str, str]:
    """The environment of a run under test: its own lock folder, and a site file that makes
    the operator a supplier (a lab bench without one grants no destructive role)."""
    return {**os.environ, "MB_LOCK_DIR": str(folder / "locks"),
            "MB_SITE_CONFIG": str(lab_site(folder)), "MB_AUDIT_KEY": audit_key(folder),
            "MB_AUDIT_CHECKPOINTS": str(folder / "checkpoints.jsonl")}


def signal_at(proc: subprocess.Popen, lab: Lab, trigger: str, signals: list[int],
              gap_s: float = 0.5, after: int = 0,
              then: Callable[[], None] | None = None) -> float:
    """Send ``signals`` (``gap_s`` apart) to ``proc`` once the supply logs ``trigger``."""
    lab.wait_for(trigger, after=after, alive=proc)
    sent = time.time()
    for i, sig in enumerate(signals):
        if i:
            time.sleep(gap_s)
        if proc.poll() is None:
            proc.send_signal(sig)
    if then is not None:
        then()
    return sent
