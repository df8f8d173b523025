"""Triage intake: the returns manifest a lab receives with a batch of returned devices.

One CSV row per device says what the returns facility knows (type, model, label ID, device ID,
the installer's return reason) and, in its ``truth_*`` columns, what is really wrong when that
is known (the emulator's generated batches): triage never reads those while triaging, they
score its verdicts. ``read_csv`` validates a manifest with errors naming file, line and column.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.domain.types import DeviceType, normalise_eui64
from harness.domain.vocabulary import NO_FAULT, FaultCategory
from harness.errors import BenchConfigError
from harness.triage.manifest import Manifests, load_manifests

__all__ = [
    "COLUMNS",
    "NO_FAULT",
    "BatchRow",
    "ManifestError",
    "ReturnType",
    "Verdict",
    "read_csv",
    "write_csv",
]


class Verdict(StrEnum):
    """The true verdict a triage should reach."""

    NO_FAULT_FOUND = "NO_FAULT_FOUND"
    FAULT = "FAULT"


class ReturnType(StrEnum):
    """When the device was returned (DUIS 8.14.3 fault return type)."""

    PRIOR_TO_INSTALLATION = "prior to installation"
    POST_INSTALLATION = "post installation"


COLUMNS: tuple[str, ...] = (
    "item", "device_type", "model", "label_id", "device_id", "return_reason", "return_type",
    "seed", "truth_faults", "truth_verdict", "truth_category",
)
"""The manifest's columns, in order."""
HISTORY_COLUMN = "history"
"""Optional, after the others: an emulated device's field history (written only when a row
has one; ``harness.emulator.world.history`` reads it)."""


@dataclass(frozen=True)
class BatchRow:
    """One returned device of a batch."""

    item: int
    device_type: DeviceType
    model: str
    label_id: str
    device_id: str  # the label's EUI-64, 16 hex digits
    return_reason: str
    return_type: ReturnType
    seed: int
    truth_faults: tuple[str, ...]  # fault specs; ("no_fault",) when nothing is wrong
    truth_verdict: Verdict
    truth_category: FaultCategory
    history: str = ""  # the emulator's FieldHistory text; "" for none

    def as_record(self) -> dict[str, str]:
        """The row as CSV cells."""
        return {
            "item": str(self.item), "device_type": self.device_type.name, "model": self.model,
            "label_id": self.label_id, "device_id": self.device_id,
            "return_reason": self.return_reason, "return_type": self.return_type.value,
            "seed": str(self.seed), "truth_faults": ";".join(self.truth_faults),
            "truth_verdict": self.truth_verdict.value,
            "truth_category": self.truth_category.value, HISTORY_COLUMN: self.history,
        }


class ManifestError(BenchConfigError):
    """A batch manifest is invalid; ``file``, ``line`` and ``column`` say where."""

    def __init__(self, message: str, *, file: str, line: int, column: str | None,
                 expected: str | None = None) -> None:
        where = f"line {line}" + (f", column {column}" if column else "")
        super().__init__(message, file=file, key_path=where, expected=expected, line=line,
                         column=column)
        self.line = line
        self.column = column


