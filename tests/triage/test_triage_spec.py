"""The triage specification: every clause the suites rely on, sane fields, consistent tables."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.domain.types import DeviceType
from harness.emulator.world.faults import CATALOGUE, ChFaultReason, FaultCategory
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import AlertCategory, GbcsAlert
from harness.triage.spec import (
    Stage,
    UnknownClauseError,
    default_spec,
    load_spec,
    spec_text,
)
from harness.triage.spec_markdown import render_markdown

E, G, C = DeviceType.ESME, DeviceType.GSME, DeviceType.CHF
ALL = {E, G, C}

# The clause ids the suites are written against, with their device types and kind.
EXPECTED: dict[str, tuple[set[DeviceType], bool]] = {
    "TRI-ID-01": (ALL, False), "TRI-ID-02": (ALL, False), "TRI-ID-03": ({C}, False),
    "TRI-PWR-01": (ALL, False), "TRI-PWR-02": (ALL, False),
    "TRI-OPT-01": ({E, G}, False),
    "TRI-DIAG-01": (ALL, False), "TRI-DIAG-02": (ALL, False), "TRI-DIAG-03": (ALL, False),
    "TRI-DIAG-04": ({E, G}, False), "TRI-DIAG-05": ({E, G}, True), "TRI-DIAG-06": ({G}, False),
    "TRI-HAN-01": (ALL, False), "TRI-HAN-02": ({E, G}, False), "TRI-HAN-03": (ALL, False),
    "TRI-HAN-04": ({C}, True),
    "TRI-WAN-01": ({C}, False), "TRI-WAN-02": ({C}, False), "TRI-WAN-03": ({C}, False),
    "TRI-RST-01": (ALL, True), "TRI-RST-02": (ALL, True), "TRI-RST-03": (ALL, True),
    "TRI-RST-04": (ALL, True),
    "TRI-VER-01": (ALL, False), "TRI-VER-02": (ALL, False), "TRI-VER-03": (ALL, False),
}


def test_shipped_spec_has_exactly_the_expected_clauses() -> None:
    spec = default_spec()
    assert spec.clause_ids == tuple(EXPECTED)
    assert default_spec() is spec  # loaded once per process


@pytest.mark.parametrize("clause_id", list(EXPECTED))
def test_clause_fields_are_sane(clause_id: str) -> None:
    clause = default_spec().clause(clause_id)
    types, destructive = EXPECTED[clause_id]
    assert set(clause.applies_to) == types
    assert clause.destructive is destructive
    assert clause.title and len(clause.text) > 80
    assert clause.eligible, "somebody may run every clause"
    assert clause.evidence
    for ev in clause.evidence:
        assert ev.unit and ev.description
        if ev.per_model:
            assert not ev.has_fixed_limits
    prefix = {"ID": Stage.IDENTITY, "PWR": Stage.POWER, "OPT": Stage.OPTICAL,
              "DIAG": Stage.DIAGNOSTICS, "HAN": Stage.HAN, "WAN": Stage.WAN,
              "RST": Stage.RESET, "VER": Stage.VERIFY}[clause_id.split("-")[1]]
    assert clause.stage is prefix


def test_measurement_names_are_unique_and_found() -> None:
    spec = default_spec()
    names = [ev.name for c in spec.clauses for ev in c.evidence]
    assert len(names) == len(set(names))
    clause, ev = spec.measurement("standby_current")
    assert clause.id == "TRI-PWR-02" and ev.unit == "A" and ev.per_model
    assert spec.clause("TRI-WAN-03").measurement("wan_rssi").low == -100
    with pytest.raises(KeyError):
        spec.measurement("no_such_measurement")


def test_applicability_by_device_type() -> None:
    spec = default_spec()
    chf = {c.id for c in spec.clauses_for(DeviceType.CHF)}
    gsme = {c.id for c in spec.clauses_for("GSME")}
    assert {"TRI-WAN-01", "TRI-WAN-02", "TRI-WAN-03"} <= chf
    assert "TRI-OPT-01" not in chf and "TRI-DIAG-06" not in chf
    assert "TRI-DIAG-06" in gsme and "TRI-WAN-01" not in gsme
    assert [c.id for c in spec.clauses_for(1, stage="reset")] == [
        "TRI-RST-01", "TRI-RST-02", "TRI-RST-03", "TRI-RST-04"]
    assert {c.id for c in spec.clauses_for(E, destructive=True)} == {
        "TRI-DIAG-05", "TRI-RST-01", "TRI-RST-02", "TRI-RST-03", "TRI-RST-04"}
    assert spec.stages[0] is Stage.IDENTITY and spec.stages[-1] is Stage.VERIFY


def test_unknown_clause_is_a_clear_key_error() -> None:
    with pytest.raises(UnknownClauseError, match="no clause 'TRI-XYZ-01'") as info:
        default_spec().clause("TRI-XYZ-01")
    assert isinstance(info.value, KeyError)
    assert "TRI-ID-01" in default_spec() and "TRI-XYZ-01" not in default_spec()


def test_evidence_limits() -> None:
    spec = default_spec()
    _, joined = spec.measurement("han_joined")
    assert joined.within(True) is True and joined.within(False) is False
    assert joined.within(1) is False  # a bool measurement wants a bool
    _, remaining = spec.measurement("consumer_data_remaining")
    assert remaining.within(0) and not remaining.within(2)
    assert remaining.limits_text() == "≤ 0"
    _, standby = spec.measurement("standby_current")
    assert standby.within(0.5) is None and standby.limits_text() == "per model"
    _, modem = spec.measurement("wan_modem_state")
    assert modem.within("registered") and not modem.within("no SIM")


def test_fault_categories_carry_duis_return_reasons() -> None:
    spec = default_spec()
    assert set(spec.fault_categories) == set(FaultCategory) - {FaultCategory.NONE}
    assert spec.ch_return_reason("HAN") is ChFaultReason.SM_HAN
    assert spec.ch_return_reason(FaultCategory.WAN) is ChFaultReason.SM_WAN
    assert spec.ch_return_reason("WAN", "TRI-WAN-03") is ChFaultReason.AERIAL
    assert spec.ch_return_reason("optical port") is None
    assert spec.ch_return_reason("metrology") is None


def test_every_hub_fault_in_the_catalogue_has_a_return_reason_in_the_spec() -> None:
    """The emulator's hub faults map to a reason the spec can give for their category."""
    spec = default_spec()
    for kind in CATALOGUE.values():
        if C not in kind.applies_to or kind.ch_return_reason is None:
            continue
        reasons = {spec.fault_categories[kind.category].ch_return_reason}
        reasons |= {c.ch_return_reason for c in spec.clauses if kind.category in
                    c.fault_categories and c.ch_return_reason}
        reasons |= {ev.ch_return_reason for c in spec.clauses if kind.category in
                    c.fault_categories for ev in c.evidence if ev.ch_return_reason}
        assert kind.ch_return_reason in reasons, kind.key


