"""What a meterbench run adds to an Allure results folder beside allure-pytest's own files.

``environment.properties`` (the bench, its instruments, who ran it, the versions) is what
Allure shows as the run's environment; ``categories.json`` sorts failed checks (findings on
the device) from broken tests (errors while testing). A device's verdict is known only after
its last test was written, so :func:`add_verdicts` adds it (and its category) as labels to
every result of the device at the end of the run, and names the device's suite with it.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from harness.plugin.triage_run import TriageRun


# How Allure sorts what went wrong (categories.json; the same list suits an allurerc).
CATEGORIES = [
    {"name": "Findings on the device (failed checks)", "matchedStatuses": ["failed"]},
    {"name": "Errors while testing (broken: bench, link or harness)",
     "matchedStatuses": ["broken"]},
]


# The labels a reader looks for first, in this order (Allure lists labels as given).
FIRST_LABELS = ("item", "device_id", "device_type", "model", "verdict", "category",
                "ch_return_reason", "bench", "parentSuite", "suite", "subSuite")


def spec_uri() -> str:
    """The packaged triage specification's file, as a URI a report can link to."""
    import importlib.resources

    from harness.triage.spec import SPEC_RESOURCE

    return Path(str(importlib.resources.files("harness.triage").joinpath(SPEC_RESOURCE))
                ).resolve().as_uri()


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def environment(config: pytest.Config, run: TriageRun) -> dict[str, str]:
    """The run's environment as Allure shows it: bench, instruments, who, versions."""
    from harness.triage.spec import default_spec

    bench = run.session.config
    kind = "emulated" if bench.emulated else "physical"
    env = {
        "bench": bench.bench.name,
        "bench.kind": kind,
        "bench.file": run.session.source,
        "bench.time_scale": f"{bench.bench.time_scale:g}",
        "bench.slots": ", ".join(f"{name} ({getattr(slot.device_type, 'name', slot.device_type)})"
                                 for name, slot in bench.slots.items()),
    }
    if bench.bench.site:
        env["bench.site"] = bench.bench.site
    for name, inst in bench.instruments.items():
        where = "emulated" if inst.emulated else inst.address or ""
        env[f"instrument.{name}"] = f"{inst.kind} {inst.backend} {where}".strip()
    env.update({
        "role": run.role or "",
        "operator": run.operator or "",
        "campaign": str(run.campaign_id) if run.campaign_id is not None else "not stored",
        "devices": str(len(run.device_keys())),
        "spec": f"{default_spec().title} v{default_spec().version}",
        "meterbench": _version("meterbench"),
        "python": platform.python_version(),
        "pytest": pytest.__version__,
        "allure-pytest": _version("allure-pytest"),
        "platform": f"{platform.system()} {platform.release()} ({sys.platform})",
    })
    return env


def _escape(text: str, key: bool = False) -> str:
    """A Java properties key or value: backslashes, line breaks and, in keys, separators."""
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if key:
        for ch in " =:":
            out = out.replace(ch, "\\" + ch)
    return out


def write_environment(results: Path, env: dict[str, str]) -> Path:
    """Write ``environment.properties`` into the results folder (replacing an older one)."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / "environment.properties"
    lines = [f"{_escape(k, key=True)}={_escape(v)}" for k, v in env.items()]
    _replace(path, "\n".join(lines) + "\n")
    return path


def write_categories(results: Path) -> Path:
    """Write ``categories.json``: a failed check is a finding, a broken test an error."""
    results.mkdir(parents=True, exist_ok=True)
    path = results / "categories.json"
    _replace(path, json.dumps(CATEGORIES, indent=2))
    return path


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (a report may be read meanwhile)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".mb-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(tmp, path)


def verdict_labels(line: dict) -> list[dict[str, str]]:
    """The labels a device's verdict line gives each of its results."""
    labels = [{"name": "verdict", "value": str(line["verdict"])}]
    if line.get("category"):
        labels.append({"name": "category", "value": str(line["category"])})
    if line.get("duis_return_reason"):
        labels.append({"name": "ch_return_reason", "value": str(line["duis_return_reason"])})
    if line.get("device_id"):
        labels.append({"name": "device_id", "value": str(line["device_id"])})
    if line.get("model"):  # as the device reported it: the same on every stage's result
        labels.append({"name": "model", "value": str(line["model"])})
    return labels


