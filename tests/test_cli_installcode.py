"""``meterbench installcode``: the published vector, precise errors, the key only on request."""

from __future__ import annotations

from typer.testing import CliRunner

from harness.cli import app

runner = CliRunner(env={"COLUMNS": "200"})
VECTOR = "83FED3407A939723A5C639B26916D505C3B5"
KEY = "66B6900981E1EE3CA4206B6B861C02BB"


def test_valid_code_shows_its_crc_but_not_its_key() -> None:
    result = runner.invoke(app, ["installcode", "83FE-D340-7A93-9723-A5C6-39B2-6916-D505-C3B5"])
    assert result.exit_code == 0
    assert "CRC-16/X-25 0xB5C3 (stored C3 B5)" in result.output
    assert KEY not in result.output


def test_reveal_prints_the_published_link_key() -> None:
    result = runner.invoke(app, ["installcode", VECTOR, "--reveal"])
    assert result.exit_code == 0 and f"link key {KEY}" in result.output


def test_code_without_its_crc() -> None:
    result = runner.invoke(app, ["installcode", VECTOR[:-4], "--no-crc", "--reveal"])
    assert result.exit_code == 0 and KEY in result.output


def test_errors_say_which_and_exit_2() -> None:
    wrong_crc = runner.invoke(app, ["installcode", VECTOR[:-1] + "6"])
    assert wrong_crc.exit_code == 2 and "wrong CRC" in wrong_crc.output
    bad_char = runner.invoke(app, ["installcode", "83FED3407A9397Z3"])
    assert bad_char.exit_code == 2 and "'Z' at offset 14" in bad_char.output
    short = runner.invoke(app, ["installcode", "83FED3"])
    assert short.exit_code == 2 and "3 bytes; allowed: 6, 8, 12, 16" in short.output
