"""pytest plugin for subprocess runs: how many IEC 62056-21 sign-ons (``/?...!``) each test
sent through the bench's optical probes, one JSON line per test to ``$MB_SIGN_ONS``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness.plugin.session import SESSION_KEY

_COUNT = [0]


def _wrap(inst: Any) -> None:
    """Count the sign-ons ``inst`` writes (once per instrument)."""
    if getattr(inst, "_sign_ons_counted", False) or not hasattr(inst, "_write"):
        return
    write = inst._write

    def counted(data: bytes) -> None:
        if bytes(data).startswith(b"/?"):
            _COUNT[0] += 1
        write(data)

    inst._write, inst._sign_ons_counted = counted, True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Count during the test's call; the bench is open by then (its fixture ran)."""
    session = item.config.stash.get(SESSION_KEY, None)
    path = os.environ.get("MB_SIGN_ONS")
    if session is None or session.bench is None or not path:
        yield
        return
    for inst in session.bench.instruments.values():
        if inst.kind == "optical_probe":
            _wrap(inst)
    _COUNT[0] = 0
    yield
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"test": item.name, "sign_ons": _COUNT[0]}) + "\n")
