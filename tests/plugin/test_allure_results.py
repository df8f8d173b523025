"""Allure results of a meterbench run as a QA team reads them (issue 15 §4).

Each case runs a small suite on the fast emulated bench with ``--alluredir`` (pytester, in
process) and reads the allure-results JSON it wrote: a suite per device, a step per
measurement with its value, limits and outcome, labels (device, type, model, verdict,
category), links to the spec clauses, unquoted parameters, the environment, readable
tear-downs; and nothing of this in a run that does not use meterbench or Allure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import harness.plugin.allure_results as allure_results  # loaded once, before pytester runs
from harness.plugin.allure_files import add_verdicts, verdict_suite
from harness.triage.record import Measurement

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

REPO = Path(__file__).resolve().parents[2]
FAST = str(REPO / "benches" / "emulated-fast.toml")

POWER_SUITE = """
import pytest

@pytest.mark.spec("TRI-PWR-01")
@pytest.mark.device_type("ESME")
def test_power_on_draws_current(dut, measure):
    '''Power on, then measure.'''
    measure("off_current", 0.0, "A", high=1e-6, category="power")
    measure("peak_current", 2.0, "A", low=1e-4, high=1.2, category="power")
    measure("boot_phase", "inrush", category="power")
"""


def _results(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*-result.json"))]


def _labels(result: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label in result["labels"]:
        found.setdefault(label["name"], []).append(label["value"])
    return found


@pytest.fixture(scope="module")
def power_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """One ESME through a power test whose peak is out of limits, with ``--alluredir``."""
    pytester_dir = tmp_path_factory.mktemp("allure-run")
    results = pytester_dir / "allure"
    (pytester_dir / "test_10_power.py").write_text(POWER_SUITE)
    code = pytest.main([str(pytester_dir / "test_10_power.py"), "-p", "no:cacheprovider",
                        "-q", "--mb-bench", FAST, "--mb-no-prompts",
                        f"--alluredir={results}", "--rootdir", str(pytester_dir)])
    sys.modules.pop("test_10_power", None)  # pytester's runs below collect their own
    assert code == pytest.ExitCode.TESTS_FAILED  # the peak is out of limits
    found = _results(results)
    assert len(found) == 1
    return results, found[0]


def test_a_device_is_a_suite_with_its_stage_and_verdict(power_run: tuple[Path, dict]) -> None:
    _, result = power_run
    labels = _labels(result)
    assert labels["parentSuite"] == ["bench emulated-fast (emulated)"]
    assert labels["subSuite"] == ["10 power"]
    assert labels["verdict"] == ["FAULT"]
    assert labels["category"] == ["power"]
    (suite,) = labels["suite"]
    assert suite.startswith("esme ESME ") and suite.endswith(" · FAULT power")
    assert labels["item"] == ["esme"] and labels["device_type"] == ["ESME"]
    assert labels["device_id"] == [suite.split()[2]]  # as the device reported it
    assert "model" not in labels  # slot mode, no identity stage: no model known, none made up
    assert "emulated" in labels["tag"]
    first = [lab["name"] for lab in result["labels"][:5]]  # what a reader looks for first
    assert first == ["item", "device_id", "device_type", "verdict", "category"]
    # the tree Allure 3 shows without a config: bench, device, stage (not the file path)
    assert result["titlePath"] == [*labels["parentSuite"], suite, "10 power"]


def test_each_measurement_is_a_step_with_value_limits_and_outcome(
        power_run: tuple[Path, dict]) -> None:
    _, result = power_run
    steps = {s["name"]: s for s in result["steps"]}
    assert set(steps) == {"off_current = 0 A (≤ 1 µA): PASS",
                          "peak_current = 2 A (100 µA to 1.2 A): FAIL",
                          "boot_phase = inrush (no limits): recorded"}
    failed = steps["peak_current = 2 A (100 µA to 1.2 A): FAIL"]
    assert failed["status"] == "failed"
    assert "peak_current = 2 A, outside its limits (100 µA to 1.2 A)" in \
        failed["statusDetails"]["message"]
    params = {p["name"]: p["value"] for p in failed["parameters"]}
    assert params == {"measurement": "peak_current", "value": "2 A",
                      "limits": "100 µA to 1.2 A", "outcome": "FAIL", "clause": "TRI-PWR-01"}
    assert steps["off_current = 0 A (≤ 1 µA): PASS"]["status"] == "passed"
    assert steps["boot_phase = inrush (no limits): recorded"]["status"] == "passed"
    assert result["status"] == "failed"  # the test itself fails after its body


def test_title_link_description_and_parameters_read_plainly(
        power_run: tuple[Path, dict]) -> None:
    _, result = power_run
    assert result["name"] == "TRI-PWR-01 power on draws current"
    (link,) = result["links"]
    assert link["type"] == "tms" and link["name"].startswith("TRI-PWR-01 Power-on")
    assert link["url"].startswith("file://") and link["url"].endswith("spec.yaml#TRI-PWR-01")
    assert result["description"].startswith(
        "**Device verdict (esme): FAULT power**: TRI-PWR-01: ")  # why, before the test's own
    assert "Power on, then measure." in result["description"]
    assert "**TRI-PWR-01 Power-on" in result["description"]  # the clause's own text
    params = {p["name"]: p for p in result["parameters"]}
    assert params["dut"]["value"] == "esme"  # not "'esme'"
    assert params["slot"]["value"] == "esme" and params["slot"]["excluded"]


def test_environment_categories_and_readable_teardowns(power_run: tuple[Path, dict]) -> None:
    results, _ = power_run
    env = dict(line.split("=", 1) for line in
               (results / "environment.properties").read_text().splitlines())
    assert env["bench"] == "emulated-fast" and env["bench.kind"] == "emulated"
    assert env["bench.slots"] == "esme (ESME), gsme (GSME), ch (CHF)"
    assert env["meterbench"] and env["pytest"] == pytest.__version__
    assert env["allure-pytest"] != "not installed"
    assert env["instrument.psu"] == "power scpi emulated"
    categories = json.loads((results / "categories.json").read_text())
    assert [c["matchedStatuses"] for c in categories] == [["failed"], ["broken"]]
    afters = [fx["name"] for p in results.glob("*-container.json")
              for fx in json.loads(p.read_text()).get("afters", [])]
    assert "bench: every instrument safe, lock released" in afters
    assert "dut: released" in afters
    assert not [n for n in afters if "<lambda>" in n or n.rsplit("::", 1)[-1].isdigit()]


def test_a_link_pattern_sends_clauses_to_the_labs_own_spec_page(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_10_power=POWER_SUITE)
    results = pytester.path / "allure"
    pytester.runpytest("--mb-bench", FAST, "--mb-no-prompts", f"--alluredir={results}",
                       "--allure-link-pattern", "tms:https://spec.example/clauses/{}")
    (result,) = _results(results)
    assert [link["url"] for link in result["links"]] == [
        "https://spec.example/clauses/TRI-PWR-01"]


def test_without_alluredir_the_allure_hooks_are_not_registered(
        pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_sessionfinish(session):
            pm = session.config.pluginmanager
            print("ALLURE-HOOKS", pm.has_plugin("meterbench.allure"))
        """)
    pytester.makepyfile(test_10_power=POWER_SUITE)
    result = pytester.runpytest("-s", "--mb-bench", FAST, "--mb-no-prompts")
    result.stdout.fnmatch_lines(["*ALLURE-HOOKS False*"])


