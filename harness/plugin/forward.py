"""Calling meterbench's own hooks (``harness.plugin.newhooks``) with each device's verdict line,
so that one failing implementation neither loses a verdict nor stops the others."""

from __future__ import annotations

import copy
import sys
from typing import Any

import pytest

VERDICT_HOOK = "pytest_meterbench_verdict"
INTERRUPTED_HOOK = "pytest_meterbench_device_interrupted"


def forward(config: pytest.Config, line: dict[str, Any], campaign_id: int | None) -> list[str]:
    """Call every implementation of the verdict hook (or the interrupted hook, for an
    INTERRUPTED line) with its own copy of ``line``; returns what failed, in words."""
    interrupted = line.get("verdict") == "INTERRUPTED"
    name, arg = (INTERRUPTED_HOOK, "device") if interrupted else (VERDICT_HOOK, "verdict")
    payload = {**line, "campaign_id": campaign_id}
    failures = []
    caller = getattr(config.hook, name)
    pm = config.pluginmanager
    for impl in reversed(caller.get_hookimpls()):  # pluggy's own order: tryfirst first
        if impl.hookwrapper or impl.wrapper:
            continue  # documented: each implementation is called on its own
        args = {"config": config, arg: copy.deepcopy(payload)}
        try:
            impl.function(*(args[a] for a in impl.argnames))
        except Exception as exc:  # a user's plugin: any failure, said and counted
            who = pm.get_name(impl.plugin) or impl.plugin_name
            failures.append(f"{name} of {who} failed for {line.get('item')}: "
                            f"{type(exc).__name__}: {exc}")
            sys.stderr.write(f"meterbench: {failures[-1]} (the verdict is recorded)\n")
    return failures
