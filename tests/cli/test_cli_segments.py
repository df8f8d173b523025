"""A long batch runs as consecutive pytest sessions of ``--segment`` devices (issue 20, Scale):
no process holds every device's tests at once, yet the campaign is one — one store campaign,
one verdicts file, one summary, one conformance report, one JUnit XML."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.cli.progress import CampaignProgress
from harness.cli.segments import merge_junit, plan, run_sessions, windows
from harness.plugin.triage import _window
from harness.plugin.triage_run import VERDICT_PROP

REPO = Path(__file__).resolve().parents[2]

# Loaded into the campaign's pytest sessions with -p: how many tests each one collected.
COUNTER = '''
import os

def pytest_collection_finish(session):
    with open(os.environ["SESSIONS_FILE"], "a") as out:
        out.write(f"{len(session.items)}\\n")
'''


def test_windows_hold_a_segment_of_devices_still_to_do() -> None:
    keys = [f"item{n}" for n in range(1, 8)]
    assert windows(keys, set(), 3) == [(0, 3), (3, 6), (6, 7)]
    # a resumed campaign: the done devices take no window's room
    assert windows(keys, {"item1", "item2", "item5"}, 2) == [(2, 4), (5, 7)]
    assert windows(keys, set(keys), 2) == []


def test_one_session_when_the_batch_fits_or_an_argument_spans_one() -> None:
    keys = [f"item{n}" for n in range(1, 6)]
    assert plan(keys, 5, set(), []) == [[]]
    assert plan(keys, 0, set(), []) == [[]]
    assert plan(keys, 2, set(), ["-x"]) == [[]]
    assert plan(keys, 2, set(), ["--maxfail=2"]) == [[]]
    assert plan(keys, 2, set(), ["-xvs"]) == [[]]
    assert plan(keys, 2, {"item1"}, ["-k", "power"]) == [
        ["--mb-window", "1:3"], ["--mb-window", "3:5"]]


class _Options:
    def __init__(self, **values: object) -> None:
        self.values = values

    def getoption(self, name: str) -> object:
        return self.values.get(name)


@pytest.mark.parametrize("text", ["3", "5:2", "a:4", "2:2", "-1:3"])
def test_a_bad_window_is_a_usage_error_naming_it(text: str) -> None:
    with pytest.raises(pytest.UsageError, match=re.escape(f"--mb-window {text!r}")):
        _window(_Options(mb_window=text), "b.csv")  # type: ignore[arg-type]


def test_a_window_needs_a_batch() -> None:
    with pytest.raises(pytest.UsageError, match="--mb-window goes with --mb-batch"):
        _window(_Options(mb_window="0:2"), None)  # type: ignore[arg-type]
    assert _window(_Options(mb_window="2:9"), "b.csv") == (2, 9)  # type: ignore[arg-type]


def _sessions(statuses: list[int]) -> tuple[int, list[list[str]], list[bool]]:
    """Run four windows whose sessions end with ``statuses``: (code, arguments, holds)."""
    ran: list[list[str]] = []
    holds: list[bool] = []

    def main(args: list[str]) -> int:
        ran.append(args)
        return statuses[len(ran) - 1]

    windows_args = [["--mb-window", f"{n}:{n + 1}"] for n in range(4)]
    code = run_sessions(main, ["suites"], windows_args, None, holds.append)
    return code, ran, holds


def test_sessions_go_on_after_failed_devices_and_stop_at_an_interrupt() -> None:
    code, ran, holds = _sessions([1, 0, 6, 0])  # 6: a hub return was not sent
    assert code == 6 and len(ran) == 4
    assert ran[3] == ["suites", "--mb-window", "3:4"]
    assert holds == [True, True, True, False, False]  # the display is let go at the end
    code, ran, _ = _sessions([1, 0, 0, 0])
    assert code == 1 and len(ran) == 4
    code, ran, holds = _sessions([0, 2, 0, 0])  # interrupted in the second session
    assert code == 2 and len(ran) == 2
    assert holds[-1] is False


def test_junit_parts_join_into_one_file(tmp_path: Path) -> None:
    parts = []
    for n in range(2):
        part = tmp_path / f"junit.xml.part{n}"
        part.write_text('<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
                        f'<testsuite name="pytest" tests="1"><testcase name="t{n}" />'
                        '</testsuite></testsuites>')
        parts.append(part)
    merge_junit([*parts, tmp_path / "junit.xml.part9"], tmp_path / "junit.xml")  # 9: none
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert [c.get("name") for c in root.iter("testcase")] == ["t0", "t1"]
    assert len(root.findall("testsuite")) == 2
    assert not any(p.exists() for p in parts)


def test_the_display_keeps_no_measurements_of_a_verdict() -> None:
    """The controller keeps a line a device for the closing tables: what they show, not the
    measurements and findings (the store and the verdicts file keep those)."""
    progress = CampaignProgress(console=None)
    try:
        line = {"item": "item1", "device_type": "ESME", "device_id": "00DB", "verdict": "FAULT",
                "category": "HAN", "reset": False, "why": "no join", "bench": "b",
                "measurements": [{"name": f"m{n}", "value": n} for n in range(30)],
                "findings": [{"clause": "TRI-HAN-02"}]}
        report = pytest.TestReport("t[item1]", ("t", 1, "t"), {}, "passed", None, "call",
                                   user_properties=[(VERDICT_PROP, line)])
        progress.pytest_runtest_logreport(report)
        assert progress.lines == [{k: line[k] for k in ("item", "device_type", "device_id",
                                                        "verdict", "category", "reset", "why")}]
        assert progress.counts["FAULT"] == 1
    finally:
        progress.stop()


def test_a_long_batch_runs_in_sessions_of_segment_devices(tmp_path: Path) -> None:
    (tmp_path / "mb_session_counter.py").write_text(COUNTER)
    sessions = tmp_path / "sessions.txt"
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "SESSIONS_FILE": str(sessions),
           "MB_LOCK_DIR": str(tmp_path / "locks")}
    out, db = tmp_path / "out", tmp_path / "r.db"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "triage", "--devices", "3", "--segment", "1",
         "--time-scale", "100", "--bench", str(REPO / "benches" / "emulated-fast.toml"),
         "--db", f"sqlite:///{db}", "--out", str(out), "--",
         "-k", "power_on", "-p", "mb_session_counter"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    # three sessions, each holding one device's tests only (one session held all three)
    assert sessions.read_text().split() == ["1", "1", "1"], proc.stderr[-2000:]
    assert "triage: 3 devices" in proc.stdout  # one summary for the whole campaign
    lines = [json.loads(x) for x in (out / "verdicts.jsonl").read_text().splitlines()]
    assert sorted(x["item"] for x in lines) == ["item1", "item2", "item3"]
    with sqlite3.connect(db) as conn:  # one campaign, finished once every device is in
        assert conn.execute("select count(*), count(finished) from campaign").fetchone() \
            == (1, 1)
        assert conn.execute("select count(*) from device_result").fetchone() == (3,)
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    assert sorted(re.sub(r".*\[|\]", "", c.get("name", "")) for c in cases) == \
        ["item1", "item2", "item3"]
    assert not list(out.glob("junit.xml.part*"))
    counted = re.findall(r"\| TRI-PWR-01 [^|]*\| \w+ \| (\d+) passed", (
        out / "conformance.md").read_text())
    assert sum(map(int, counted)) == 3  # the report counts every session's devices


def test_the_attention_list_is_printed_a_page_at_a_time() -> None:
    """rich lays a whole table out before printing it: thousands of faulty devices are
    printed in tables of a page each, the same rows in the same order."""
    progress = CampaignProgress(console=None)
    try:
        for n in range(5):
            progress._add({"item": f"item{n}", "device_type": "ESME", "device_id": None,
                           "verdict": "FAULT" if n != 2 else "NO_FAULT_FOUND",
                           "category": "HAN", "reset": False, "why": f"why {n}"})
        pages = list(progress.attention(page=3))
        assert [t.row_count for t in pages] == [3, 1]
        assert pages[0].title == "devices needing attention"
        assert pages[1].title == "devices needing attention (continued: 4 to 4 of 4)"
        assert [cell for t in pages for cell in t.columns[0].cells] == \
            ["item0", "item1", "item3", "item4"]
    finally:
        progress.stop()
