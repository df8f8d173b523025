"""Hub returns sent to the emulated DCC move the hub's SMI status (Withdrawn), under the access
gate and audited; from a campaign, ``meterbench triage --send-hub-returns`` sends them after
the verdicts are recorded, and a return it cannot send is said and exits 6."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.bench.session import BenchSession
from harness.cli import app
from harness.config.loader import default_bench_path, load_bench
from harness.config.secrets import resolve_references
from harness.domain.types import SmiStatus
from harness.domain.vocabulary import ChFaultReason
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.bench import EmulatedBench
from harness.errors import AccessDeniedError
from harness.triage.audit import AuditLog
from harness.triage.classify import Verdict, VerdictKind
from harness.triage.gate import Gate
from harness.triage.hub_returns import hub_return, other_device_of, send_hub_return

ROOT = Path(__file__).resolve().parents[2]
REMOTE_BENCH = ROOT / "benches" / "emulated-remote.toml"


@pytest.fixture
def world() -> Iterator[tuple[EmulatedBench, DuisHttpAdapter]]:
    """The emulated bench, powered, its hub installed and commissioned through the DCC (8.14.1),
    and an adapter signing as the DCC's test Supplier."""
    bench = EmulatedBench(load_bench(default_bench_path())).start()
    try:
        bench.power_slots()
        deadline = time.monotonic() + 5
        while not all(d.ready for d in bench.devices.values()):
            assert time.monotonic() < deadline, "devices did not boot"
            time.sleep(0.01)
        config = bench.config.instruments["dcc"]
        secrets = resolve_references(config.options, key_path="instruments.dcc.options",
                                     emulator=lambda key: bench.secret("dcc", key))
        dcc = DuisHttpAdapter("dcc", config, bench.addresses["dcc"], secrets=secrets).open()
        try:
            hub = bench.devices["ch"].eui64
            dcc.ch_status_update("8.14.1", hub, mpxn="1900000000123", aerial_install=False,
                                 location="Indoors on external wall")
            deadline = time.monotonic() + 5
            while dcc.inventory_status(hub) is not SmiStatus.COMMISSIONED:
                assert time.monotonic() < deadline, "the DCC did not commission the hub"
                time.sleep(0.05)
            yield bench, dcc
        finally:
            dcc.close()
    finally:
        bench.stop()


def gate_as(role: str, audit: AuditLog, monkeypatch: pytest.MonkeyPatch) -> Gate:
    """The acting role's gate on the built-in emulated site, auditing to ``audit``."""
    monkeypatch.delenv("MB_SITE_CONFIG", raising=False)
    monkeypatch.setattr("harness.triage.site.DEFAULT_SITE_PATH", Path("/nonexistent/site.yaml"))
    return Gate.open(BenchSession.from_file(None).config, role=role, operator="tests",
                     audit=audit)


def audited(audit: AuditLog, variant: str) -> list[str]:
    return [e.outcome for e in audit.entries() if variant in e.action]


