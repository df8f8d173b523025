"""The QA install/uninstall suite, run by ``meterbench qa`` on the emulated bench as each role.

Both runs go at once (each emulated bench is private to its process).  The suite's steps
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

REPO = Path(__file__).resolve().parents[2]
INSTALL = ["Pending", "Whitelisted", "InstalledNotCommissioned", "Commissioned",
           "Commissioned", "Commissioned", "Commissioned", "Decommissioned", "Pending"]
"""The SMI status after each of the nine steps (reads change nothing)."""
VARIANTS = ["12.2", "8.11", "-", "8.1.1", "7.4", "11.2", "6.13", "8.3", "MBP.2"]
RSA_REFUSED = {"8.11", "8.1.1", "8.3", "MBP.2"}
"""What DUIS (and meterbench's proposal for MBP.2) refuses an RSA."""


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[int, list[dict],
                                                                                  str]]]:
    """``meterbench qa --json`` as a supplier and as an rsa, side by side."""
    cwd = tmp_path_factory.mktemp("qa")
    procs = {role: subprocess.Popen([sys.executable, "-m", "harness", "qa", "--json",
                                     "--role", role], cwd=cwd, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
             for role in ("supplier", "rsa")}
    done = {}
    try:
        for role, proc in procs.items():
            out, err = proc.communicate(timeout=120)
            done[role] = (proc.returncode, [json.loads(line) for line in out.splitlines()
                                            if line.startswith("{")], err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    yield done


def steps_of(steps: list[dict], slot: str) -> list[dict]:
    """One slot's steps, in order."""
    return [s for s in steps if s["slot"] == slot]


@pytest.mark.parametrize("slot", ["esme", "gsme"])
def test_a_supplier_installs_and_uninstalls(runs: dict, slot: str) -> None:
    code, steps, err = runs["supplier"]
    assert code == 0, err
    mine = steps_of(steps, slot)
    assert [s["variant"] for s in mine] == VARIANTS
    assert [s["final"] for s in mine] == INSTALL
    requests = [s for s in mine if s["variant"] != "-"]
    assert all(s["allowed"] and s["answer"] == "I0" and s["done_by"] == "supplier"
               for s in requests)
    assert mine[0]["before"] == "Pending"  # and back there at the end: its original state
    assert "PROPOSED" in mine[-1]["request"]


@pytest.mark.parametrize("slot", ["esme", "gsme"])
def test_an_rsa_reads_but_is_refused_what_changes_the_device(runs: dict, slot: str) -> None:
    code, steps, err = runs["rsa"]
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
