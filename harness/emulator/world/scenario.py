"""Scenario files: a field case written down so QA and manufacturers can reproduce it.

A scenario is YAML: a list of ``devices``, each with its ``device_type``, ``model``, catalogue
``faults`` (possibly none), the ``expected_verdict`` and ``expected_category`` a correct triage
reaches, and the ``history`` it comes back with (``storage_days``, ``clock_offset_s``,
``clock_drift_ppm``, ``events`` of GBCS alert codes and ``days_before_return``).  The expected
outcome must be what the fault catalogue and the specification's precedence give (it is the
manifest's truth); a drift beyond a crystal's tolerance needs the ``clock_drift`` fault.
``load_scenario`` validates a file, with errors naming it and the key path, and turns it into
manifest rows (``meterbench batch new --scenario``).  The format is in the README.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from harness.config._yaml import parse_yaml
from harness.config.errors import validation_error
from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT, FaultCategory
from harness.emulator.world.catalogue import MODELS
from harness.emulator.world.faults import CATALOGUE, FaultSet, stable_seed
from harness.emulator.world.history import CRYSTAL_TOLERANCE_PPM, FieldHistory, HistoryEvent
from harness.emulator.world.identity import label_for
from harness.emulator.world.population import _truth_category
from harness.errors import BenchConfigError
from harness.triage.intake import BatchRow, ReturnType, Verdict

__all__ = ["Scenario", "ScenarioDevice", "load_scenario", "scenario_rows"]


def _code(value: Any) -> Any:
    """``"0x8F76"`` (or 36726) as an integer; anything else is left for pydantic to refuse."""
    if isinstance(value, str) and value.strip().lower().startswith("0x"):
        try:
            return int(value, 16)
        except ValueError:
            raise ValueError(f"{value!r} is not a hex alert code (write it as \"0x8F76\")") \
                from None
    if isinstance(value, bool):
        raise ValueError("an alert code, not true/false")
    return value


def _device_type(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return DeviceType.parse(value)
        except ValueError as exc:
            raise ValueError(str(exc)) from None
    return value


class ScenarioEvent(BaseModel):
    """One alert of a history: its GBCS code and when, in days before the return."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Annotated[int, BeforeValidator(_code)]
    days_before_return: float = Field(ge=0, allow_inf_nan=False)


class ScenarioHistory(BaseModel):
    """The device's field history (harness.emulator.world.history.FieldHistory)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    storage_days: float = Field(ge=0, allow_inf_nan=False)
    clock_offset_s: float = Field(allow_inf_nan=False)
    clock_drift_ppm: float = Field(allow_inf_nan=False)
    events: tuple[ScenarioEvent, ...] = ()


class ScenarioDevice(BaseModel):
    """One device of the case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(default=None, min_length=1)
    device_type: Annotated[DeviceType, BeforeValidator(_device_type)]
    model: str = Field(min_length=1)
    faults: tuple[str, ...] = ()
    expected_verdict: Verdict
    expected_category: FaultCategory
    history: ScenarioHistory
    seed: int | None = Field(default=None, ge=0, lt=2**32)
    return_type: ReturnType = ReturnType.POST_INSTALLATION
    return_reason: str = "field case"


