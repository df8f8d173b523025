"""A long campaign run window by window: one pytest session per so many devices.

pytest collects every test of every device before the first runs (32 a device), and an xdist
controller keeps each worker's whole collection and its queue: over a 10,000-device batch
that alone is gigabytes per process. ``meterbench triage`` therefore runs a batch longer than
one segment as consecutive pytest sessions, each given ``--mb-window START:STOP`` (a part
of the batch, holding up to ``segment`` devices still to do); the campaign itself (its
store, resume, verdicts file, progress display, summary, conformance report, JUnit XML) is
the whole batch's. Each session's workers, bench and tests go with it, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness.plugin.conformance import Conformance
from harness.plugin.triage_run import RUN_KEY

ONE_SESSION_ARGS = ("-x", "--exitfirst", "--maxfail", "--sw", "--stepwise", "--lf",
                    "--last-failed", "--junitxml", "--junit-xml", "--pdb")
"""pytest arguments whose meaning spans one session: a campaign given one stays in one."""


def windows(keys: list[str], done: set[str], segment: int) -> list[tuple[int, int]]:
    """Batch positions (start, stop) of consecutive windows, each holding up to ``segment``
    devices not yet ``done`` (a resumed campaign's done devices take no window's room)."""
    found: list[tuple[int, int]] = []
    start, count = 0, 0
    for position, key in enumerate(keys):
        if key in done:
            continue
        if count == 0:
            start = position
        count += 1
        if count == segment:
            found.append((start, position + 1))
            count = 0
    if count:
        found.append((start, len(keys)))
    return found


def plan(keys: list[str], segment: int, done: set[str],
         pytest_args: list[str]) -> list[list[str]]:
    """The extra pytest arguments of each session over the batch's device ``keys`` (in batch
    order): one session (``[[]]``) when the batch fits one segment, ``segment`` is 0, or an
    argument spans one session (``-x``...)."""
    if segment <= 0 or any(_one_session(arg) for arg in pytest_args):
        return [[]]
    parts = windows(keys, done, segment)
    if len(parts) <= 1:
        return [[]]
    return [["--mb-window", f"{start}:{stop}"] for start, stop in parts]


def _one_session(arg: str) -> bool:
    """Whether a pytest argument spans one session: a name of ONE_SESSION_ARGS (``=value``
    or not), or a cluster of short flags holding ``-x`` (``-xvs``)."""
    if arg.split("=", 1)[0] in ONE_SESSION_ARGS:
        return True
    return arg[:1] == "-" and arg[1:2] != "-" and arg[1:].isalpha() and "x" in arg[1:]


def done_items(db: str | None, bench: str, batch_name: str) -> set[str]:
    """The devices the campaign to resume has recorded (none without a store, or when no
    campaign of this batch on this bench is unfinished)."""
    if db is None:
        return set()
    from harness.results.store import ResultStore, ResultStoreError

    try:
        with ResultStore.open(db, create=False) as store:
            campaign = store.find_campaign(bench, batch_name)
            return store.done_items(campaign) if campaign is not None else set()
    except ResultStoreError:  # no store yet: nothing done
        return set()


class CarryOver:
    """pytest plugin for every session of one campaign: what must span them all. The
    conformance counts of the sessions before are added to this one's before it writes the
    report, so the last session writes the whole campaign's."""

    def __init__(self) -> None:
        self.conformance: Conformance | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        run = session.config.stash.get(RUN_KEY, None)
        if run is None or run.worker:
            return
        if self.conformance is not None and self.conformance is not run.conformance:
            for (model, clause), outcomes in self.conformance.counts.items():
                for outcome, n in outcomes.items():
                    run.conformance.counts[(model, clause)][outcome] += n
            for model, device_type in self.conformance.types.items():
                run.conformance.types.setdefault(model, device_type)
        self.conformance = run.conformance


def run_sessions(main: Callable[[list[str]], int], args: list[str], sessions: list[list[str]],
                 junit: Path | None, hold: Callable[[bool], None]) -> int:
    """Run the sessions in turn (``main`` runs one pytest session on its arguments); stop at
    the first that ends otherwise than having run its devices (an interrupt, an exit, an
    error). ``hold(True)`` keeps the progress display up between sessions. One JUnit XML file
    over them all. Returns the campaign's exit status: the first stop's, else the gravest
    of the sessions' (a hub return not sent, then a device failed, then all passed)."""
    from harness.plugin.hub_returns import EXIT_HUB_RETURN_NOT_SENT

    went_on = [int(pytest.ExitCode.OK), int(pytest.ExitCode.TESTS_FAILED),
               EXIT_HUB_RETURN_NOT_SENT]  # the campaign goes on after these, gravest last
    code = int(pytest.ExitCode.OK)
    parts: list[Path] = []
    try:
        for index, extra in enumerate(sessions):
            hold(index < len(sessions) - 1)
            junit_args: list[str] = []
            if junit is not None:
                part = junit if len(sessions) == 1 else junit.with_name(
                    f"{junit.name}.part{index}")
                parts.append(part)
                junit_args = ["--junitxml", str(part)]
            status = int(main([*args, *junit_args, *extra]))
            if status not in went_on:
                return status
            code = max(code, status, key=went_on.index)
        return code
    finally:
        hold(False)
        if junit is not None and len(sessions) > 1:
            merge_junit(parts, junit)


def merge_junit(parts: list[Path], target: Path) -> None:
    """Join the sessions' JUnit XML files into one ``<testsuites>`` (a ``<testsuite>`` per
    session, as the format allows), one part in memory at a time; the parts are removed."""
    head, wrote = "", False
    with target.open("w", encoding="utf-8") as out:
        for part in parts:
            if not part.exists():
                continue  # a session stopped before pytest wrote it
            text = part.read_text(encoding="utf-8")
            start, end = text.find("<testsuite "), text.rfind("</testsuites>")
            if start < 0 or end < start:
                continue  # not pytest's JUnit XML: the part is left as it is, beside
            if not wrote:
                head, wrote = text[:start], True
                out.write(head)
            out.write(text[start:end])
            part.unlink()
        if wrote:
            out.write("</testsuites>\n")
    if not wrote:
        target.unlink()
