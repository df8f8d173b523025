"""The pytest plugin, exercised with pytester: slots, markers, safe state, reports, errors."""

from __future__ import annotations

import pytest

from harness.config.loader import default_bench_path

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def test_plugin_is_loaded_once_through_its_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_configure(config):
            mods = [p for _, p in config.pluginmanager.list_name_plugin()
                    if getattr(p, "__name__", "") == "harness.plugin"]
            print("PLUGIN-COUNT", len(mods), config.pluginmanager.get_name(mods[0]))
        """
    )
    result = pytester.runpytest("-s", "--co", "-q")
    result.stdout.fnmatch_lines(["PLUGIN-COUNT 1 meterbench"])


def test_dut_runs_once_per_slot_and_device_type_filters(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_every(dut):
            assert dut.name in ("esme", "gsme", "ch")

        @pytest.mark.device_type("GSME")
        def test_gas_only(dut):
            assert dut.device_type == "GSME"

        @pytest.mark.device_type("HCALCS")
        def test_absent(dut):
            raise AssertionError("must not run")
        """
    )
    result = pytester.runpytest("-v", "-rs")
    result.assert_outcomes(passed=4, skipped=1)
    # Device by device: every test of the gas meter runs before the hub's.
    result.stdout.fnmatch_lines([
        "*test_every?esme? PASSED*", "*test_every?gsme? PASSED*", "*test_gas_only?gsme? PASSED*",
        "*test_every?ch? PASSED*", "*no device of type HCALCS on this run*",
    ])


def test_a_failing_test_leaves_the_supply_safe(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_fails_with_power_on(dut):
            dut.power.set_voltage(dut.config.supply_voltage)
            dut.power.on()
            assert dut.power.is_on
            raise AssertionError("device misbehaved")

        def test_then_every_output_is_off(emulator):
            channels = emulator.supplies["psu"].channels.values()
            assert not any(ch.output for ch in channels)
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-k", "esme or then_every")
    result.assert_outcomes(passed=1, failed=1)
    # The failing test's report carries what the supply was told, byte by byte.
    result.stdout.fnmatch_lines(["*Captured transcript psu call*", "*> 4f 55 54 50 20 4f 4e 0a*"])


def test_bad_bench_file_is_a_usage_error_naming_file_and_key(pytester: pytest.Pytester) -> None:
    text = default_bench_path().read_text().replace('kind = "power"', 'kind = "pwer"')
    bad = pytester.path / "bad.toml"
    bad.write_text(text)
    result = pytester.runpytest("--mb-bench", str(bad))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: {bad}: instruments.psu.kind: unknown value 'pwer'*"])
    assert "Traceback" not in result.stderr.str()


def test_ini_key_names_the_default_bench(pytester: pytest.Pytester) -> None:
    text = default_bench_path().read_text().replace('name = "emulated"', 'name = "from-ini"')
    (pytester.path / "my.toml").write_text(text)
    pytester.makeini("[pytest]\nmeterbench_bench = my.toml\n")
    result = pytester.runpytest("--co")
    result.stdout.fnmatch_lines(["meterbench bench: from-ini (emulated)*"])


def test_markers_are_registered(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.spec("TRI-PWR-01")
        @pytest.mark.destructive
        @pytest.mark.device_type("ESME")
        def test_marked():
            pass
        """
    )
    pytester.runpytest("--strict-markers").assert_outcomes(passed=1)
    pytester.runpytest("--markers").stdout.fnmatch_lines(["@pytest.mark.spec(*clause_ids)*"])


def test_allure_results_carry_the_transcript(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        def test_idn(bench):
            assert bench.power.identify().startswith("meterbench")
        """
    )
    results = pytester.path / "allure"
    pytester.runpytest(f"--alluredir={results}").assert_outcomes(passed=1)
    attachments = [p.read_text() for p in results.glob("*-attachment.txt")]
    assert any("*IDN?" in text and "Emulated PSU" in text for text in attachments)
