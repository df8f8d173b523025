"""The batch manifest reader's errors: each names the file, the line and the column.

A returns facility's spreadsheet export is where bad bytes come from: a BOM, Latin-1, a
duplicated row, a digit that is not ASCII.  ``read_csv`` takes what is fine and refuses the
rest with a :class:`ManifestError` (a usage error, exit status 2 on the command line).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.emulator.world.population import generate
from harness.triage.intake import COLUMNS, ManifestError, read_csv, write_csv
from harness.triage.manifest import Manifests, ModelManifest, load_manifests


@pytest.fixture
def lines(tmp_path: Path) -> list[str]:
    """A valid two-device manifest's lines (header first)."""
    path = tmp_path / "good.csv"
    write_csv(generate(2, 5), path)
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _cell(line: str, column: str, value: str) -> str:
    cells = line.rstrip("\n").split(",")
    cells[COLUMNS.index(column)] = value
    return ",".join(cells) + "\n"


def test_a_spreadsheet_bom_is_accepted(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + "".join(lines).encode())
    assert [row.item for row in read_csv(path)] == [1, 2]


@pytest.mark.parametrize(("change", "line", "column", "words"), [
    (lambda ls: [ls[0], _cell(ls[1], "item", "١")], 2, "item", "is not a whole number"),
    (lambda ls: [ls[0], _cell(ls[1], "seed", "1" * 21)], 2, "seed", "21 digits is too long"),
    (lambda ls: [ls[0], ls[1], _cell(ls[2], "item", "1")], 3, "item",
     "item 1 is on line 2 and again on line 3"),
    (lambda ls: [ls[0], _cell(ls[1], "label_id", "A\x1bB")], 2, "label_id", "U+001B"),
    (lambda ls: [ls[0].rstrip("\n") + ",model\n", ls[1].rstrip("\n") + ",x\n"], 1, "model",
     "appears twice"),
    (lambda ls: [ls[0]], 1, None, "no devices"),
])
def test_errors_name_line_and_column(tmp_path: Path, lines: list[str], change, line: int,
                                     column: str | None, words: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("".join(change(lines)), encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        read_csv(path)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert words in str(caught.value) and str(path) in str(caught.value)


def test_latin1_names_the_line_and_byte(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("".join(lines).encode() + _cell(lines[1], "item", "3").replace(
        "\n", "").encode() + "é\n".encode("latin-1"))
    with pytest.raises(ManifestError, match=r"line 4: not UTF-8 text: byte 0xE9"):
        read_csv(path)


def test_models_are_those_triage_declares(tmp_path: Path, lines: list[str]) -> None:
    """A row's model is checked against model manifests: the shipped ones by default, or a
    lab's own (its model unknown to the emulator)."""
    header, first = lines[0], lines[1]
    kind = first.split(",")[COLUMNS.index("device_type")]
    path = tmp_path / "lab.csv"
    path.write_text(header + _cell(first, "model", "ACME-1"))
    with pytest.raises(ManifestError, match=f"no {kind} model 'ACME-1'") as info:
        read_csv(path)
    assert (info.value.line, info.value.column) == (2, "model")

    def declared(device_type: str) -> Manifests:
        return Manifests(models={"ACME-1": ModelManifest(
            device_type=device_type, firmware_versions=["1.0"], idle_current_a=(0.001, 0.01))})

    lab = load_manifests().merged(declared(kind))
    assert [row.model for row in read_csv(path, models=lab)] == ["ACME-1"]
    wrong_type = declared("GSME" if kind != "GSME" else "ESME")
    with pytest.raises(ManifestError, match=f"no {kind} model 'ACME-1'"):
        read_csv(path, models=wrong_type)