_ALLOWED: dict[AlertCategory, set[FaultCategory | None]] = {
    AlertCategory.HAN: {FaultCategory.HAN}, AlertCategory.HAN_CH: {FaultCategory.HAN},
    AlertCategory.CH_METER_LINK: {FaultCategory.HAN, None},
    AlertCategory.TAMPER: {FaultCategory.TAMPER}, AlertCategory.SECURITY: {FaultCategory.TAMPER},
    AlertCategory.ACCESS: {FaultCategory.TAMPER, None},
    AlertCategory.FIRMWARE: {FaultCategory.FIRMWARE},
    AlertCategory.HARDWARE: {FaultCategory.HARDWARE},
    AlertCategory.METROLOGY: {FaultCategory.METROLOGY},
    AlertCategory.LOCAL_PORT: {None}, AlertCategory.POWER: {FaultCategory.POWER},
    AlertCategory.GAS_POWER: {FaultCategory.POWER}, AlertCategory.LIFECYCLE: {None},
    AlertCategory.CERTIFICATES: {None}, AlertCategory.RESET: {None},
    AlertCategory.CLOCK: {FaultCategory.HARDWARE, None},
}


def test_alert_table_covers_and_agrees_with_gbcs_alerts() -> None:
    spec = default_spec()
    assert set(spec.alerts) == {int(a) for a in GbcsAlert}
    for alert in GbcsAlert:
        rule = spec.alert_rule(alert)
        assert rule is not None
        assert rule.category in _ALLOWED[alert.category], alert.name
        if rule.fault:
            assert rule.category is not None, alert.name
    assert spec.alert_rule(GbcsAlert.ERROR_RAM).fault  # type: ignore[union-attr]
    assert not spec.alert_rule(GbcsAlert.SUPPLY_INTERRUPTED).fault  # type: ignore[union-attr]
    assert spec.alert_rule(0x1234) is None


