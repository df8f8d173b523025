"""The root command group's error handling: an input that ends is one ``error:`` line."""

from __future__ import annotations

import io

import pytest
import typer

from harness.cli.errors import EXIT_FAILED, OneLineErrors


def test_input_ending_at_a_prompt_is_one_line_and_the_failed_status(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """typer turns EOF at a prompt into Abort; it is 'error: aborted', not a traceback
    (found by mypy: the handler named an Abort that typer's own click copy does not have)."""
    app = typer.Typer(cls=OneLineErrors)

    @app.command()
    def ask() -> None:
        """Ask the operator something."""
        input("label? ")

    @app.command()
    def other() -> None:
        """A second command, so ``ask`` stays a subcommand."""

    monkeypatch.setattr("sys.stdin", io.StringIO(""))  # the operator's input has ended
    with pytest.raises(SystemExit) as exited:
        typer.main.get_command(app).main(["ask"], prog_name="meterbench")
    assert exited.value.code == EXIT_FAILED
    assert capsys.readouterr().err.splitlines()[-1] == "error: aborted"
