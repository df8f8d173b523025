"""``meterbench batch``: returned-device batch manifests for the emulated bench.

``batch new --size N [--seed S] --out F`` writes a manifest (CSV) with ground-truth columns
(DESIGN.md, the command line); ``batch new --scenario FILE --out F`` writes the devices of a
scenario file (a field case, README "Scenario files") with their histories.  The lead
wires ``batch_app`` into ``harness.cli``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from harness.cli.errors import fail, finite, usage_error
from harness.errors import BenchConfigError
from harness.triage.intake import Verdict, write_csv

T = TypeVar("T")

batch_app = typer.Typer(no_args_is_help=True, help="Returned-device batch manifests.")

EXIT_USAGE = 2
MAX_SIZE = 100_000
"""The largest batch a command generates (a facility's returns for years; bounded memory)."""
MAX_SEED = 2**64 - 1
"""The largest batch seed (it is also part of generated file names, so it stays short)."""


@batch_app.command("new")
def batch_new(
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Manifest file (CSV) to write.", show_default=False)] = None,
    size: Annotated[int | None, typer.Option("--size", min=1, max=MAX_SIZE,
                                             help="Number of devices.")] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", min=0, max=MAX_SEED,
                                      help="Batch seed: same seed, same batch.")] = 0,
    no_fault_ratio: Annotated[float, typer.Option(
        "--no-fault-ratio", min=0.0, max=1.0, callback=finite,
        help="Fraction of devices with nothing wrong.")] = 0.6,
    histories: Annotated[bool, typer.Option(
        "--histories/--no-histories",
        help="Healthy devices carry ordinary field histories (storage, removals, brown-outs); "
             "--no-histories draws the plain batch of earlier versions.")] = True,
    scenario: Annotated[Path | None, typer.Option(
        "--scenario", help="A scenario file (YAML): its devices instead of a drawn batch.",
        show_default=False)] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", hidden=True, help="Former spelling of --out.")] = None,
    size_n: Annotated[int | None, typer.Option(
        "-n", hidden=True, min=1, max=MAX_SIZE, help="Former spelling of --size.")] = None,
) -> None:
    """Generate a returned-device batch manifest with ground-truth columns."""
    out = _one_of(out, output, "--out", "--output")
    size = _one_of(size, size_n, "--size", "-n")
    if out is None:
        usage_error("give the manifest file to write: --out FILE")
    if (size is None) == (scenario is None):
        usage_error("give --size N (a drawn batch) or --scenario FILE, not "
                    + ("both" if size is not None else "neither"))
    if scenario is not None:
        from harness.emulator.world.scenario import load_scenario

        try:
            rows = load_scenario(scenario)
        except BenchConfigError as exc:
            fail(exc)
        origin = f"scenario {scenario}"
    else:
        from harness.emulator.world.population import PopulationSpec, generate

        assert size is not None
        rows = generate(PopulationSpec(size, seed, no_fault_ratio=no_fault_ratio,
                                       histories=histories))
        origin = f"seed {seed}"
    try:
        write_csv(rows, out)
    except OSError as exc:
        usage_error(f"--out {out}: cannot write the manifest: {exc.strerror or exc}")
    verdicts = Counter(r.truth_verdict for r in rows)
    types = Counter(r.device_type.name for r in rows)
    mix = ", ".join(f"{n} {t}" for t, n in sorted(types.items()))
    Console().print(
        f"wrote {len(rows)} devices to {out} ({origin}): {mix}; "
        f"{verdicts[Verdict.NO_FAULT_FOUND]} without fault", highlight=False,
    )


def _one_of(value: T | None, former: T | None, name: str, former_name: str) -> T | None:
    """An option given by its name or by its former spelling (kept, hidden, so scripts keep
    working), not both."""
    if former is None:
        return value
    if value is not None:
        usage_error(f"{former_name} is the former spelling of {name}: give one of them")
    return former
