"""``meterbench optical``: talk to a meter's optical port directly by serial URL.

For a lab person at a bench (``/dev/ttyUSB0``, ``rfc2217://host:port``) and for the README's
demonstration against the emulated bench: a sign-on or a whole data readout, one line.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Annotated

import typer

from harness.cli.errors import fail, usage_error
from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.errors import MeterbenchError
from harness.protocols.iec62056_21 import BAUD_RATES

optical_app = typer.Typer(no_args_is_help=True, help="A meter's optical port (IEC 62056-21).")

UrlArg = Annotated[str, typer.Argument(help="Serial URL: /dev/ttyUSB0, rfc2217://h:p, socket://h:p")]
WakeOpt = Annotated[bool, typer.Option("--wakeup", help="Battery meter: NUL wake-up first.")]
BaudOpt = Annotated[int | None, typer.Option("--baud", help="Highest baud to switch to.")]


def _check_url(url: str) -> None:
    """A URL whose scheme pyserial does not know is a usage error (status 2), not a probe that
    fails to answer (3)."""
    scheme, sep, _ = url.partition("://")
    if not sep:
        return  # a device path: /dev/ttyUSB0, COM3
    if not scheme.isidentifier() or \
            importlib.util.find_spec(f"serial.urlhandler.protocol_{scheme}") is None:
        usage_error(f"URL {url!r}: unknown scheme {scheme!r} (serial URLs: rfc2217://host:port, "
                    "socket://host:port, loop://, or a device such as /dev/ttyUSB0)")


def _check_baud(baud: int | None) -> None:
    """--baud must be a mode C rate (IEC 62056-21): the meter is asked for it by its code."""
    if baud is not None and baud not in BAUD_RATES.values():
        usage_error(f"--baud {baud}: not an IEC 62056-21 mode C rate (one of "
                    f"{', '.join(str(b) for b in BAUD_RATES.values())})")


def _probe(url: str, wakeup: bool) -> SerialOpticalProbe:
    _check_url(url)
    config = InstrumentConfig(kind="optical_probe", backend="serial", address=url,
                              options={"wakeup": wakeup})
    return SerialOpticalProbe("probe", config)


@optical_app.command("readout")
def readout(url: UrlArg, wakeup: WakeOpt = False, baud: BaudOpt = None,
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Sign on, select data readout, print identity and registers on one line."""
    _check_baud(baud)
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
    try:
        with _probe(url, wakeup) as probe:
            ident = probe.sign_on()
    except MeterbenchError as exc:
        fail(exc)
    print(f"{ident.manufacturer} {ident.identification} (up to {ident.baud} Bd, reaction "
          f"{ident.reaction_time_s * 1000:.0f} ms)")
