"""``meterbench installcode``: validate a ZigBee install code (length, CRC-16/X-25)."""

from __future__ import annotations

from typing import Annotated

import typer

from harness.cli.errors import usage_error
from harness.errors import MeterbenchError
from harness.protocols.installcode import InstallCode


def installcode_command(
    code: Annotated[str, typer.Argument(help="Install code, hex; spaces, dashes allowed.")],
    reveal: Annotated[bool, typer.Option(
        "--reveal", help="Also print the derived link key (a secret).")] = False,
    has_crc: Annotated[bool | None, typer.Option(
        "--crc/--no-crc", help="Whether CODE ends with its CRC (needed for 8 bytes).")] = None,
) -> None:
    """Validate a ZigBee install code: its length and CRC-16/X-25; optionally its link key."""
    try:
        parsed = InstallCode.parse(code, has_crc=has_crc)
    except MeterbenchError as exc:
        usage_error(f"CODE: {exc}")
    crc_bytes = parsed.crc.to_bytes(2, "little").hex(" ").upper()
    print(f"valid {len(parsed)}-byte install code; CRC-16/X-25 0x{parsed.crc:04X} "
          f"(stored {crc_bytes})")
    if reveal:
        print(f"link key {parsed.link_key().hex()}")