class Scenario(BaseModel):
    """A scenario file: what it reproduces, and its devices."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = ""
    devices: tuple[ScenarioDevice, ...] = Field(min_length=1)


def load_scenario(path: str | os.PathLike[str]) -> list[BatchRow]:
    """Read, validate and turn a scenario file into manifest rows with truth columns; every
    mistake is one BenchConfigError naming the file and the key path."""
    source = os.fspath(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchConfigError("scenario file not found", file=source) from None
    except IsADirectoryError:
        raise BenchConfigError("is a directory, not a scenario file", file=source) from None
    except UnicodeDecodeError:
        raise BenchConfigError("not UTF-8 text", file=source,
                               expected="a YAML file saved as UTF-8") from None
    data = parse_yaml(text, source)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from None
    return scenario_rows(scenario, source)


def scenario_rows(scenario: Scenario, source: str = "<scenario>") -> list[BatchRow]:
    """The manifest rows of a validated scenario (checks across keys happen here)."""
    rows = []
    for index, device in enumerate(scenario.devices):
        where = f"devices[{device.id or index}]"
        try:
            rows.append(_row(index + 1, device, where))
        except BenchConfigError as exc:
            raise BenchConfigError(exc.message, file=source,
                                   key_path=exc.key_path or where,
                                   expected=exc.expected) from None
    return rows


def _fail(key_path: str, message: str, expected: str | None = None) -> BenchConfigError:
    return BenchConfigError(message, key_path=key_path, expected=expected)


def _row(item: int, device: ScenarioDevice, where: str) -> BatchRow:
    kind = device.device_type
    model = MODELS.get(device.model)
    if model is None or model.device_type is not kind:
        raise _fail(f"{where}.model", f"no emulated {kind.name} model {device.model!r}",
                    ", ".join(n for n, m in MODELS.items() if m.device_type is kind))
    seed = device.seed if device.seed is not None else \
        stable_seed(item, device.id or "", device.model) & 0xFFFFFFFF
    history = device.history
    specs = [f for f in device.faults if f.strip() != NO_FAULT]
    try:
        faults = FaultSet.parse(specs, kind, seed)
    except BenchConfigError as exc:
        raise _fail(f"{where}.faults", exc.message, exc.expected) from None
    drift_key = f"{where}.history.clock_drift_ppm"
    if "clock_drift" in faults:
        stated = next(s for s in specs if s.strip().partition(":")[0].strip() == "clock_drift")
        if ":" in stated and faults.value("clock_drift") != history.clock_drift_ppm:
            raise _fail(drift_key, f"{history.clock_drift_ppm:g} ppm differs from the fault "
                        f"{stated!r}", "the same rate in both, or clock_drift without a number")
        if abs(history.clock_drift_ppm) <= CRYSTAL_TOLERANCE_PPM:
            raise _fail(drift_key, f"{history.clock_drift_ppm:g} ppm is within a crystal's "
                        "tolerance: the clock_drift fault would not show",
                        f"beyond {CRYSTAL_TOLERANCE_PPM:g} ppm either way")
        specs = [s for s in specs if s != stated] + [f"clock_drift:{history.clock_drift_ppm:g}"]
    elif abs(history.clock_drift_ppm) > CRYSTAL_TOLERANCE_PPM:
        raise _fail(drift_key, f"{history.clock_drift_ppm:g} ppm is beyond a crystal's "
                    f"tolerance ({CRYSTAL_TOLERANCE_PPM:g} ppm): that is the clock_drift fault",
                    "add clock_drift to faults, or a rate within the tolerance")
    events = []
    for n, event in enumerate(history.events):
        try:
            events.append(HistoryEvent(event.code, event.days_before_return))
        except BenchConfigError as exc:
            raise _fail(f"{where}.history.events[{n}]", exc.message, exc.expected) from None
    try:
        field = FieldHistory(history.storage_days, history.clock_offset_s,
                             history.clock_drift_ppm, tuple(events))
    except BenchConfigError as exc:
        raise _fail(f"{where}.history", exc.message, exc.expected) from None
    kinds = [CATALOGUE[f.key] for f in faults]
    verdict = Verdict.FAULT if kinds else Verdict.NO_FAULT_FOUND
    category = _truth_category(kinds)
    if device.expected_verdict is not verdict:
        raise _fail(f"{where}.expected_verdict",
                    f"{device.expected_verdict.value} does not follow from faults "
                    f"{list(device.faults)}", verdict.value)
    if device.expected_category is not category:
        raise _fail(f"{where}.expected_category",
                    f"{device.expected_category.value!r} does not follow from faults "
                    f"{list(device.faults)} (the specification's precedence)", category.value)
    serial, eui64 = label_for(model, seed)
    return BatchRow(
        item=item, device_type=kind, model=model.name, label_id=serial, device_id=eui64,
        return_reason=device.return_reason, return_type=device.return_type, seed=seed,
        truth_faults=tuple(specs) or (NO_FAULT,), truth_verdict=verdict,
        truth_category=category, history=field.to_text(),
    )
