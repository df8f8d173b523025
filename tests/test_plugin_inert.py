"""The plugin stays out of a project's way until the project asks for meterbench (issue 13 §1).

Each case is a project of its own in a fresh interpreter (``runpytest_subprocess``), with
meterbench installed as a user would have it: the ``pytest11`` entry point loads the plugin.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

# Writes, at the end of the run, which meterbench modules and heavy libraries were imported.
IMPORTS_PROBE = """
import sys

def pytest_unconfigure(config):
    names = sorted(m for m in sys.modules
                   if m == "harness" or m.startswith("harness.")
                   or m.split(".")[0] in ("sqlalchemy", "cryptography", "matplotlib"))
    with open("imports.txt", "w") as out:
        out.write("\\n".join(names))
"""

UNRELATED = """
def test_one():
    assert 1 + 1 == 2
"""


def _imports(pytester: pytest.Pytester) -> set[str]:
    return set((pytester.path / "imports.txt").read_text().split())


def test_an_unrelated_run_loads_no_bench_and_imports_nothing_heavy(
        pytester: pytest.Pytester) -> None:
    """No header, no bench, no emulator, no SQLAlchemy or cryptography: the entry module and
    its options only."""
    pytester.makeconftest(IMPORTS_PROBE)
    pytester.makepyfile(test_plain=UNRELATED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert "meterbench" not in result.stdout.str().replace("meterbench-0", "")
    assert _imports(pytester) == {"harness", "harness.plugin", "harness.plugin.newhooks",
                                  "harness.plugin.options"}


def test_a_projects_own_db_option_does_not_conflict(pytester: pytest.Pytester) -> None:
    """meterbench's options are all prefixed ``--mb-``: a project's ``--db`` is its own."""
    pytester.makeconftest(
        """
        def pytest_addoption(parser):
            parser.addoption("--db", default=None)
            parser.addoption("--role", default=None)
            parser.addoption("--batch", default=None)

        def pytest_report_header(config):
            return f"my db: {config.getoption('--db')}"
        """)
    pytester.makepyfile(test_plain=UNRELATED)
    result = pytester.runpytest_subprocess("--db", "postgres://mine", "--role", "x")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["my db: postgres://mine"])
    options = pytester.runpytest_subprocess("--help").stdout.str()
    ours = [w.split("=")[0] for w in options.split() if w.startswith("--mb-")]
    assert len(ours) >= 12
    for name in ("--bench", "--time-scale", "--operator", "--triage-json", "--audit-db",
                 "--no-prompts", "--prompt-timeout", "--conformance", "--manifest"):
        assert f"--mb-{name[2:]}" in ours
        assert f"  {name} " not in options, f"{name} is still added unprefixed"


def test_a_projects_own_dut_fixture_is_left_alone(pytester: pytest.Pytester) -> None:
    """A project with its own ``dut`` fixture runs its one test once, not once per slot, and
    meterbench is not woken up by the name."""
    pytester.makeconftest(IMPORTS_PROBE + """
import pytest

@pytest.fixture
def dut():
    return "my own device"
""")
    pytester.makepyfile(test_mine="""
def test_mine(dut):
    assert dut == "my own device"
""")
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*test_mine.py::test_mine PASSED*"])
    assert "harness.bench.session" not in _imports(pytester)


def test_xdist_keeps_the_projects_own_scheduler(pytester: pytest.Pytester) -> None:
    """``-n 2 --dist loadfile`` on a project's tests: xdist's LoadFileScheduling, every
    file's tests on one worker; meterbench's DeviceScheduling is for its campaigns only."""
    tests = "\n".join(f"def test_{i}():\n    pass\n" for i in range(4))
    pytester.makepyfile(test_a=tests, test_b=tests)
    result = pytester.runpytest_subprocess("-n", "2", "--dist", "loadfile", "-v",
                                           "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8)
    out = result.stdout.str()
    assert "DeviceScheduling" not in out
    assert "scheduling tests via LoadFileScheduling" in out
    for module in ("test_a.py", "test_b.py"):
        workers = {line.split()[0] for line in out.splitlines()
                   if f"{module}::" in line and "PASSED" in line}
        assert len(workers) == 1, f"{module} split over {workers}"


def test_a_projects_own_fixtures_package_is_its_own(pytester: pytest.Pytester) -> None:
    """A project with its own ``fixtures`` (and ``test_suites``) package: neither shadows
    meterbench's plugin nor is shadowed by it, and meterbench still serves a test that asks."""
    pytester.mkpydir("fixtures")
    (pytester.path / "fixtures" / "plugin.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef greeting():\n    return 'mine'\n")
    pytester.mkpydir("test_suites")
    pytester.makeconftest('pytest_plugins = ["fixtures.plugin"]\n')
    pytester.makepyfile(test_both="""
import fixtures.plugin

def test_mine(greeting):
    assert greeting == "mine"
    assert fixtures.plugin.__file__.startswith(str(__import__("pathlib").Path.cwd()))

def test_meterbench_too(power):
    assert power.identify().startswith("meterbench")
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=2)
    assert "ModuleNotFoundError" not in result.stdout.str() + result.stderr.str()


def test_a_test_asking_for_a_fixture_activates_meterbench_with_its_header(
        pytester: pytest.Pytester) -> None:
    """No option given: the first test that asks for ``bench`` reads the default bench; the
    header comes after collection, once that is known."""
    pytester.makepyfile(test_idn="""
def test_idn(bench):
    assert bench.power.identify().startswith("meterbench")
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["collected 1 item", "meterbench bench: emulated (emulated)*"])


def test_an_option_makes_a_campaign_whose_header_comes_first(pytester: pytest.Pytester) -> None:
    """A ``--mb-`` option asks for meterbench before collection: header at the top."""
    pytester.makepyfile(test_plain=UNRELATED)
    result = pytester.runpytest_subprocess("--mb-time-scale", "10", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["meterbench bench: emulated (emulated, fast mode x10)*",
                                 "collected 1 item"])


def test_meterbench_tests_under_xdist_without_a_campaign_are_refused_clearly(
        pytester: pytest.Pytester) -> None:
    """xdist's own scheduler would split a device's stages over workers (each with a bench
    of its own): a worker that meets meterbench's ``dut`` outside a campaign says so."""
    pytester.makepyfile(test_dut="def test_on(dut):\n    pass\n")
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*needs a campaign*--mb-bench*meterbench triage --workers N*"])


def test_the_late_header_is_said_once_for_many_tests(pytester: pytest.Pytester) -> None:
    """Several test functions asking for ``dut``: one header line, after collection."""
    pytester.makepyfile(test_two="def test_a(dut):\n    pass\n\ndef test_b(dut):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "esme")
    result.assert_outcomes(passed=2, deselected=4)
    assert result.stdout.str().count("meterbench bench: emulated") == 1
