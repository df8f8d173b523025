"""The live feed of a campaign the console started: a pytest plugin (``-p harness.console.feed``)
posting each device's stage and verdict to the console, so its benches update as they run.

Loaded only in the runs the console starts (it passes ``-p`` after ``--``); a console that
cannot be reached never stops the triage: the event is dropped.
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any

import pytest

from harness.cli.progress import stage_of
from harness.plugin.bench_live import current_of
from harness.plugin.parallel import device_of
from harness.plugin.triage_run import RUN_KEY, VERDICT_PROP
from harness.plugin.web_operator import BENCH_ENV, TOKEN_ENV, URL_ENV, post_json

_config: pytest.Config | None = None


def send(event: dict[str, Any]) -> None:
    """Post one event to the console (dropped when it does not answer)."""
    url, token = os.environ.get(URL_ENV), os.environ.get(TOKEN_ENV)
    if not url or not token:
        return
    with contextlib.suppress(OSError, ValueError):
        post_json(f"{url.rstrip('/')}/api/run/event", token,
                  {"bench": os.environ.get(BENCH_ENV, ""), "at": time.time(), **event}, 5.0)


def pytest_configure(config: pytest.Config) -> None:
    """Remember the config (the run is stashed on it once the session starts)."""
    global _config
    _config = config


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """The campaign: its id in the store and how many devices it triages."""
    run = session.config.stash.get(RUN_KEY, None)
    if run is None:
        return
    keys = run.device_keys()
    send({"kind": "start", "campaign_id": run.campaign_id, "total": len(keys),
          "done_before": len(set(keys) & run.already_done), "operator": run.operator,
          "role": run.role, "queue": [k for k in keys if k not in run.already_done]})


def pytest_runtest_logstart(nodeid: str, location: object) -> None:
    """A device enters a stage."""
    device = device_of(nodeid)
    if device:
        send({"kind": "stage", "device": device, "stage": stage_of(nodeid)})


_last_current = 0.0
CURRENT_EVERY_S = 0.5
"""At most two current readings a second reach the console."""


def pytest_runtest_logfinish(nodeid: str, location: object) -> None:
    """Between two tests of a device: its live current draw, read off its supply."""
    global _last_current
    device = device_of(nodeid)
    run = _config.stash.get(RUN_KEY, None) if _config is not None else None
    if not device or run is None or time.monotonic() - _last_current < CURRENT_EVERY_S:
        return
    _last_current = time.monotonic()
    amps = current_of(run, device)
    if amps is not None:
        send({"kind": "current", "device": device, "amps": amps})


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """A device's verdict, when a report carries it."""
    for name, value in report.user_properties:
        if name == VERDICT_PROP and isinstance(value, dict):
            send({"kind": "verdict", "device": value.get("item"),
                  "verdict": value.get("verdict"), "why": value.get("why", ""),
                  "category": value.get("category")})


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The campaign ended."""
    run = session.config.stash.get(RUN_KEY, None)
    send({"kind": "finish", "exitstatus": int(exitstatus),
          "campaign_id": run.campaign_id if run is not None else None})
