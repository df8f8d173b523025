"""The QA install/uninstall suite, run by ``meterbench qa`` on the emulated bench as each role.

The runs go at once (each emulated bench is private to its process).  The suite's steps
arrive as JSON lines; what the Supplier and the RSA may and may not do is asserted step by
step against DUIS's eligibility table, and the SMI transitions for the ESME and the GSME.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.triage.audit import AuditLog

REPO = Path(__file__).resolve().parents[2]
INSTALL = ["Pending", "Whitelisted", "InstalledNotCommissioned", "Commissioned",
           "Commissioned", "Commissioned", "Commissioned", "Decommissioned", "Pending"]
"""The SMI status after each of the nine steps (reads change nothing)."""
VARIANTS = ["12.2", "8.11", "-", "8.1.1", "7.4", "11.2", "6.13", "8.3", "MBP.2"]
RSA_REFUSED = {"8.11", "8.1.1", "8.3", "MBP.2"}
"""What DUIS (and meterbench's proposal for MBP.2) refuses an RSA."""


RUNS = {"supplier": ["--role", "supplier"], "rsa": ["--role", "rsa"],
        "rsa-fallback": ["--role", "rsa", "--fallback-supplier"]}
"""``meterbench qa`` arguments of each run."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, list[dict],
                                                                                  str]]]:
    """``meterbench qa --json`` as a supplier, as an rsa, and as an rsa choosing the Supplier
    fallback, side by side, each auditing to its own log (``audit`` in the tuple's place 3)."""
    cwd = tmp_path_factory.mktemp("qa")
    procs, logs = {}, {}
    for name, args in RUNS.items():
        logs[name] = f"sqlite:///{cwd / (name + '.db')}"
        AuditLog.open(logs[name], create=True)
        procs[name] = subprocess.Popen([sys.executable, "-m", "harness", "qa", "--json", *args,
                                        "--", "--mb-audit-db", logs[name]], cwd=cwd,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = {}
    try:
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=180)
            done[name] = (proc.returncode, [json.loads(line) for line in out.splitlines()
                                            if line.startswith("{")], err,
                          list(AuditLog.open(logs[name]).entries()))
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    yield done


def destructive_entries(entries: list, device_id: str) -> list[tuple[str, str, str]]:
    """(variant, outcome, signer) of each Service Request entry for ``device_id``, in order."""
    return [(e.action.split()[0], e.outcome, e.detail["signer"]) for e in entries
            if e.device_id == device_id and "signer" in e.detail]


def steps_of(steps: list[dict], slot: str) -> list[dict]:
    """One slot's steps, in order."""
    return [s for s in steps if s["slot"] == slot]


@pytest.mark.parametrize("slot", ["esme", "gsme"])
def test_a_supplier_installs_and_uninstalls(runs: dict, slot: str) -> None:
    code, steps, err, _ = runs["supplier"]
    assert code == 0, err
    mine = steps_of(steps, slot)
    assert [s["variant"] for s in mine] == VARIANTS
    assert [s["final"] for s in mine] == INSTALL
    requests = [s for s in mine if s["variant"] != "-"]
    assert all(s["allowed"] and s["answer"] == "I0" and s["done_by"] == "supplier"
               for s in requests)
    assert mine[0]["before"] == "Pending"  # and back there at the end: its original state
    assert "PROPOSED" in mine[-1]["request"]


def test_every_destructive_request_is_audited_before_and_after(runs: dict) -> None:
    """Issue 12: 8.11, 8.1.1, 8.3 and MBP.2 each leave a STARTED entry committed before the
    request went out, then DONE, for the ESME and the GSME; the QA route wrote none before."""
    _, _, _, entries = runs["supplier"]
    ids = {e.device_id for e in entries}
    assert len(ids) == 2, entries  # the ESME and the GSME
    for device_id in ids:
        got = destructive_entries(entries, device_id)
        assert [v for v, outcome, _ in got if outcome == "started"] == [
            "8.11", "8.1.1", "8.3", "MBP.2"]
        assert [o for _, o, _ in got] == ["started", "done"] * 4
    assert all(e.role == "supplier" for e in entries)


@pytest.mark.parametrize("slot", ["esme", "gsme"])
def test_an_rsa_is_refused_what_changes_the_device_and_the_journey_stops(runs: dict,
                                                                         slot: str) -> None:
    """Without --fallback-supplier nothing is made with the Supplier's credentials: the refusal
    and the declined fallback are audited, the device stays as it was."""
    code, steps, err, entries = runs["rsa"]
    assert code == 0, err
    mine = steps_of(steps, slot)
    assert [s["variant"] for s in mine] == ["12.2", "8.11"]
    assert (mine[1]["answer"], mine[1]["done_by"], mine[1]["final"]) == ("E2", "nobody",
                                                                         "Pending")
    signers = {signer for d in {e.device_id for e in entries}
               for _, _, signer in destructive_entries(entries, d)}
    assert len(signers) == 1  # the RSA's DCC user only
    assert [e.outcome for e in entries if e.action == "fallback to supplier for 8.11"] == [
        "refused", "refused"]
    assert [(v, o) for d in sorted({e.device_id for e in entries})
            for v, o, _ in destructive_entries(entries, d)] == [("8.11", "started"),
                                                               ("8.11", "refused")] * 2


@pytest.mark.parametrize("slot", ["esme", "gsme"])
def test_an_rsa_reads_but_is_refused_what_changes_the_device(runs: dict, slot: str) -> None:
    code, steps, err, entries = runs["rsa-fallback"]
    assert code == 0, err
    mine = steps_of(steps, slot)
    assert [s["variant"] for s in mine] == VARIANTS
    assert [s["final"] for s in mine] == INSTALL  # the QA Supplier made what the RSA may not
    for step in mine:
        if step["variant"] in RSA_REFUSED:
            assert (step["allowed"], step["answer"]) == (False, "E2"), step
            assert step["after"] == step["before"], f"a refused {step['variant']} changed the SMI"
            assert step["done_by"] == "QA Supplier"
        elif step["variant"] != "-":
            assert (step["allowed"], step["answer"], step["done_by"]) == (True, "I0", "rsa")
    reads = [s for s in mine if s["step"] == "read"]
    assert {s["variant"] for s in reads} == {"7.4", "11.2", "6.13"}
    assert all(s["before"] == s["after"] == "Commissioned" for s in reads)
    fallbacks = [e for e in entries if e.action.startswith("fallback to supplier")]
    assert {e.detail["request"] for e in fallbacks} == RSA_REFUSED  # which request
    assert all(e.role == "rsa" and e.detail["user"] and "refused to rsa" in e.detail["why"]
               for e in fallbacks)  # who, and why
    assert [e.outcome for e in fallbacks] == ["started", "done"] * 8


def test_the_triage_run_does_not_collect_the_qa_suite(tmp_path: Path) -> None:
    """``pytest --pyargs test_suites`` (what ``meterbench triage`` runs) collects the triage
    stages only; the QA suite is collected when it is named."""
    def collect(*target: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                               "-p", "no:cacheprovider", *target], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120)
        return [line for line in proc.stdout.splitlines() if "::" in line]

    triage = collect("--pyargs", "test_suites")
    assert triage and all(line.split("::")[0].split("/")[-1].startswith("test_")
                          for line in triage)
    assert not [line for line in triage if "qa" in line.split("::")[0]]
    named = collect(str(REPO / "test_suites" / "qa" / "install_uninstall.py"))
    assert len(named) == 14  # seven steps for each of the ESME and GSME slots
