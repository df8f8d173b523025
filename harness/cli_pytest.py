"""The pytest side of ``meterbench triage``: pytest's usage errors as one line, a clean start.

Registered by ``harness.cli_triage`` for the in-process ``pytest.main`` only (imported when a
campaign runs, so other commands do not load pytest).  A usage error raised while pytest reads
its arguments or while the meterbench plugin configures (bench file, batch, ``--db``) would
be printed by pytest as "ERROR: ..." with exit code 4; here it becomes a
:class:`PytestUsageError` whose one-line message the command prints with exit status 2.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from harness.cli_errors import one_line


class PytestUsageError(Exception):
    """pytest (or the meterbench plugin) refused its arguments; the message is one line."""


def _pytest_message(exc: BaseException) -> str:
    """A pytest usage error in one line: argparse's "usage: ..." text cut to its error."""
    text = str(exc)
    for line in text.splitlines():
        head, sep, rest = line.partition(" error: ")
        if sep and head.startswith("pytest"):
            return f"pytest arguments: {rest.strip()}"
    return one_line(text)


class CampaignStart:
    """pytest plugin (this process only): reports pytest's usage errors as one line, and
    clears the previous verdicts and says what was generated only once the run has started,
    so a refused run leaves everything as it was."""

    def __init__(self, stderr: Console, verdicts: Path) -> None:
        self.stderr = stderr
        self.verdicts = verdicts
        self.notes: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self, pluginmanager: object, args: list[str]) -> object:
        """Argument errors (unknown option, bad value) become a PytestUsageError."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            raise PytestUsageError(_pytest_message(exc)) from None

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config: pytest.Config) -> object:
        """The plugin's usage errors (bench file, batch, --db...) become a PytestUsageError;
        the progress display started for the run is then not shown."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            self.stderr.quiet = True
            raise PytestUsageError(_pytest_message(exc)) from None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """The campaign starts: a fresh verdicts file, and what was generated for it."""
        self.verdicts.unlink(missing_ok=True)
        for note in self.notes:
            self.stderr.print(note, highlight=False, soft_wrap=True)
