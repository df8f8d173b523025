"""``meterbench spec [--format md|yaml]``: the triage specification, readable (DESIGN.md).

Markdown is what a manufacturer reads to learn what their meter will be held to; YAML is the
machine-readable file itself, as shipped.  The lead wires it into ``harness.cli`` either as a
sub-app (``app.add_typer(spec_app, name="spec")``) or as a command
(``app.command("spec")(spec_command)``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from harness.errors import BenchConfigError
from harness.triage.spec import default_spec, spec_text
from harness.triage.spec_markdown import render_markdown

EXIT_USAGE = 2


class SpecFormat(StrEnum):
    """The forms ``meterbench spec`` prints."""

    MD = "md"
    YAML = "yaml"


def spec_command(
    fmt: Annotated[SpecFormat, typer.Option(
        "--format", "-f", case_sensitive=False,
        help="md: a readable document; yaml: the specification file itself.")] = SpecFormat.MD,
) -> None:
    """Print the triage specification (Markdown by default)."""
    try:
        text = spec_text() if fmt is SpecFormat.YAML else render_markdown(default_spec())
    except BenchConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(EXIT_USAGE) from None
    typer.echo(text, nl=not text.endswith("\n"))


spec_app = typer.Typer(invoke_without_command=True, add_completion=False,
                       help="The triage specification, readable.")
spec_app.callback()(spec_command)
