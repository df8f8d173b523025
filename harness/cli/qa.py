"""``meterbench qa``: the QA install/uninstall suite on the Service Request route, run on purpose.

``meterbench qa [--bench B] [--role supplier|rsa] [--fallback-supplier] [--json] [--plain]
[-- PYTEST...]`` runs
``pytest test_suites/qa/install_uninstall.py`` in process: every ESME and GSME slot of
the bench (default: the emulated bench) is pre-notified, whitelisted in the bench's hub with a
dummy MPxN, joined, commissioned, read, decommissioned and put back in its original state, each
SMI status read back with 8.2, every request sent as the DCC user of the run's role (what the
site access file grants, narrowed by ``--role``), every destructive one audited.  The suite is kept
out of the triage run by design: its module name does not match ``test_*.py``, so ``meterbench
triage`` (``pytest test_suites``) never collects it; only this command (or naming the
module to pytest) runs it.

It ends with one line per step: whether DUIS's eligibility table lets the role send its
Service Request, the DCC's answer to the role, the SMI status before and after, and for a step
the role may not make, that the SMI was unchanged; with ``--fallback-supplier`` the QA
environment's Supplier then makes it, audited (so the rest of the journey is still shown for
the role); without it the journey stops at the refusal.  ``--json`` prints those as one
JSON object per line instead; ``--plain`` shows pytest's own output.  Exit status: 0 every
step as expected, 1 a step failed, 2 usage or bench-file error, 3 bench unavailable, 130
interrupted (Ctrl-C, SIGTERM or SIGHUP; the bench reaches its safe state first).  Wired in
``harness.cli`` as ``app.command("qa")``.
"""

from __future__ import annotations

import json
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from harness.bench.safety import EXIT_INTERRUPTED
from harness.cli.triage import InterruptWatch
from harness.qa import STEP_PROPERTY as QA_PROP

QA_SUITE = "qa/install_uninstall.py"  # under the suites folder
"""The QA install/uninstall suite's module (not collected by the triage run)."""
_PYTEST_EXIT = {0: 0, 1: 1, 3: 3, 4: 2}
"""pytest exit code -> the contract's (anything else: 1)."""


class QaRole(StrEnum):
    """The roles that are DCC users (harness.qa.users.QA_ROLES)."""

    SUPPLIER = "supplier"
    RSA = "rsa"


class QaSteps:
    """pytest plugin: gathers each step's outcome and every failed or skipped test."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []
        self.problems: list[tuple[str, str, str]] = []  # (outcome, test id, message)
        self.counts: Counter[str] = Counter()  # tests by outcome

    def pytest_runtest_logreport(self, report: Any) -> None:
        """One test phase reported: keep its steps (call phase) and what went wrong."""
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.counts[report.outcome] += 1
        if report.when == "call":
            self.steps += [value for name, value in report.user_properties if name == QA_PROP]
        if report.failed or (report.skipped and report.when != "teardown"):
            outcome = "failed" if report.failed else "skipped"
            self.problems.append((outcome, report.nodeid, _why(report)))


def _why(report: Any) -> str:
    """A failed or skipped test's reason in one line."""
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):  # a skip: (path, line, "Skipped: why")
        return str(longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(longrepr, "reprcrash", None)
    text = crash.message if crash is not None else report.longreprtext
    return " ".join(str(text).split())


def step_line(step: dict[str, Any]) -> str:
    """One step as a line: what DUIS lets the role do, the DCC's answer, the SMI statuses."""
    head = f"{step['slot']:<5} {step['variant']:<6} {step['step']:<17} "
    if step["variant"] == "-":
        return head + f"{step['request']}: {step['before']} -> {step['after']}"
    if step["allowed"]:
        return head + f"{step['role']} may: {step['answer']}, {step['before']} -> {step['after']}"
    refused = f"{step['role']} may NOT: {step['answer']}, SMI unchanged ({step['after']}); "
    if step["done_by"] == "nobody":
        return head + refused + "not made (--fallback-supplier would make it as the Supplier)"
    return head + refused + f"then made by the {step['done_by']} (audited): {step['final']}"


def qa_command(
    ctx: typer.Context,
    bench: Annotated[Path | None, typer.Option(
        "--bench", "-b", help="Bench file (default: the emulated bench).")] = None,
    role: Annotated[QaRole | None, typer.Option(
        "--role", help="The DCC user's role: supplier or rsa; only narrows what the site "
                       "access file grants you (default: the site's first grant).")] = None,
    fallback_supplier: Annotated[bool, typer.Option(
        "--fallback-supplier", help="Make a step the DCC refused to the role as the QA "
                                    "environment's Supplier instead (audited; off by "
                                    "default: the journey stops at the refusal).")] = False,
    as_json: Annotated[bool, typer.Option(
        "--json", help="Print one JSON object per Service Request step.")] = False,
    plain: Annotated[bool, typer.Option(
        "--plain", help="pytest's own output (the step table follows).")] = False,
) -> None:
    """Install and uninstall each meter in a QA environment through the DCC, as a role.

    Arguments after -- go to pytest (e.g. -k gsme).
    """
    import pytest

    from harness.cli.pytest_bridge import suites_dir

    args = [str(suites_dir() / QA_SUITE), "-p", "no:cacheprovider"]
    if role is not None:
        args += ["--mb-role", role.value]
    if fallback_supplier:
        args += ["--mb-fallback-supplier"]
    if bench is not None:
        args += ["--mb-bench", str(bench)]
    if not plain:
        args += ["-q", "--no-header", "--no-summary", "-p", "no:terminalreporter"]
    from harness.cli.errors import error_line, usage_error
    from harness.cli.pytest_bridge import PytestUsageError, StopReasons, UsageErrors

    steps = QaSteps()
    watch, stops = InterruptWatch(), StopReasons()
    try:
        code = int(pytest.main([*args, *ctx.args],
                               plugins=[steps, watch, stops, UsageErrors()]))
    except PytestUsageError as exc:
        usage_error(str(exc))
    except KeyboardInterrupt:  # a signal after pytest's own handling
        watch.interrupted, code = True, EXIT_INTERRUPTED
    if watch.interrupted:  # pytest says 2, the contract's usage status: say 130
        Console(stderr=True).print("QA run interrupted: the bench was left safe", highlight=False)
        raise typer.Exit(EXIT_INTERRUPTED)
    if code == pytest.ExitCode.USAGE_ERROR:  # pytest said why; there is nothing to report
        raise typer.Exit(_PYTEST_EXIT[code])
    if not plain:  # pytest's own report is off: why the run stopped early, once
        for reason in stops.messages():
            error_line(reason)
        if stops.messages() and not steps.steps:  # nothing ran: no empty step report
            raise typer.Exit(_PYTEST_EXIT.get(code, 1))
    if as_json:
        for step in steps.steps:
            print(json.dumps(step))
    else:
        acting = steps.steps[0]["role"] if steps.steps else (role.value if role else "?")
        print(f"QA install/uninstall as {acting} (MBP.* are meterbench's PROPOSED requests, "
              "not DUIS):")
        for step in steps.steps:
            print(step_line(step))
        print("QA suite: " + (", ".join(f"{n} {k}" for k, n in sorted(steps.counts.items()))
                              or "nothing ran"))
    stderr = Console(stderr=True)
    if not plain:
        for outcome, nodeid, message in steps.problems:
            stderr.print(f"{outcome}: {nodeid}: {message}", highlight=False, markup=False,
                         soft_wrap=True)
    raise typer.Exit(_PYTEST_EXIT.get(code, 1))
