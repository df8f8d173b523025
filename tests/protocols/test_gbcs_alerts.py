"""The GBCS alert table: every code of the domain page, its name and triage category."""

from __future__ import annotations

import pytest

from harness.protocols.gbcs_alerts import ALERTS, AlertCategory, GbcsAlert, alert_info


def test_every_enum_member_has_a_row_and_back() -> None:
    assert {int(a) for a in GbcsAlert} == set(ALERTS)


@pytest.mark.parametrize(("code", "name", "category"), [
    (0x8F57, "supply interrupted", AlertCategory.POWER),
    (0x8F1B, "firmware verification failed at power on", AlertCategory.FIRMWARE),
    (0x8F52, "event log cleared", AlertCategory.RESET),
    (0x8F70, "update security credentials", AlertCategory.CERTIFICATES),
    (0x81B3, "watchdog", AlertCategory.HARDWARE),
    (0x81A5, "communication from local port (e.g. optical)", AlertCategory.LOCAL_PORT),
    (0x8F12, "CHF device log changed", AlertCategory.HAN_CH),
    (0x8F1F, "low battery capacity", AlertCategory.GAS_POWER),
])
def test_rows(code: int, name: str, category: AlertCategory) -> None:
    info = alert_info(code)
    assert (info.name, info.category) == (name, category)
    assert GbcsAlert(code).description == name and GbcsAlert(code).category is category
    assert info.hex == f"0x{code:04X}"


def test_unknown_code_names_itself() -> None:
    with pytest.raises(ValueError, match="0x1234 is not a GBCS alert code"):
        alert_info(0x1234)
