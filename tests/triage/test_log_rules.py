"""Alerts judged in context (TRI-DIAG-02/03/04), both ways: what a removal, a brown-out or a
change of supplier leaves is excused inside the window and rate the spec states, and a fault
outside them."""

from __future__ import annotations

import datetime

from harness.devices.records import LogRecord
from harness.protocols.gbcs_alerts import GbcsAlert as A
from harness.triage.log_rules import installer_flags, judge_alerts, removal_time
from harness.triage.spec import default_spec

SPEC = default_spec()
REMOVED = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.UTC)
WINDOW_DAYS = SPEC.clause("TRI-DIAG-03").number("removal_window_days")


def at(days_before_removal: float = 0.0, seconds: float = 0.0) -> datetime.datetime:
    return REMOVED - datetime.timedelta(days=days_before_removal, seconds=seconds)


def log(*entries: tuple[int, datetime.datetime]) -> list[LogRecord]:
    """A field history ending with the removal (supply loss) and the bench's power-on."""
    bench_on = REMOVED + datetime.timedelta(days=40)
    return [LogRecord(code, t) for code, t in entries] + [
        LogRecord(A.SUPPLY_INTERRUPTED, REMOVED), LogRecord(A.SUPPLY_OUTAGE_RESTORED, bench_on)]


def test_the_removal_is_the_supply_loss_the_bench_restored() -> None:
    entries = log((A.SUPPLY_INTERRUPTED, at(30)), (A.SUPPLY_OUTAGE_RESTORED, at(29)))
    bench_cycle = LogRecord(A.SUPPLY_INTERRUPTED, REMOVED + datetime.timedelta(days=40, hours=1))
    assert removal_time([*entries, bench_cycle]) == REMOVED
    assert removal_time([LogRecord(A.DEVICE_COMMISSIONED, at(90))]) is None


def test_terminal_cover_at_removal_is_the_installers_and_long_before_it_is_not() -> None:
    inside = judge_alerts(log((A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER, at(0.01))))
    assert inside.faults == {}
    assert inside.excused_in({"tamper/physical"}) == [
        f"0x8F76: within {WINDOW_DAYS:g} days before the removal"]
    outside = judge_alerts(log((A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER,
                                at(WINDOW_DAYS + 1))))
    assert outside.faults == {"tamper/physical": ["0x8F76"]}
    after = judge_alerts(log((A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER,
                              REMOVED + datetime.timedelta(days=40, minutes=1))))
    assert after.faults == {"tamper/physical": ["0x8F76"]}  # opened on the bench's watch
    no_removal = judge_alerts([LogRecord(A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER, at())])
    assert no_removal.faults == {"tamper/physical": ["0x8F76"]}


def test_a_meter_cover_or_magnet_is_never_excused_by_a_removal() -> None:
    judged = judge_alerts(log((A.UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER, at(0.01)),
                              (A.UNAUTHORISED_PHYSICAL_ACCESS_MAGNETIC_FIELD, at(0.01))))
    assert judged.faults == {"tamper/physical": ["0x8F74", "0x8F75"]}


def test_a_few_brownout_resets_beside_supply_events_are_excused_beyond_the_rate_not() -> None:
    limit = int(SPEC.clause("TRI-DIAG-02").number("brownout_resets_max"))
    near = SPEC.clause("TRI-DIAG-02").number("brownout_window_s") / 2
    few = [e for k in range(limit) for e in (
        (A.SUPPLY_INTERRUPTED, at(20 + k)), (A.UNEXPECTED_HARDWARE_RESET, at(20 + k, -near)))]
    assert judge_alerts(log(*few)).faults == {}
    assert len(judge_alerts(log(*few)).excused) == limit
    many = [*few, (A.SUPPLY_INTERRUPTED, at(10)), (A.UNEXPECTED_HARDWARE_RESET, at(10, -near))]
    assert judge_alerts(log(*many)).faults == {"hardware": ["0x81B2"] * (limit + 1)}
    lonely = judge_alerts(log((A.UNEXPECTED_HARDWARE_RESET, at(15))))
    assert lonely.faults == {"hardware": ["0x81B2"]}  # far from any supply event


def test_change_of_supplier_auth_failure_is_excused_beside_a_credential_update_only() -> None:
    cos = judge_alerts(log((A.UPDATE_SECURITY_CREDENTIALS, at(60)),
                           (A.TRUSTED_SOURCE_AUTHENTICATION_FAILURE, at(60, -600))))
    assert cos.faults == {}
    alone = judge_alerts(log((A.UPDATE_SECURITY_CREDENTIALS, at(60)),
                             (A.TRUSTED_SOURCE_AUTHENTICATION_FAILURE, at(30))))
    assert alone.faults == {"tamper/physical": ["0x8F3D"]}
    limit = int(SPEC.clause("TRI-DIAG-03").number("credential_failures_max"))
    storm = judge_alerts(log((A.UPDATE_SECURITY_CREDENTIALS, at(60)),
                             *[(A.TRUSTED_SOURCE_AUTHENTICATION_FAILURE, at(60, -k))
                               for k in range(limit + 1)]))
    assert storm.faults == {"tamper/physical": ["0x8F3D"] * (limit + 1)}


def test_hardware_faults_are_never_excused() -> None:
    judged = judge_alerts(log((A.ERROR_NON_VOLATILE_MEMORY, at(0.01)),
                              (A.WATCHDOG_RESET, at(0, 10))))
    assert judged.faults == {"hardware": ["0x81AE", "0x81B3"]}


def test_terminal_cover_flag_is_the_installers_only_with_its_removal_alert() -> None:
    cover_at_removal = log((A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER, at(0.01)))
    assert installer_flags({"terminal_cover"}, cover_at_removal) == ([], ["terminal_cover"])
    assert installer_flags({"terminal_cover"}, log()) == (["terminal_cover"], [])
    long_ago = log((A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER, at(WINDOW_DAYS + 3)))
    assert installer_flags({"terminal_cover"}, long_ago) == (["terminal_cover"], [])
    assert installer_flags({"cover", "terminal_cover"}, cover_at_removal) == (
        ["cover"], ["terminal_cover"])


def test_the_windows_come_from_the_spec_text_not_the_code() -> None:
    """Change the figure in the spec and the judgement follows it; remove it and the code
    says which clause lacks it (nothing falls back to a number of its own)."""
    import pytest
    import yaml

    from harness.triage.spec import parse_spec, spec_text

    data = yaml.safe_load(spec_text())
    diag3 = next(c for c in data["clauses"] if c["id"] == "TRI-DIAG-03")
    diag3["parameters"]["removal_window_days"] = 30
    wider = parse_spec(data)
    long_ago = log((A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER, at(WINDOW_DAYS + 1)))
    assert judge_alerts(long_ago).faults and not judge_alerts(long_ago, spec=wider).faults
    del diag3["parameters"]["removal_window_days"]
    with pytest.raises(KeyError, match="TRI-DIAG-03 states no parameter 'removal_window_days'"):
        judge_alerts(long_ago, spec=parse_spec(data))
