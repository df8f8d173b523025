"""The ``meterbench`` command (contract in DESIGN.md): one module per command, assembled here.

Exit status: 0 success; 1 a device or check failed; 2 usage or bench-file error (one clear
message, no traceback); 3 bench unavailable (locked, instrument not answering); 130
interrupted (Ctrl-C, SIGTERM or SIGHUP: the bench was put in its safe state first; an
interrupted ``triage`` campaign prints the command that resumes it).  Bad input
of any kind is one ``error:`` line on stderr (``harness.cli.errors``).
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from harness.bench import safety
from harness.cli.audit import audit_app
from harness.cli.batch import batch_app
from harness.cli.bench import bench_app
from harness.cli.console import console_command
from harness.cli.consoles import err
from harness.cli.emulate import emulate_command
from harness.cli.errors import EXIT_FAILED, EXIT_UNAVAILABLE, EXIT_USAGE, OneLineErrors, fail
from harness.cli.installcode import installcode_command
from harness.cli.optical import optical_app
from harness.cli.qa import qa_command
from harness.cli.report import report_command
from harness.cli.spec import spec_command
from harness.cli.status import status_command
from harness.cli.triage import triage_command

app = typer.Typer(cls=OneLineErrors, no_args_is_help=True, add_completion=True,
                  help="meterbench: triage of GB smart metering devices on a test bench.")


def version_text() -> str:
    """``meterbench X.Y.Z`` (the installed distribution's version), and the Python it runs on."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        mine = version("meterbench")
    except PackageNotFoundError:  # a source tree that was never installed
        mine = "unknown (not installed)"
    return f"meterbench {mine} (Python {sys.version.split()[0]})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True,
        help="Print meterbench's version and exit.")] = False) -> None:
    """meterbench: triage of GB smart metering devices on a test bench.

    Shell completion: meterbench --install-completion (bash, zsh, fish, PowerShell).
    """


app.add_typer(bench_app, name="bench")
app.add_typer(optical_app, name="optical")
app.add_typer(batch_app, name="batch")
app.add_typer(audit_app, name="audit")
app.command("spec")(spec_command)
app.command("report")(report_command)
app.command("status")(status_command)
app.command("qa", context_settings={"allow_extra_args": True,
                                    "ignore_unknown_options": True})(qa_command)
app.command("triage", context_settings={"allow_extra_args": True,
                                        "ignore_unknown_options": True})(triage_command)
app.command("emulate")(emulate_command)
app.command("installcode")(installcode_command)
app.command("console")(console_command)

EXIT_INTERRUPTED = safety.EXIT_INTERRUPTED  # 130: 128 + SIGINT, as shells report a Ctrl-C

__all__ = ["EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_UNAVAILABLE", "EXIT_USAGE", "app", "fail",
           "main"]


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err().print("interrupted")
        sys.exit(EXIT_INTERRUPTED)
