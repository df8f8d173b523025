"""Generated batches of returned devices: manifests with hidden ground truth, and their devices.

A batch is a returns manifest (:mod:`harness.triage.intake`, the rows a lab receives) whose
``truth_*`` columns say what is really wrong: the harness never reads those while triaging;
they score its verdicts.  Everything follows from the batch seed, and nothing costly (no
device, no certificate) is built while generating, so a batch of thousands takes
milliseconds.  ``device_from_row`` builds the emulated device a row describes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT, category_of
from harness.emulator.world.catalogue import MODELS, models_of
from harness.emulator.world.clock import Clock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.faults import (
    HISTORY_FAULTS,
    SEEN_ONLY_THROUGH_PORT,
    SHOWN_ONLY_IN_USE,
    ChFaultReason,
    FaultCategory,
    FaultKind,
    faults_for,
)
from harness.emulator.world.history import draw_history, parse_history
from harness.emulator.world.identity import label_for
from harness.emulator.world.models import create_device
from harness.emulator.world.pki import TestPki
from harness.errors import BenchConfigError
from harness.triage.intake import BatchRow, ReturnType, Verdict

__all__ = [
    "CH_NO_FAULT_TYPES",
    "METER_REASONS",
    "PopulationSpec",
    "catalogue_batch",
    "device_from_row",
    "generate",
    "truth_faults",
]


CH_NO_FAULT_TYPES: tuple[str, ...] = (
    "general", "lost or stolen hub", "non-domestic opt-out", "SM WAN variant replacement",
    "dual supplier HAN variant replacement",
)
"""DUIS 8.14.4 no-fault return types."""

METER_REASONS: dict[FaultCategory, str] = {
    FaultCategory.HAN: "no HAN connection",
    FaultCategory.WAN: "not communicating",
    FaultCategory.METROLOGY: "readings look wrong",
    FaultCategory.FIRMWARE: "meter not working",
    FaultCategory.HARDWARE: "meter not working",
    FaultCategory.POWER: "battery or supply problem",
    FaultCategory.TAMPER: "tamper suspected",
    FaultCategory.OPTICAL: "cannot read locally",
    FaultCategory.NONE: "meter exchange",
}
"""What an installer writes for a meter (the emulator's vocabulary: DUIS has none for meters)."""

def _default_mix() -> dict[DeviceType, float]:
    return {DeviceType.CHF: 0.4, DeviceType.ESME: 0.35, DeviceType.GSME: 0.25}


@dataclass(frozen=True)
class PopulationSpec:
    """How a batch is drawn: size, seed and the proportions."""

    size: int
    seed: int = 0
    no_fault_ratio: float = 0.6  # most returns have nothing wrong (SECMP0010)
    type_mix: dict[DeviceType, float] = field(default_factory=_default_mix)
    second_fault_ratio: float = 0.15  # faulty devices that carry a second fault
    post_installation_ratio: float = 0.7
    reason_matches_truth: float = 0.6  # how often the installer's reason names the real fault
    # Healthy devices carry ordinary field histories (storage, removal events, brown-outs, a
    # supplier change) and the faults that look like them out of context are drawn too, so
    # that a verdict agreeing with the truth means something.  Off: the plain batch of old.
    histories: bool = True

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"batch size must be 0 or more, not {self.size}")
        for name in ("no_fault_ratio", "second_fault_ratio", "post_installation_ratio",
                     "reason_matches_truth"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must lie in 0..1, not {value}")
        if not self.type_mix or min(self.type_mix.values()) < 0 or not sum(self.type_mix.values()):
            raise ValueError("type_mix needs at least one positive weight")
        for kind in self.type_mix:
            if not models_of(kind):
                raise ValueError(f"type_mix: the emulator has no {kind.name} models")


def _quota(size: int, weights: Sequence[float]) -> list[int]:
    """Split ``size`` by ``weights`` exactly (largest remainder)."""
    total = sum(weights)
    raw = [size * w / total for w in weights]
    counts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])
    for i in order[: size - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass(frozen=True)
class _Choices:
    """Per device type: its models and weighted faults, computed once per batch."""

    models: list[str]
    faults: list[FaultKind]
    cum_weights: list[float]


def _choices(kind: DeviceType, histories: bool) -> _Choices:
    faults = [f for f in faults_for(kind) if histories or f.key not in HISTORY_FAULTS]
    cum, total = [], 0.0
    for f in faults:
        total += f.weight
        cum.append(total)
    return _Choices([m.name for m in models_of(kind)], faults, cum)


def _reason(kind: DeviceType, primary: FaultKind | None, matches: bool,
            rng: random.Random) -> str:
    """What the installer wrote: the real fault's reason when ``matches``, else a guess."""
    if kind is DeviceType.CHF:
        if primary is None and rng.random() < 0.25:
            return rng.choice(CH_NO_FAULT_TYPES)
        if matches and primary is not None and primary.ch_return_reason is not None:
            return primary.ch_return_reason.value
        return rng.choice(list(ChFaultReason)).value
    if matches:
        return METER_REASONS[primary.category if primary else FaultCategory.NONE]
    return rng.choice(list(METER_REASONS.values()))


def generate(spec: PopulationSpec | int, seed: int | None = None) -> list[BatchRow]:
    """Draw a batch: ``generate(PopulationSpec(...))`` or ``generate(size, seed)``."""
    if not isinstance(spec, PopulationSpec):
        spec = PopulationSpec(spec, seed or 0)
    elif seed is not None:
        raise TypeError("give the seed in the PopulationSpec")
    rng = random.Random(spec.seed)
    kinds = list(spec.type_mix)
    types = [k for k, n in zip(kinds, _quota(spec.size, list(spec.type_mix.values())),
                               strict=True) for _ in range(n)]
    rng.shuffle(types)
    faulty = [i >= round(spec.size * spec.no_fault_ratio) for i in range(spec.size)]
    rng.shuffle(faulty)
    choices = {k: _choices(k, spec.histories) for k in kinds}
    rows: list[BatchRow] = []
    for item, (kind, bad) in enumerate(zip(types, faulty, strict=True), start=1):
        c = choices[kind]
        model = rng.choice(c.models)
        device_seed = rng.getrandbits(32)
        picked: list[FaultKind] = []
        if bad and c.faults:
            picked = rng.choices(c.faults, cum_weights=c.cum_weights)
            if rng.random() < spec.second_fault_ratio:
                second = rng.choices(c.faults, cum_weights=c.cum_weights)[0]
                if second is not picked[0]:
                    picked.append(second)
        primary = picked[0] if picked else None
        serial, eui64 = label_for(MODELS[model], device_seed)
        post = rng.random() < spec.post_installation_ratio
        if any(f.key in SHOWN_ONLY_IN_USE for f in picked):
            post = True  # a meter never installed has no readings for the fault to erase
        history = ""
        if spec.histories and not picked:
            history = draw_history(kind, device_seed, installed=post).to_text()
        rows.append(BatchRow(
            item=item, device_type=kind, model=model, label_id=serial, device_id=eui64,
            return_reason=_reason(kind, primary, rng.random() < spec.reason_matches_truth, rng),
            return_type=ReturnType.POST_INSTALLATION if post else ReturnType.PRIOR_TO_INSTALLATION,
            seed=device_seed,
            truth_faults=tuple(f.key for f in picked) or (NO_FAULT,),
            truth_verdict=Verdict.FAULT if picked else Verdict.NO_FAULT_FOUND,
            truth_category=_truth_category(picked), history=history,
        ))
    return rows


def _truth_category(faults: list[FaultKind]) -> FaultCategory:
    """The category a device with these faults is returned under: with two, the one the
    triage specification ranks first (a cause before its consequences) among those a bench
    can see — a dead optical port hides what is read only through it."""
    if not faults:
        return FaultCategory.NONE
    if any(f.key == "optical_port_dead" for f in faults):
        faults = [f for f in faults if f.key not in SEEN_ONLY_THROUGH_PORT]
    winner = category_of({f.category.value for f in faults})
    return FaultCategory(winner)


def catalogue_batch(seed: int = 0, *, no_fault_per_type: int = 1,
                    return_type: ReturnType = ReturnType.POST_INSTALLATION) -> list[BatchRow]:
    """One device per (fault, device type) of the catalogue, plus no-fault devices: the batch
    that proves a triage classifies every fault it may meet."""
    rng = random.Random(seed)
    plan = [(kind, fault) for kind in (DeviceType.ESME, DeviceType.GSME, DeviceType.CHF)
            for fault in [*faults_for(kind), *[None] * no_fault_per_type]]
    rows = []
    for item, (kind, fault) in enumerate(plan, start=1):
        model = models_of(kind)[(item - 1) % len(models_of(kind))].name
        device_seed = rng.getrandbits(32)
        serial, eui64 = label_for(MODELS[model], device_seed)
        rows.append(BatchRow(
            item=item, device_type=kind, model=model, label_id=serial, device_id=eui64,
            return_reason=_reason(kind, fault, True, rng), return_type=return_type,
            seed=device_seed, truth_faults=(fault.key,) if fault else (NO_FAULT,),
            truth_verdict=Verdict.FAULT if fault else Verdict.NO_FAULT_FOUND,
            truth_category=fault.category if fault else FaultCategory.NONE,
        ))
    return rows


def truth_faults(row: BatchRow) -> list[str]:
    """The fault specs to inject for ``row`` (empty for a no-fault device)."""
    return [f for f in row.truth_faults if f != NO_FAULT]


def device_from_row(row: BatchRow, clock: Clock | None = None, *, slot: str | None = None,
                    nominal_voltage: float | None = None, pki: TestPki | None = None,
                    model: str | None = None) -> EmulatedDevice:
    """The emulated device ``row`` describes: its model (``model``: the emulated model a lab's
    name for it maps to), seed and faults, and, for a device returned after installation, its
    field history (commissioned, with consumer data). A row without the truth columns is a
    healthy device; one without a seed cannot be built (its label would not be the row's)."""
    model = model or row.model
    if model not in MODELS:
        raise BenchConfigError(f"item {row.item}: the emulator has no model {model!r}",
                               key_path=f"item {row.item}",
                               expected="a catalogue entry whose name or reports_as is one "
                               "of " + ", ".join(MODELS))
    if row.seed is None:
        raise BenchConfigError(f"item {row.item}: no seed, so the emulated bench cannot build "
                               "the device its label names", key_path=f"item {row.item}",
                               expected="a seed column (the emulator's) on an emulated bench")
    device = create_device(slot or f"item{row.item}", row.device_type, model,
                           seed=row.seed, faults=truth_faults(row), clock=clock,
                           nominal_voltage=nominal_voltage, pki=pki)
    if device.label.serial != (row.label_id or device.label.serial) \
            or device.label.eui64 != (row.device_id or device.label.eui64):
        raise BenchConfigError(
            f"item {row.item}: label {row.label_id}/{row.device_id} is not what model "
            f"{model} with seed {row.seed} carries "
            f"({device.label.serial}/{device.label.eui64})",
            key_path=f"item {row.item}",
        )
    post = row.return_type is ReturnType.POST_INSTALLATION
    if row.history:  # the row's field history: storage, clock, events (FieldHistory)
        device.load_history(parse_history(row.history), installed=post)
    elif post:
        device.load_field_history()
    return device