def test_a_run_without_meterbench_keeps_allures_own_results(
        pytester: pytest.Pytester) -> None:
    """allure-pytest alone: its default suites and parameters, nothing of meterbench's, and
    no meterbench module beyond the plugin's entry (the Allure hooks are not imported)."""
    pytester.makeconftest("""
        import sys

        def pytest_unconfigure(config):
            with open("imports.txt", "w") as out:
                out.write("\\n".join(m for m in sys.modules if m.startswith("harness")))
        """)
    pytester.makepyfile(test_plain="""
        import pytest

        @pytest.mark.parametrize("x", ["a"])
        def test_one(x):
            assert x == "a"
        """)
    results = pytester.path / "allure"
    pytester.runpytest_subprocess(f"--alluredir={results}").assert_outcomes(passed=1)
    (result,) = _results(results)
    labels = _labels(result)
    assert labels["suite"] == ["test_plain"] and "bench" not in labels
    assert result["parameters"] == [{"name": "x", "value": "'a'"}]  # allure's own quoting
    assert not (results / "environment.properties").exists()
    assert set((pytester.path / "imports.txt").read_text().split()) == {
        "harness", "harness.plugin", "harness.plugin.newhooks", "harness.plugin.options"}


def test_verdicts_reach_only_this_runs_results(tmp_path: Path) -> None:
    """A results folder kept between runs: an older run's result of the same item, or another
    bench's, keeps its labels; this run's all get the verdict and the device's one model."""
    def result(name: str, bench: str, start: int, model: str | None = None) -> None:
        labels = [{"name": "item", "value": "item1"}, {"name": "bench", "value": bench},
                  {"name": "parentSuite", "value": f"bench {bench}"},
                  {"name": "suite", "value": "item1 ESME"}, {"name": "subSuite", "value": "s"}]
        labels += [{"name": "model", "value": model}] if model else []
        (tmp_path / f"{name}-result.json").write_text(
            json.dumps({"name": name, "start": start, "labels": labels}))

    result("old", "b1", 100, model="OLD-MODEL")
    result("other", "b2", 2000)
    result("power", "b1", 2000, model="MANIFEST-NAME")  # before its identity stage
    result("identity", "b1", 3000, model="EMU-ESME-2")  # as the device reported it
    line = {"item": "item1", "device_type": "ESME", "device_id": "00DB000000000001",
            "verdict": "NO_FAULT_FOUND", "category": None, "bench": "b1"}
    assert add_verdicts(tmp_path, [line], bench="b1", since_ms=1000) == 2
    labels = {n: _labels(json.loads((tmp_path / f"{n}-result.json").read_text()))
              for n in ("old", "other", "power", "identity")}
    for name in ("power", "identity"):
        assert labels[name]["verdict"] == ["NO_FAULT_FOUND"] and "category" not in labels[name]
        assert labels[name]["suite"] == [verdict_suite(line)]
        assert labels[name]["suite"] == ["item1 ESME 00DB000000000001 · NO_FAULT_FOUND"]
        assert labels[name]["model"] == ["EMU-ESME-2"]
    assert "verdict" not in labels["old"] and "verdict" not in labels["other"]
    assert labels["old"]["model"] == ["OLD-MODEL"]


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (0.034159, "A", "34.159 mA"), (1e-6, "A", "1 µA"), (0.0, "A", "0 A"),
    (230.0, "V", "230 V"), (5910.7, "ppm", "5910.7 ppm"), (1200.0, "Hz", "1.2 kHz"),
    (float("nan"), "A", "nan A"), ("", "", '""'), (None, "A", "none A"), (True, "", "true"),
])
def test_quantities_read_as_an_engineer_writes_them(value: object, unit: str,
                                                    shown: str) -> None:
    assert allure_results.quantity(value, unit) == shown


