"""Triage intake: the returns manifest a lab keeps for a batch of returned devices.

One CSV row per device says what the returns facility knows: the label (serial, MPxN, EUI-64
where known), device type and SMETS generation, the model as the lab writes it (mapped by the
model catalogue, aliases included), return date, reason and type, and the install code or where
the secret is held.  The emulator's generated batches add ``seed`` and ``truth_*`` columns
saying what is really wrong: triage never reads those while triaging, they score its verdicts.
``read_csv`` validates a manifest with errors naming file, line and column.
"""

from __future__ import annotations

import csv
import datetime
import io
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from harness.config.catalogue import Catalogue, Generation, load_catalogue
from harness.config.secrets import resolve_secret
from harness.domain.eui64 import normalise_eui64
from harness.domain.mpxn import mpan_check_digit
from harness.domain.types import DeviceType
from harness.domain.vocabulary import NO_FAULT, FaultCategory
from harness.errors import BenchConfigError, MeterbenchError
from harness.protocols.installcode import InstallCode, InstallCodeError

__all__ = [
    "COLUMNS",
    "LAB_COLUMNS",
    "NO_FAULT",
    "REQUIRED_COLUMNS",
    "TRUTH_COLUMNS",
    "BatchRow",
    "Generation",
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
"""The columns of a generated batch (``write_csv``), in order."""
REQUIRED_COLUMNS: tuple[str, ...] = ("device_type", "model", "return_reason", "return_type")
"""What every manifest has, plus ``label_id`` or ``mpxn`` (or both)."""
LAB_COLUMNS: tuple[str, ...] = (
    "item", "label_id", "mpxn", "device_id", "device_type", "generation", "model",
    "return_date", "return_reason", "return_type", "install_code",
)
"""A lab's manifest, in the order the README shows it (any order is read)."""
TRUTH_COLUMNS: tuple[str, ...] = ("truth_faults", "truth_verdict", "truth_category")
"""The ground truth of a generated batch: all three or none."""
_SECRET_SCHEMES = ("env:", "file:")
"""Where an ``install_code`` cell may say the secret is held instead of holding it."""
_SCHEME = re.compile(r"^([a-z]+):", re.IGNORECASE)
HISTORY_COLUMN = "history"
"""Optional, after the others: an emulated device's field history (written only when a row
has one; ``harness.emulator.world.history`` reads it)."""


@dataclass(frozen=True)
class BatchRow:
    """One returned device of a batch."""

    item: int
    device_type: DeviceType
    model: str  # as the manifest writes it (a catalogue name or alias)
    label_id: str  # the serial printed on the label ("" when only the MPxN is known)
    device_id: str  # the label's EUI-64, 16 hex digits ("" when not known)
    return_reason: str
    return_type: ReturnType
    seed: int | None  # the emulator's: builds the device a generated row describes
    truth_faults: tuple[str, ...]  # fault specs; ("no_fault",) when nothing is wrong; () unknown
    truth_verdict: Verdict | None  # None: no ground truth (a lab's returns)
    truth_category: FaultCategory | None
    mpxn: str = ""  # the MPAN or MPRN the device was returned from, when known
    generation: Generation = Generation.SMETS2
    return_date: datetime.date | None = None
    # The install code as the manifest gives it (resolved when it names where it is held);
    # a secret: masked when printed, never in reports or JSON.
    install_code: InstallCode | None = field(default=None, repr=False, compare=False)
    history: str = ""  # the emulator's FieldHistory text; "" for none

    def as_record(self) -> dict[str, str]:
        """The row as the cells of a generated batch (:data:`COLUMNS`; no secret)."""
        return {
            "item": str(self.item), "device_type": self.device_type.name, "model": self.model,
            "label_id": self.label_id, "device_id": self.device_id,
            "return_reason": self.return_reason, "return_type": self.return_type.value,
            "seed": "" if self.seed is None else str(self.seed),
            "truth_faults": ";".join(self.truth_faults),
            "truth_verdict": self.truth_verdict.value if self.truth_verdict else "",
            "truth_category": self.truth_category.value if self.truth_category else "",
            HISTORY_COLUMN: self.history,
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


def read_csv(path: str | os.PathLike[str], *, models: Catalogue | None = None
             ) -> list[BatchRow]:
    """Read and validate a manifest; the first error raises a :class:`ManifestError` naming
    the file, line and column (OSError when the file cannot be read at all).

    Each row's model must be one the catalogue knows, by name or alias (``models``: the
    shipped catalogue of the emulated models by default). Rows without an ``item`` column are
    numbered in file order; an ``install_code`` naming ``env:VAR`` or ``file:PATH#KEY`` (a
    path relative to the manifest's folder) is resolved here, so a missing secret is refused
    before anything runs."""
    name = os.fspath(path)
    known = models if models is not None else load_catalogue()
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
        missing = [c for c in REQUIRED_COLUMNS if c not in header]
        if not {"label_id", "mpxn"} & set(header):
            missing.append("label_id")
        if {*TRUTH_COLUMNS} & set(header):  # a generated batch's truth: all of it
            missing += [c for c in TRUTH_COLUMNS if c not in header]
        if missing:
            raise ManifestError(f"missing column {missing[0]!r}", file=name, line=1,
                                column=missing[0], expected=",".join(LAB_COLUMNS)
                                + " (label_id or mpxn; generated batches: "
                                + ",".join(COLUMNS) + ")")
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
            row = _parse_row(dict(zip(header, cells, strict=True)), name, line, known,
                             len(rows) + 1)
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


def _parse_row(cells: dict[str, str], file: str, line: int, models: Catalogue,
               position: int) -> BatchRow:
    def fail(column: str, message: str, expected: str | None = None) -> ManifestError:
        return ManifestError(message, file=file, line=line, column=column, expected=expected)

    def text(column: str) -> str:
        return cells.get(column, "").strip()

    def number(column: str) -> int:
        value = text(column)
        if not (value.isascii() and value.isdigit()):  # not '٣' or '²', which isdigit() takes
            shown = value if len(value) <= 40 else f"{value[:20]}...({len(value)} characters)"
            raise fail(column, f"{shown!r} is not a whole number", "digits 0-9")
        if len(value) > MAX_DIGITS:
            raise fail(column, f"a number of {len(value)} digits is too long",
                       f"at most {MAX_DIGITS} digits")
        return int(value)

    def choice(column: str, enum: type[StrEnum]) -> Any:
        try:
            return enum(text(column))
        except ValueError:
            raise fail(column, f"{cells[column]!r} is not allowed",
                       "one of " + ", ".join(m.value for m in enum)) from None

    try:
        kind = DeviceType.parse(cells["device_type"])
    except ValueError as exc:
        raise fail("device_type", str(exc)) from None
    model = text("model")
    found = models.lookup(model)
    if found is None or found[1].device_type != kind.name:
        raise fail("model", f"no {kind.name} model {model!r} in the model catalogue",
                   ", ".join(n for n, m in models.models.items() if m.device_type == kind.name)
                   + " (or an alias; a lab adds its models with --manifest FILE)")
    entry = found[1]
    generation = choice("generation", Generation) if text("generation") else entry.generation
    if generation is not entry.generation:
        raise fail("generation", f"{generation.value}, but the catalogue says model "
                   f"{found[0]!r} is {entry.generation.value}")
    device_id = ""
    if text("device_id"):
        try:
            device_id = normalise_eui64(cells["device_id"])
        except ValueError as exc:
            raise fail("device_id", str(exc)) from None
    label_id, mpxn = text("label_id"), text("mpxn")
    if not (label_id or mpxn):
        raise fail("label_id" if "label_id" in cells else "mpxn", "empty label ID",
                   "the serial printed on the label, or the MPxN")
    if mpxn and not (mpxn.isascii() and mpxn.isdigit() and (6 <= len(mpxn) <= 10
                                                            or len(mpxn) == 13)):
        raise fail("mpxn", f"{mpxn!r} is not an MPAN or MPRN",
                   "an MPAN's 13-digit core or an MPRN of 6 to 10 digits")
    if len(mpxn) == 13 and mpan_check_digit(mpxn[:12]) != int(mpxn[12]):
        raise fail("mpxn", f"MPAN core {mpxn} fails its check digit (a typing error?)",
                   f"last digit {mpan_check_digit(mpxn[:12])} for {mpxn[:12]}")
    return_date = None
    if text("return_date"):
        try:
            return_date = datetime.date.fromisoformat(text("return_date"))
        except ValueError:
            raise fail("return_date", f"{text('return_date')!r} is not a date",
                       "YYYY-MM-DD") from None
    specs: tuple[str, ...] = ()
    verdict: Verdict | None = None
    category: FaultCategory | None = None
    if "truth_faults" in cells:
        specs = tuple(s.strip() for s in cells["truth_faults"].split(";") if s.strip())
        try:
            _check_truth_faults(specs, kind)
        except BenchConfigError as exc:
            raise fail("truth_faults", exc.message, exc.expected) from None
        verdict = choice("truth_verdict", Verdict)
        if (verdict is Verdict.FAULT) != bool([s for s in specs if s != NO_FAULT]):
            raise fail("truth_verdict",
                       f"{verdict.value} does not fit faults {';'.join(specs)!r}")
        category = choice("truth_category", FaultCategory)
        specs = specs or (NO_FAULT,)
    return BatchRow(
        item=number("item") if "item" in cells else position, device_type=kind, model=model,
        label_id=label_id, device_id=device_id, return_reason=text("return_reason"),
        return_type=choice("return_type", ReturnType),
        seed=number("seed") if text("seed") else None,
        truth_faults=specs, truth_verdict=verdict, truth_category=category, mpxn=mpxn,
        generation=generation, return_date=return_date,
        install_code=_install_code(text("install_code"), Path(file).parent, fail),
        history=_check_history(cells.get(HISTORY_COLUMN, ""), fail),
    )


def _install_code(cell: str, base: Path, fail: Any) -> InstallCode | None:
    """The install code a cell gives, or resolves from where it says the secret is held.
    Errors never repeat the code (it is a secret)."""
    if not cell:
        return None
    if cell.startswith(_SECRET_SCHEMES):
        try:
            cell = resolve_secret(cell, key_path="install_code", base=base)
        except MeterbenchError as exc:
            raise fail("install_code", f"the install code cannot be resolved: {exc.message}",
                       "env:VAR or file:PATH#KEY naming a secret that exists") from None
    elif (scheme := _SCHEME.match(cell)) and re.search("[g-z]", scheme.group(1)):
        raise fail("install_code", f"unknown secret scheme {scheme.group(1)!r}",
                   "env:VAR or file:PATH#KEY (or the code itself)")
    try:
        return InstallCode.parse(cell)
    except InstallCodeError as exc:
        raise fail("install_code", f"not a valid install code: {type(exc).__name__}",
                   "the code printed on the label (hex, 6 to 16 bytes with its CRC), or "
                   "env:VAR / file:PATH#KEY") from None


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
