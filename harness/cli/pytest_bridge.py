"""The pytest side of ``meterbench triage``: pytest's usage errors as one line, a clean start.

Registered by ``harness.cli.triage`` for the in-process ``pytest.main`` only (imported when a
campaign runs, so other commands do not load pytest).  A usage error raised while pytest reads
its arguments or while the meterbench plugin configures (bench file, batch, ``--db``) would
be printed by pytest as "ERROR: ..." with exit code 4; here it becomes a
:class:`PytestUsageError` whose one-line message the command prints with exit status 2.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from rich.console import Console

from harness.cli.errors import one_line
from harness.errors import BenchConfigError


def suites_dir() -> Path:
    """The triage suites: ``test_suites/`` beside ``harness/`` in a checkout, ``harness/suites``
    in an installed wheel (which installs no top-level ``test_suites`` of its own)."""
    harness_dir = Path(__file__).resolve().parents[1]
    for candidate in (harness_dir / "suites", harness_dir.parent / "test_suites"):
        if (candidate / "__init__.py").is_file():
            return candidate
    raise FileNotFoundError(f"the triage suites are not installed beside {harness_dir}")


class PytestUsageError(BenchConfigError):
    """pytest (or the meterbench plugin) refused its arguments; the message is one line.

    User-supplied configuration (the command line), so a BenchConfigError; its message
    already names the argument, so it is shown as it is, with no bench file prefix."""

    def __str__(self) -> str:
        return self.message


def _pytest_message(exc: BaseException) -> str:
    """A pytest usage error in one line: argparse's "usage: ..." text cut to its error."""
    text = str(exc)
    for line in text.splitlines():
        head, sep, rest = line.partition(" error: ")
        if sep and head.startswith("pytest"):
            return f"pytest arguments: {rest.strip()}"
    return one_line(text)


class UsageErrors:
    """pytest plugin (this process only): pytest's usage errors become a PytestUsageError
    with a one-line message, instead of pytest's "ERROR: ..." text and exit code 4."""

    def __init__(self, stderr: Console | None = None) -> None:
        self.stderr = stderr

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_parse(self, pluginmanager: object, args: list[str]) -> object:
        """Argument errors (unknown option, bad value) become a PytestUsageError."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            raise PytestUsageError(_pytest_message(exc)) from None

    @pytest.hookimpl(wrapper=True)
    def pytest_cmdline_main(self, config: pytest.Config) -> object:
        """The plugin's usage errors (bench file, batch, --db, -k...) become a
        PytestUsageError; a progress display on ``stderr`` is then not shown."""
        try:
            return (yield)
        except pytest.UsageError as exc:
            if self.stderr is not None:
                self.stderr.quiet = True
            raise PytestUsageError(_pytest_message(exc)) from None


    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        """A usage error found while collecting (``-k``, ``-m``), or no test selected: the
        progress display (stopped by its own, later, sessionfinish) stays silent too."""
        refused = (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED)
        if exitstatus in refused and self.stderr is not None:
            self.stderr.quiet = True


class CampaignStart(UsageErrors):
    """:class:`UsageErrors`, and once the tests are selected (so a refused run leaves
    everything as it was): the previous verdicts cleared, what was generated said; once for
    the campaign, however many pytest sessions it runs (harness.cli.segments)."""

    def __init__(self, stderr: Console, verdicts: Path) -> None:
        super().__init__(stderr)
        self.verdicts = verdicts
        self.notes: list[str] = []
        self.started = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """The campaign starts: a fresh verdicts file, and what was generated for it (an
        xdist controller has no items of its own: its workers collect them)."""
        from harness.plugin.parallel import is_controller

        if self.started or (not session.items and not is_controller(session.config)):
            return  # a later session of the campaign, or nothing selected (refused)
        self.started = True
        self.verdicts.unlink(missing_ok=True)
        if self.stderr is not None:
            for note in self.notes:
                self.stderr.print(note, highlight=False, soft_wrap=True)


class StopReasons:
    """pytest plugin: why a campaign stopped before its end — a ``pytest.exit`` (the bench
    unavailable, an operator's abort), a suite that cannot be collected, an internal error —
    which the progress display (pytest's own reporting off) would otherwise swallow."""

    def __init__(self) -> None:
        self.exit_reason: str | None = None
        self.exit_code: int | None = None
        self.errors: list[str] = []
        self.hook_failures: list[str] = []
        self._started = False

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """From here on a ``pytest.exit`` is not printed by pytest (before, it says it)."""
        self._started = True

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """A ``pytest.exit`` once the session started: its reason and status (one while
        pytest configures is printed by pytest itself; a Ctrl-C is InterruptWatch's)."""
        if self._started and isinstance(excinfo.value, pytest.exit.Exception):
            reason = excinfo.value.msg
            self.exit_reason = reason.removeprefix("meterbench: ")
            self.exit_code = excinfo.value.returncode

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A suite that cannot be collected (an import error, a syntax error)."""
        if report.failed:
            text = report.longreprtext.strip().splitlines()
            last = text[-1].strip().removeprefix("E").strip() if text else "collection failed"
            named = re.search(r'File "([^"]+)", line (\d+)', report.longreprtext)
            where = report.nodeid or (f"{Path(named[1]).name} (line {named[2]})" if named
                                      else "the triage suites")
            self.errors.append(f"cannot collect {where}: {last}")

    def pytest_internalerror(self, excrepr: object,
                             excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """An error in pytest or a plugin."""
        self.errors.append(f"internal error: {excinfo.exconly()}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """What users' verdict hooks raised (the run exits 1 for it, verdicts or not)."""
        from harness.plugin.triage_run import RUN_KEY

        run = session.config.stash.get(RUN_KEY, None)
        if run is not None:  # each session's, when a campaign runs several
            self.hook_failures += run.hook_failures

    def messages(self) -> list[str]:
        """Each reason, once, in the order found."""
        found = [self.exit_reason] if self.exit_reason else []
        return list(dict.fromkeys([*found, *self.errors]))
