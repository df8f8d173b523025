"""``meterbench optical``: talk to a meter's optical port directly by serial URL.

For a lab person at a bench (``/dev/ttyUSB0``, ``rfc2217://host:port``) and for the README's
demonstration against the emulated bench: a sign-on or a whole data readout, one line.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from harness.bench.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.errors import MeterbenchError

optical_app = typer.Typer(no_args_is_help=True, help="A meter's optical port (IEC 62056-21).")

UrlArg = Annotated[str, typer.Argument(help="Serial URL: /dev/ttyUSB0, rfc2217://h:p, socket://h:p")]
WakeOpt = Annotated[bool, typer.Option("--wakeup", help="Battery meter: NUL wake-up first.")]
BaudOpt = Annotated[int | None, typer.Option("--baud", help="Highest baud to switch to.")]


def _probe(url: str, wakeup: bool) -> SerialOpticalProbe:
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=url,
                              options={"wakeup": wakeup})
    return SerialOpticalProbe("probe", config)


@optical_app.command("readout")
def readout(url: UrlArg, wakeup: WakeOpt = False, baud: BaudOpt = None,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Sign on, select data readout, print identity and registers on one line."""
    from harness.cli import fail

    try:
        with _probe(url, wakeup) as probe:
            result = probe.readout(baud=baud)
    except MeterbenchError as exc:
        fail(exc)
    ident = result.identification
    if as_json:
        print(json.dumps({"manufacturer": ident.manufacturer, "identification":
                          ident.identification, "baud": ident.baud,
                          "registers": {d.address: d.value + (f"*{d.unit}" if d.unit else "")
                                        for d in result.datasets}}))
        return
    registers = " ".join(f"{d.address}={d.value}{'*' + d.unit if d.unit else ''}"
                         for d in result.datasets)
    print(f"{ident.manufacturer} {ident.identification} @{ident.baud}Bd: {registers}")


@optical_app.command("identify")
def identify(url: UrlArg, wakeup: WakeOpt = False) -> None:
    """Sign on and print the meter's identification line."""
    from harness.cli import fail

    try:
        with _probe(url, wakeup) as probe:
            ident = probe.sign_on()
    except MeterbenchError as exc:
        fail(exc)
    print(f"{ident.manufacturer} {ident.identification} (up to {ident.baud} Bd, reaction "
          f"{ident.reaction_time_s * 1000:.0f} ms)")