def test_a_fault_return_withdraws_the_hub_and_its_gpf(world, gate_audit: AuditLog,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    bench, dcc = world
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    verdict = Verdict(VerdictKind.FAULT, "WAN", ChFaultReason.AERIAL.value, "rssi -110 dBm")
    returned = hub_return(hub.eui64, verdict, return_type="post installation",
                          connection_method="hot-shoe", other_device_id=esme.eui64)
    assert returned is not None and returned.fields["reason"] == "Aerial fault"
    answer = send_hub_return(dcc, gate_as("supplier", gate_audit, monkeypatch), returned)
    assert answer.success
    assert dcc.inventory_status(hub.eui64) is SmiStatus.WITHDRAWN
    assert dcc.inventory_status(hub.gpf_eui64) is SmiStatus.WITHDRAWN
    assert audited(gate_audit, "8.14.3") == ["started", "done"]


def test_a_no_fault_return_withdraws_the_hub(world, gate_audit: AuditLog,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bench, dcc = world
    hub = bench.devices["ch"]
    returned = hub_return(hub.eui64, Verdict(VerdictKind.NO_FAULT_FOUND, reset=True))
    assert returned is not None and returned.variant == "8.14.4"
    send_hub_return(dcc, gate_as("supplier", gate_audit, monkeypatch), returned)
    assert dcc.inventory_status(hub.eui64) is SmiStatus.WITHDRAWN
    assert audited(gate_audit, "8.14.4") == ["started", "done"]


def test_an_rsa_may_not_return_a_hub(world, gate_audit: AuditLog,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """DUIS gives 8.14.3/8.14.4 to suppliers only: refused, audited, the hub untouched."""
    bench, dcc = world
    hub = bench.devices["ch"]
    returned = hub_return(hub.eui64, Verdict(VerdictKind.NO_FAULT_FOUND, reset=True))
    assert returned is not None
    with pytest.raises(AccessDeniedError, match="--fallback-supplier"):
        send_hub_return(dcc, gate_as("rsa", gate_audit, monkeypatch), returned)
    assert dcc.inventory_status(hub.eui64) is SmiStatus.COMMISSIONED
    refusals = [(e.action, e.outcome) for e in gate_audit.entries()]
    assert refusals == [("fallback to supplier for 8.14.4", "refused")]  # none went out


def test_the_esme_at_the_hub_is_the_other_device(world, permit) -> None:
    bench, dcc = world
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    assert other_device_of(dcc, hub.eui64) is None  # nothing in its HAN yet
    dcc.pre_notify(esme.eui64, device_type="ESME", manufacturer="EMUL", model="EMU-ESME-1",
                   firmware_version="010402")
    dcc.whitelist(hub.eui64, esme.eui64, esme.label.install_code, mpxn="1900000000123")
    assert other_device_of(dcc, hub.eui64) == esme.eui64


def triage(tmp_path: Path, bench: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--bench", str(bench), "--slots", "--json",
         "--time-scale", "20", "--send-hub-returns", "--hub-connection", "hot-shoe",
         "--hub-return-type", "post installation", *extra],
        cwd=tmp_path, capture_output=True, text=True, timeout=180)


def verdicts(proc: subprocess.CompletedProcess[str]) -> dict[str, dict]:
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {line["item"]: line for line in lines}


def faulty_hub_bench(tmp_path: Path) -> Path:
    """emulated-remote with a hub whose standby current is far above its envelope."""
    text = REMOTE_BENCH.read_text()
    old = 'emulation = { model = "EMU-CH-1", seed = 3 }'
    assert old in text
    path = tmp_path / "faulty-hub.toml"
    path.write_text(text.replace(old, 'emulation = { model = "EMU-CH-1", seed = 3, '
                                      'faults = ["excessive_standby_current"] }'))
    return path


def test_a_campaign_returns_its_healthy_hub_with_8_14_4(tmp_path: Path) -> None:
    proc = triage(tmp_path, REMOTE_BENCH)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert verdicts(proc)["ch"]["verdict"] == "NO_FAULT_FOUND"
    assert "hub return sent: ch: 8.14.4" in proc.stderr
    assert "No Fault Return (general): I0; SMI status now Withdrawn" in proc.stderr


def test_a_return_not_sent_is_said_and_the_verdict_kept(tmp_path: Path) -> None:
    """No ESME at the hub and none given: 8.14.3 cannot be made; the FAULT is still recorded
    and the run exits 6 naming what was missing."""
    proc = triage(tmp_path, faulty_hub_bench(tmp_path), "--", "-k", "not esme and not gsme")
    assert proc.returncode == 6, proc.stderr[-2000:]
    assert verdicts(proc)["ch"]["verdict"] == "FAULT"
    assert "hub return not sent" in proc.stderr and "OtherDeviceID" in proc.stderr


def test_a_campaign_returns_its_faulty_hub_with_8_14_3(tmp_path: Path) -> None:
    """Stopped by -x at the hub's first failure (that test's teardown is the run's last): the
    FAULT is recorded, then the hub returned with its reason, before the bench closes."""
    proc = triage(tmp_path, faulty_hub_bench(tmp_path), "--hub-other-device",
                  "00-DB-12-34-56-78-90-A0", "--", "-k", "not esme and not gsme", "-x")
    assert proc.returncode == 1, proc.stderr[-2000:]  # a FAULT: a device failed
    got = verdicts(proc)["ch"]
    assert (got["verdict"], got["duis_return_reason"]) == ("FAULT", "manufacturing defect")
    assert "hub return sent: ch: 8.14.3" in proc.stderr
    assert "reason=Manufacturing defect: I0; SMI status now Withdrawn" in proc.stderr


@pytest.mark.parametrize(("args", "said"), [
    (["--hub-connection", "cradle"], "go with --send-hub-returns"),
    (["--send-hub-returns", "--hub-connection", "glue"], "expected cradle, esme or hot-shoe"),
    (["--send-hub-returns", "--hub-return-type", "later"], "'post installation'"),
    (["--send-hub-returns", "--hub-other-device", "ESME-1"], "not an EUI-64"),
    (["--send-hub-returns", "--workers", "2"], "without --workers"),
])
def test_hub_return_options_that_do_not_fit_are_usage_errors(
        args: list[str], said: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused in one line (exit 2) before any device is triaged."""
    def reached(*_: object, **__: object) -> int:
        raise AssertionError("the campaign started")

    monkeypatch.setattr(pytest, "main", reached)
    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        app, ["triage", "--bench", str(REMOTE_BENCH), "--slots", *args])
    assert result.exit_code == 2, result.output
    assert said in result.output and "Traceback" not in result.output