def verdict_suite(line: dict) -> str:
    """A device's suite once its verdict is known: ``item1 CHF 00DB… · FAULT hardware``."""
    head = " ".join(str(p) for p in (line["item"], line.get("device_type"),
                                     line.get("device_id")) if p)
    verdict = " ".join(str(p) for p in (line["verdict"], line.get("category")) if p)
    return f"{head} · {verdict}"


def verdict_note(line: dict) -> str:
    """The device's verdict and why, as the first paragraph of each of its results'
    descriptions (an INCONCLUSIVE device's reason is in no test's failure)."""
    verdict = " ".join(str(p) for p in (line["verdict"], line.get("category")) if p)
    why = f": {line['why']}" if line.get("why") else ""
    return f"**Device verdict ({line['item']}): {verdict}**{why}"


def _this_runs(results: Path, bench: str, since_ms: float) -> Iterator[tuple[Path, dict]]:
    """The results this run wrote: labelled with its ``bench``, started at or after
    ``since_ms`` (a results folder kept between runs holds older ones too)."""
    for path in results.glob("*-result.json"):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours to judge: Allure reports an unreadable file itself
        named = {lab.get("name"): lab.get("value") for lab in result.get("labels") or []}
        if named.get("bench") == bench and (result.get("start") or 0) >= since_ms:
            yield path, result


def _models(found: list[tuple[Path, dict]]) -> dict[str, str]:
    """Each device's model as its latest result names it (the model it reported, once its
    identity stage has run), for every result of the device to carry the same one."""
    latest: dict[str, tuple[int, str]] = {}
    for _, result in found:
        named = {lab.get("name"): lab.get("value") for lab in result.get("labels") or []}
        item, model, start = named.get("item"), named.get("model"), result.get("start") or 0
        if item and model and start >= latest.get(item, (-1, ""))[0]:
            latest[item] = (start, model)
    return {item: model for item, (_, model) in latest.items()}


def add_verdicts(results: Path, lines: Iterable[dict], *, bench: str, since_ms: float) -> int:
    """Finish the results this run wrote (see :func:`_this_runs`): each device's verdict as
    labels, in its suite's name and atop each description; one model label per device; and
    the tree path Allure 3 shows by default as bench / device / stage, not the suite's file
    path. Return how many results were changed."""
    by_device = {line["item"]: line for line in lines if line.get("bench") in (None, bench)}
    if not results.is_dir():
        return 0
    found = list(_this_runs(results, bench, since_ms))
    models = _models(found)
    rank = {name: i for i, name in enumerate(FIRST_LABELS)}
    for path, result in found:
        labels = result.get("labels") or []
        item = next((lab.get("value") for lab in labels if lab.get("name") == "item"), None)
        line = by_device.get(item)
        new = [*verdict_labels(line), {"name": "suite", "value": verdict_suite(line)}] \
            if line is not None else []
        if item in models:
            new.append({"name": "model", "value": models[item]})
        if line is not None:
            result["description"] = "\n\n".join(
                p for p in (verdict_note(line), result.get("description")) if p)
        replaced = {lab["name"] for lab in new}
        labels = [lab for lab in labels if lab.get("name") not in replaced] + new
        labels.sort(key=lambda lab: rank.get(lab.get("name"), len(rank)))
        result["labels"] = labels
        named = {lab.get("name"): lab.get("value") for lab in labels}
        result["titlePath"] = [named[k] for k in ("parentSuite", "suite", "subSuite")
                               if named.get(k)]
        _replace(path, json.dumps(result))
    return len(found)
