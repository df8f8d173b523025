"""The test files that take tens of seconds each, which the conftest hands out first."""

from __future__ import annotations

# The files that take tens of seconds each (``pytest --durations=0``; whole campaigns, runs
# at the real-time bench's pace), longest first. Under ``-n 4 --dist loadfile`` they are
# handed out first, so the short files fill the workers around them; xdist's own order (most
# tests first) left these one-test files to the end, where one worker ran them alone.
SLOW_FIRST = (
    "tests/triage/test_catalogue_verdicts.py",
    "tests/triage/test_interrupted_campaign.py",
    "tests/triage/test_campaign_kill.py",
    "tests/triage/test_scenario_verdicts.py",
    "tests/test_plugin_inert.py",
    "tests/triage/test_han_bench_parity.py",
    "tests/emulator/test_ezsp_bellows.py",
    "tests/console/test_browser.py",
    "tests/devices/test_profile_contract.py",
    "tests/test_cli.py",
    "tests/triage/test_hub_join_verdicts.py",
    "tests/triage/test_bench_trouble.py",
    "tests/test_signals.py",
    "tests/test_plugin_hooks.py",
    "tests/triage/test_gate_wire.py",
    "tests/results/test_report_emulated.py",
    "tests/results/test_triage_resume.py",
)
