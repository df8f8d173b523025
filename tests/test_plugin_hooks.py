"""meterbench's own hooks (``harness.plugin.newhooks``), as a lab's conftest implements them: one
call per device, in the campaign's process only, after the verdict is stored; a hook that
raises loses no verdict and fails the run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.results.store import ResultStore

REPO = Path(__file__).resolve().parent.parent
FAST = str(REPO / "benches" / "emulated-fast.toml")
KEYS = {"item", "device_type", "device_id", "verdict", "category", "duis_return_reason",
        "why", "reset", "bench", "measurements", "findings", "campaign_id"}

# A lab's conftest: every call, with what the store and the JSON file held at that moment.
RECORDER = """
import json, os
from harness.results.store import ResultStore

def _seen(config, hook, payload):
    with ResultStore.open(config.getoption("mb_db"), create=False) as store:
        stored = payload["item"] in {
            r.item_key for r in store.results(with_measurements=False, with_traces=False)}
    written = open(config.getoption("mb_json")).read()
    with open(os.environ["HOOK_LOG"], "a") as out:
        out.write(json.dumps({"hook": hook, "pid": os.getpid(),
                              "worker": hasattr(config, "workerinput"), "stored": stored,
                              "in_json": f'"item": "{payload["item"]}"' in written,
                              "payload": payload}) + "\\n")

def pytest_meterbench_verdict(config, verdict):
    _seen(config, "verdict", verdict)
    verdict["verdict"] = "TAMPERED WITH"  # a copy: no other hook, no report sees it

def pytest_meterbench_device_interrupted(config, device):
    _seen(config, "interrupted", device)
"""


def _calls(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _run(pytester: pytest.Pytester, tmp_path: Path, *args: str) -> tuple[pytest.RunResult,
                                                                         Path, Path]:
    log, out = Path(os.environ["HOOK_LOG"]), tmp_path / "verdicts.jsonl"
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "--mb-bench", FAST,
        "--mb-db", f"sqlite:///{tmp_path / 'results.db'}", "--mb-triage-json", str(out),
        *args, timeout=240)
    return result, log, out


@pytest.fixture
def lab_conftest(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch,
                 tmp_path: Path) -> None:
    monkeypatch.setenv("HOOK_LOG", str(tmp_path / "hooks.jsonl"))  # the subprocess inherits
    pytester.makeconftest(RECORDER)


def test_a_conftest_hears_each_verdict_once_after_it_is_stored(
        pytester: pytest.Pytester, tmp_path: Path, lab_conftest: None) -> None:
    result, log, out = _run(pytester, tmp_path, "--pyargs", "test_suites",
                            "-k", "identity and (esme or gsme)")
    result.assert_outcomes(passed=6)
    calls = _calls(log)
    assert [c["payload"]["item"] for c in calls] == ["esme", "gsme"]
    assert {c["hook"] for c in calls} == {"verdict"}
    assert all(set(c["payload"]) == KEYS for c in calls), calls[0]["payload"]
    assert all(c["stored"] and c["in_json"] and not c["worker"] for c in calls)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    campaign = calls[0]["payload"]["campaign_id"]
    assert isinstance(campaign, int)
    assert [c["payload"] for c in calls] == [{**line, "campaign_id": campaign}
                                             for line in lines]
    assert calls[0]["payload"]["verdict"] == "INCONCLUSIVE"  # not reset in this short run
    assert "TAMPERED" not in result.stdout.str()  # the hook changed its own copy only
    assert result.ret == 0


def test_under_xdist_only_the_controller_hears_each_verdict_once(
        pytester: pytest.Pytester, tmp_path: Path, lab_conftest: None) -> None:
    pytest.importorskip("xdist")
    result, log, _ = _run(pytester, tmp_path, "--pyargs", "test_suites", "-n", "2",
                          "-k", "identity and (esme or gsme or ch)")
    assert result.ret == 0, result.outlines[-20:]
    calls = _calls(log)
    assert sorted(c["payload"]["item"] for c in calls) == ["ch", "esme", "gsme"]
    assert len({c["pid"] for c in calls}) == 1  # one process: the controller
    assert not any(c["worker"] for c in calls)
    assert all(c["stored"] and c["in_json"] for c in calls)
    assert all(set(c["payload"]) == KEYS for c in calls)
    assert len({c["payload"]["campaign_id"] for c in calls}) == 1  # the controller's campaign
    assert isinstance(calls[0]["payload"]["campaign_id"], int)
    result.stdout.fnmatch_lines(["2 workers [[]9 items[]]"])  # the tests ran on workers


def test_a_raising_hook_loses_no_verdict_and_fails_the_run(
        pytester: pytest.Pytester, tmp_path: Path, lab_conftest: None) -> None:
    pytester.makepyfile(mes="""
        import pytest

        @pytest.hookimpl(tryfirst=True)  # called before the conftest's: which must still run
        def pytest_meterbench_verdict(config, verdict):
            if verdict["item"] == "esme":
                raise ConnectionError("MES unreachable")
        """)
    pytester.syspathinsert()
    result, log, out = _run(pytester, tmp_path, "-p", "mes", "--pyargs", "test_suites",
                            "-k", "identity and (esme or gsme)")
    result.assert_outcomes(passed=6)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "*meterbench hook failures*",
        "pytest_meterbench_verdict of mes failed for esme: ConnectionError: MES unreachable*",
    ])
    # The other implementation still heard both devices; both verdicts are stored and written.
    assert [c["payload"]["item"] for c in _calls(log)] == ["esme", "gsme"]
    assert [json.loads(line)["item"] for line in out.read_text().splitlines()] == \
        ["esme", "gsme"]
    with ResultStore.open(f"sqlite:///{tmp_path / 'results.db'}", create=False) as store:
        rows = store.results(with_measurements=False, with_traces=False)
        assert sorted(r.item_key for r in rows) == ["esme", "gsme"]
    result.stdout.fnmatch_lines(["*meterbench triage verdicts*", "esme *INCONCLUSIVE*"])


def test_an_interrupted_device_is_told_apart_from_a_verdict(
        pytester: pytest.Pytester, tmp_path: Path, lab_conftest: None) -> None:
    pytester.makepyfile("""
        def test_stopped(dut):
            raise KeyboardInterrupt
        """)
    result, log, _ = _run(pytester, tmp_path, "-k", "esme")
    calls = _calls(log)
    assert [(c["hook"], c["payload"]["item"]) for c in calls] == [("interrupted", "esme")]
    assert calls[0]["payload"]["verdict"] == "INTERRUPTED"
    assert "test_stopped" in calls[0]["payload"]["why"]
    assert set(calls[0]["payload"]) == KEYS
    assert calls[0]["stored"] and calls[0]["in_json"]
    assert result.ret == pytest.ExitCode.INTERRUPTED