def _allure3() -> str | None:
    """npm's Allure 3 command (``$ALLURE_CLI`` or ``allure`` on the PATH), if installed."""
    for candidate in (os.environ.get("ALLURE_CLI"), shutil.which("allure")):
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True,
                                     check=False, timeout=60).stdout.strip()
            if version.startswith("3."):
                return candidate
    return None


ALLURE3 = _allure3()


@pytest.mark.skipif(ALLURE3 is None, reason="no Allure 3 command (npm install allure; set "
                                           "ALLURE_CLI to its node_modules/.bin/allure)")
def test_allure3_renders_bench_device_stage(power_run: tuple[Path, dict],
                                            tmp_path: Path) -> None:
    """The report Allure 3 generates (no config): its tree is bench, device with its
    verdict, stage; its environment is meterbench's."""
    assert ALLURE3 is not None
    allure = ALLURE3
    results, result = power_run
    report = tmp_path / "report"
    subprocess.run([allure, "generate", str(results), "-o", str(report)], check=True,
                   capture_output=True, timeout=300, cwd=tmp_path)
    tree = json.loads((report / "widgets" / "tree.json").read_text())
    groups = tree["groupsById"]
    (bench,) = [groups[g] for g in tree["root"]["groups"]]
    (device,) = [groups[g] for g in bench["groups"]]
    (stage,) = [groups[g] for g in device["groups"]]
    assert bench["name"] == "bench emulated-fast (emulated)"
    assert device["name"] == _labels(result)["suite"][0]
    assert stage["name"] == "10 power"
    env = {e["name"]: e["values"] for e in
           json.loads((report / "widgets" / "allure_environment.json").read_text())}
    assert env["bench"] == ["emulated-fast"]


@pytest.mark.parametrize(("limits", "shown"), [
    ({"low": 1e-5}, "≥ 10 µA"), ({"high": 1e-6}, "≤ 1 µA"),
    ({"low": 225.4, "high": 234.6}, "225.4 V to 234.6 V"),
    ({"expected": ""}, 'expected ""'), ({"allowed": ("a", "b")}, "one of a, b"),
    ({}, "no limits"),
])
def test_limits_read_as_a_range_a_bound_or_what_was_expected(limits: dict,
                                                             shown: str) -> None:
    unit = "" if "expected" in limits or "allowed" in limits else (
        "V" if "high" in limits and "low" in limits else "A")
    m = Measurement("x", 1.0, unit, clause="TRI-PWR-01", **limits)
    assert allure_results.limits_text(m) == shown