def write_csv(rows: Sequence[BatchRow], path: str | os.PathLike[str]) -> None:
    """Write a manifest: a header of :data:`COLUMNS` (and ``history`` when a row has one),
    then one line per row."""
    columns = (*COLUMNS, HISTORY_COLUMN) if any(r.history for r in rows) else COLUMNS
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n",
                                extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_record())


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""Characters no manifest cell holds (tab, CR and LF aside)."""
MAX_DIGITS = 20
"""The longest whole number a manifest cell may hold (2**64 has 20 digits)."""


def read_csv(path: str | os.PathLike[str], *, models: Manifests | None = None
             ) -> list[BatchRow]:
    """Read and validate a manifest; the first error raises a :class:`ManifestError` naming
    the file, line and column (OSError when the file cannot be read at all).

    Each row's model must be one triage knows (``models``: the shipped model manifests by
    default)."""
    name = os.fspath(path)
    known = models if models is not None else load_manifests()
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        raise ManifestError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02X} at character "
            f"{exc.start - start + 1} of the line", file=name,
            line=data.count(b"\n", 0, exc.start) + 1, column=None,
            expected="a CSV file saved as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ManifestError("empty file: no header", file=name, line=1, column=None,
                                expected=",".join(COLUMNS))
        header = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise ManifestError(f"missing column {missing[0]!r}", file=name, line=1,
                                column=missing[0], expected=",".join(COLUMNS))
        twice = sorted({c for c in header if c and header.count(c) > 1})
        if twice:
            raise ManifestError(f"column {twice[0]!r} appears twice in the header", file=name,
                                line=1, column=twice[0])
        rows: list[BatchRow] = []
        first_line: dict[int, int] = {}  # item -> the line it was first seen on
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            if len(cells) != len(header):
                raise ManifestError(f"{len(cells)} cells for {len(header)} columns",
                                    file=name, line=line, column=None)
            for column, cell in zip(header, cells, strict=True):
                bad = _CONTROL.search(cell)
                if bad:
                    raise ManifestError(
                        f"control character U+{ord(bad.group()):04X} in the cell (a corrupted "
                        "or binary file?)", file=name, line=line, column=column,
                        expected="plain text")
            row = _parse_row(dict(zip(header, cells, strict=True)), name, line, known)
            if row.item in first_line:
                raise ManifestError(
                    f"item {row.item} is on line {first_line[row.item]} and again on line "
                    f"{line}", file=name, line=line, column="item",
                    expected="each item once in a batch")
            first_line[row.item] = line
            rows.append(row)
    except csv.Error as exc:
        raise ManifestError(f"not valid CSV: {exc}", file=name, line=reader.line_num or 1,
                            column=None) from None
    if not rows:
        raise ManifestError("no devices: the manifest has a header but no rows", file=name,
                            line=1, column=None, expected="one row per returned device")
    return rows


def _parse_row(cells: dict[str, str], file: str, line: int, models: Manifests) -> BatchRow:
    def fail(column: str, message: str, expected: str | None = None) -> ManifestError:
        return ManifestError(message, file=file, line=line, column=column, expected=expected)

    def number(column: str) -> int:
        text = cells[column].strip()
        if not (text.isascii() and text.isdigit()):  # not '٣' or '²', which isdigit() takes
            shown = text if len(text) <= 40 else f"{text[:20]}...({len(text)} characters)"
            raise fail(column, f"{shown!r} is not a whole number", "digits 0-9")
        if len(text) > MAX_DIGITS:
            raise fail(column, f"a number of {len(text)} digits is too long",
                       f"at most {MAX_DIGITS} digits")
        return int(text)

    def choice(column: str, enum: type[StrEnum]) -> Any:
        try:
            return enum(cells[column].strip())
        except ValueError:
            raise fail(column, f"{cells[column]!r} is not allowed",
                       "one of " + ", ".join(m.value for m in enum)) from None

    try:
        kind = DeviceType.parse(cells["device_type"])
    except ValueError as exc:
        raise fail("device_type", str(exc)) from None
    model = cells["model"].strip()
    declared = models.for_model(model)
    if declared is None or declared.device_type != kind.name:
        raise fail("model", f"no {kind.name} model {model!r}",
                   ", ".join(n for n, m in models.models.items() if m.device_type == kind.name))
    try:
        device_id = normalise_eui64(cells["device_id"])
    except ValueError as exc:
        raise fail("device_id", str(exc)) from None
    if not cells["label_id"].strip():
        raise fail("label_id", "empty label ID")
    specs = tuple(s.strip() for s in cells["truth_faults"].split(";") if s.strip())
    try:
        _check_truth_faults(specs, kind)
    except BenchConfigError as exc:
        raise fail("truth_faults", exc.message, exc.expected) from None
    verdict = choice("truth_verdict", Verdict)
    if (verdict is Verdict.FAULT) != bool([s for s in specs if s != NO_FAULT]):
        raise fail("truth_verdict", f"{verdict.value} does not fit faults {';'.join(specs)!r}")
    return BatchRow(
        item=number("item"), device_type=kind, model=model,
        label_id=cells["label_id"].strip(), device_id=device_id,
        return_reason=cells["return_reason"].strip(),
        return_type=choice("return_type", ReturnType), seed=number("seed"),
        truth_faults=specs or (NO_FAULT,), truth_verdict=verdict,
        truth_category=choice("truth_category", FaultCategory),
        history=_check_history(cells.get(HISTORY_COLUMN, ""), fail),
    )


def _check_truth_faults(specs: Sequence[str], kind: DeviceType) -> None:
    """Check the fault specs of a row's ground truth against the emulator's fault catalogue.

    Injected faults are the emulator's (its generated batches carry them): the catalogue is
    imported only when a row names one, so a lab's manifest without them never loads it."""
    if all(spec == NO_FAULT for spec in specs):
        return
    from harness.emulator.world.faults import FaultSet

    FaultSet.parse(specs, kind)


def _check_history(text: str, fail: Any) -> str:
    """An emulated device's field history cell, checked (the emulator's format, imported only
    when a row has one)."""
    if not text.strip():
        return ""
    from harness.emulator.world.history import parse_history

    try:
        return parse_history(text).to_text()
    except BenchConfigError as exc:
        raise fail(HISTORY_COLUMN, exc.message, exc.expected) from None