def test_markdown_renders_every_clause() -> None:
    spec = default_spec()
    md = render_markdown(spec)
    assert md.startswith("# meterbench triage specification")
    for clause in spec.clauses:
        assert f"#### {clause.id}: {clause.title}" in md
        for ev in clause.evidence:
            assert f"`{ev.name}`" in md
    assert "| TRI-RST-01 | yes | yes | — | yes | yes |" in md  # the access table row
    assert "fault with SM HAN interface" in md and "0x81AE" in md
    assert "INCONCLUSIVE" in md  # TRI-HAN-01: a noisy bench is not a device fault


# -- invalid specification files -------------------------------------------------------------


@pytest.fixture
def raw() -> dict[str, Any]:
    """The shipped specification as plain data, to break in one place."""
    return copy.deepcopy(yaml.safe_load(spec_text()))


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _clause(data: dict[str, Any], clause_id: str) -> dict[str, Any]:
    return next(c for c in data["clauses"] if c["id"] == clause_id)


@pytest.mark.parametrize(("breaks", "key_path", "words"), [
    (lambda d: _clause(d, "TRI-ID-01").update(stage="lunch"), "clauses[TRI-ID-01].stage",
     "unknown value 'lunch'"),
    (lambda d: _clause(d, "TRI-PWR-01")["evidence"][0].update(limit=3),
     "clauses[TRI-PWR-01].evidence[0].limit", "unknown key"),
    (lambda d: _clause(d, "TRI-PWR-02")["evidence"][0].update(low=0.1),
     "clauses[TRI-PWR-02].evidence[0]", "per_model limits come from the device model"),
    (lambda d: _clause(d, "TRI-OPT-01").update(applies_to=["ESME", "TOASTER"]),
     "clauses[TRI-OPT-01].applies_to", "unknown device type 'TOASTER'"),
    (lambda d: _clause(d, "TRI-WAN-01").pop("destructive"),
     "clauses[TRI-WAN-01].destructive", "missing key"),
    (lambda d: _clause(d, "TRI-RST-02").update(destructive=False),
     "clauses[TRI-RST-02]", "must be destructive"),
    (lambda d: _clause(d, "TRI-VER-01").update(id="TRI-VER-02"),
     "clauses[TRI-VER-02].id", "duplicate clause id"),
    (lambda d: _clause(d, "TRI-RST-01").update(eligible=["rsa"]),
     "clauses[TRI-RST-01].eligible", "access table"),
    (lambda d: d["access"]["clauses"].update({"TRI-RST-09": ["supplier"]}),
     "access.clauses.TRI-RST-09", "no clause 'TRI-RST-09'"),
    (lambda d: d["access"]["defaults"].update(destructive=["supplier", "janitor"]),
     "access.defaults.destructive[1]", "unknown value 'janitor'"),
    (lambda d: d["alerts"].update({"0x1234": {"category": None, "fault": False}}),
     "alerts.0x1234", "not a GBCS alert code"),
    (lambda d: d["fault_categories"]["WAN"].update(ch_return_reason="lost in post"),
     "fault_categories.WAN.ch_return_reason", "unknown value 'lost in post'"),
])
def test_invalid_spec_names_file_and_key_path(tmp_path: Path, raw: dict[str, Any], breaks: Any,
                                              key_path: str, words: str) -> None:
    breaks(raw)
    path = _write(tmp_path, raw)
    with pytest.raises(BenchConfigError) as info:
        load_spec(path)
    err = info.value
    assert err.file == str(path)
    assert err.key_path == key_path
    assert words in str(err)
    assert str(err).startswith(f"{path}: {key_path}: ")


def test_yaml_syntax_and_duplicate_keys_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text("version: 1\ntitle: [unclosed\n", encoding="utf-8")
    with pytest.raises(BenchConfigError, match="not valid YAML") as info:
        load_spec(path)
    assert info.value.file == str(path) and "line" in (info.value.key_path or "")
    path.write_text("version: 1\nversion: 2\n", encoding="utf-8")
    with pytest.raises(BenchConfigError, match="duplicate key 'version'") as info:
        load_spec(path)
    assert info.value.key_path == "line 2, column 1"


def test_missing_spec_file(tmp_path: Path) -> None:
    with pytest.raises(BenchConfigError, match="not found") as info:
        load_spec(tmp_path / "absent.yaml")
    assert info.value.file == str(tmp_path / "absent.yaml")


def test_a_copy_of_the_shipped_spec_loads_the_same(tmp_path: Path, raw: dict[str, Any]) -> None:
    spec = load_spec(_write(tmp_path, raw))
    assert spec.clause_ids == default_spec().clause_ids
    assert spec.clause("TRI-RST-01").eligible == default_spec().clause("TRI-RST-01").eligible
