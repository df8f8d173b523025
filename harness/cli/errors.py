"""How the ``meterbench`` command reports bad input: one line on stderr, the contract's status.

Exit status (DESIGN.md, README "Commands"): 0 success; 1 a device or check failed; 2 usage or
bench-file error; 3 bench unavailable.  Every command reports through :func:`usage_error` or
:func:`fail`, and :class:`OneLineErrors` turns click's own usage errors (an unknown option, a
value out of range) into the same one line instead of a boxed usage text.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

try:  # typer >= 0.2x carries its own copy of click
    from typer._click import exceptions as click_errors
except ImportError:  # pragma: no cover - older typer, on click itself
    from click import exceptions as click_errors  # type: ignore[no-redef]  # same module, older home

from harness.errors import (
    BackendUnavailableError,
    BenchConfigError,
    BenchUnavailableError,
    InstrumentConnectError,
    MeterbenchError,
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE = 0, 1, 2, 3


def one_line(text: str) -> str:
    """``text`` on one line: its lines joined, runs of blanks made one space."""
    return " ".join(text.split())


def error_line(text: str) -> None:
    """Print ``error: text`` on stderr as a single line (no markup, no wrapping)."""
    sys.stderr.write(f"error: {one_line(text)}\n")
    sys.stderr.flush()


def usage_error(text: str) -> NoReturn:
    """A usage or input-file error: one line and exit status 2."""
    error_line(text)
    raise typer.Exit(EXIT_USAGE)


def exit_status(exc: MeterbenchError) -> int:
    """The contract's exit status for a meterbench error."""
    from harness.results.store import ResultStoreError

    if isinstance(exc, BenchConfigError | ResultStoreError):
        return EXIT_USAGE
    if isinstance(exc, BenchUnavailableError | BackendUnavailableError | InstrumentConnectError):
        return EXIT_UNAVAILABLE
    return EXIT_FAILED


def fail(exc: MeterbenchError) -> NoReturn:
    """One clear line on stderr and the contract's exit status; never a traceback."""
    error_line(str(exc))
    raise typer.Exit(exit_status(exc))


def finite(value: float | None) -> float | None:
    """typer callback: refuse ``nan`` and ``inf`` for a number option."""
    if value is not None and not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value


class OneLineErrors(TyperGroup):
    """The root command group: click's usage errors become one ``error:`` line (status 2)."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             windows_expand_args: bool = True, **extra: Any) -> Any:
        """Run the command; in standalone mode a click error is one line and its status."""
        from harness.cli.help_text import tidy_help

        tidy_help(self)  # plain metavars in every command's --help
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False,
                                windows_expand_args=windows_expand_args, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False,
                                  windows_expand_args=windows_expand_args, **extra)
        except getattr(click_errors, "NoArgsIsHelpError", ()) as exc:  # the help was printed
            sys.exit(exc.exit_code)
        except click_errors.ClickException as exc:
            where = exc.ctx.command_path if isinstance(exc, click_errors.UsageError) and exc.ctx \
                else None
            error_line((f"{where}: " if where else "") + exc.format_message())
            sys.exit(EXIT_USAGE if isinstance(exc, click_errors.UsageError) else exc.exit_code)
        except typer.Abort:  # a prompt's input ended (typer.Abort: click's, or typer's own copy)
            error_line("aborted")
            sys.exit(EXIT_FAILED)
        sys.exit(result if type(result) is int else EXIT_OK)
