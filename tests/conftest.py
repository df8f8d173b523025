"""Shared helpers for meterbench's own tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from _slow_first import SLOW_FIRST

# Loaded once in this process, before any in-process pytester run: pytester takes the
# modules a run imported out of sys.modules again afterwards, and cryptography's native
# bindings cannot be imported a second time in one process. The plugin imports none of this
# until a run asks for meterbench, so a file of such runs alone would import them per run.
import harness.emulator.bench
import harness.plugin.session  # noqa: F401
from harness.bench.session import BenchSession
from harness.config.loader import default_bench_path
from harness.drivers.permit import Permit
from harness.triage.audit import AuditLog
from harness.triage.gate import Gate

REPO = Path(__file__).resolve().parent.parent

pytest_plugins = ["pytester"]


# A shell that starts a command in the background without job control (a CI step, ``cmd &``
# in a script) makes it ignore SIGINT, and its children inherit that. meterbench rightly keeps
# an inherited SIG_IGN (``nohup``), so the tests of Ctrl-C would see none: they run with
# SIGINT as a terminal delivers it, here and in the processes they start.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

def pytest_configure(config: pytest.Config) -> None:
    """Hand files out in the collection order (below), not xdist's most-tests-first."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow files first, each file's own order kept (a stable sort)."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def place(item: pytest.Item) -> int:
        path = item.path.as_posix()
        return next((i for name, i in rank.items() if path.endswith("/" + name)), len(rank))

    items.sort(key=place)


_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                      if hasattr(signal, name))


@pytest.fixture(autouse=True)
def _signal_handlers_kept() -> Iterator[None]:
    """An in-process command (``emulate``, ``bench check``) installs handlers for the whole
    process: each test gives the run its own back, so no test sees another's."""
    saved = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    yield
    for sig, handler in saved.items():
        if signal.getsignal(sig) is not handler and handler is not None:
            signal.signal(sig, handler)


@pytest.fixture(autouse=True)
def _private_lock_dir(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Bench locks of the project's own tests live in a temporary folder, never the user's."""
    monkeypatch.setenv("MB_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "locks"))


@pytest.fixture(autouse=True, scope="session")
def _private_audit_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The audit key and checkpoints of the project's own tests: temporary, never the user's.
    Session-wide, so module-scoped fixtures that audit (the QA runs) have it too."""
    from harness.triage.audit_key import create_key_file

    key = tmp_path_factory.getbasetemp() / "audit-key" / "audit.key"
    if not key.exists():
        create_key_file(key)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MB_AUDIT_KEY", f"file:{key}")
        patch.setenv("MB_AUDIT_CHECKPOINTS", str(key.parent / "checkpoints.jsonl"))
        yield


@pytest.fixture
def external_emulator(tmp_path: Path) -> Iterator[dict]:
    """``meterbench emulate --json`` in its own process, as a lab script would start it."""
    proc = subprocess.Popen([sys.executable, "-m", "harness", "emulate", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    try:
        described = json.loads(line)
        described["proc"] = proc
        yield described
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


def lab_bench_for(described: dict, tmp_path: Path, name: str = "lab-psu") -> Path:
    """A 'physical' bench file whose supply is the externally running emulated one."""
    text = default_bench_path().read_text().replace('name = "emulated"', f'name = "{name}"')
    for instrument, info in described["instruments"].items():
        header = f"[instruments.{instrument}]"
        head, _, rest = text.partition(header)
        rest = rest.replace("emulated = true", f'address = "{info["address"]}"', 1)
        text = head + header + rest
    assert "emulated = true" not in text
    # Real hardware has no emulator: secrets; each meter's password goes in a secrets file
    # beside the bench, as a lab keeps it (the campaign checks it before the first device).
    from harness.emulator.optical.device_registers import optical_password

    secrets = tmp_path / f"{name}.secrets"
    config = BenchSession.from_file(None).config
    secrets.write_text("".join(
        f"{slot}={optical_password(SimpleNamespace(seed=cfg.emulation.seed))}\n"  # type: ignore[arg-type]
        for slot, cfg in config.slots.items()))
    for slot in config.slots:
        text = text.replace('secrets = { optical_password = "emulator:" }',
                            f'secrets = {{ optical_password = "file:{secrets.name}#{slot}" }}', 1)
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture
def lab_bench():
    """``lab_bench(described, folder)``: a 'physical' bench file on an external emulator."""
    return lab_bench_for


@pytest.fixture
def gate_audit(tmp_path: Path) -> AuditLog:
    """A fresh audit log in the test's folder."""
    return AuditLog.open(f"sqlite:///{tmp_path / 'audit.db'}", create=True)


@pytest.fixture
def gate(gate_audit: AuditLog, monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    """A supplier's access gate on the built-in emulated site (no site file), auditing to
    ``gate_audit``: what a triage run gives its device profiles."""
    monkeypatch.delenv("MB_SITE_CONFIG", raising=False)
    monkeypatch.setattr("harness.triage.site.DEFAULT_SITE_PATH", Path("/nonexistent/site.yaml"))
    opened = Gate.open(BenchSession.from_file(None).config, role="supplier", operator="tests",
                       audit=gate_audit)
    yield opened
    opened.close()


@pytest.fixture
def permit(gate: Gate) -> Iterator[Permit]:
    """For tests of drivers and emulators that send destructive commands themselves: the test
    runs under a supplier's permit for any instrument, audited as it would be in a run."""
    with gate.destructive("TRI-RST-01", device_id=None, instruments=None,
                          action="driver test") as held:
        yield held
