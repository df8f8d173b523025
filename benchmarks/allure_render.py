"""Render an emulated triage in Allure 3 and count what a QA reader finds in it (issue 15 §4).

Runs ``meterbench triage`` on the fast emulated bench with ``--out`` (which writes
``allure-results``), generates the Allure 3 report from it with the ``allure`` command from
npm (no Java), and, when Chromium is installed, screenshots the overview and a device's tree.
It then prints what the results hold: results, device suites, measurement steps (failed
ones too), verdict labels, spec links, environment keys; and exits 1 if any is missing.

    npm install --prefix ~/allure3 allure          # once: the Allure 3 report generator
    python benchmarks/allure_render.py --devices 6 --out /tmp/allure-demo \\
        --allure ~/allure3/node_modules/.bin/allure [--shots /tmp/shots]

``--allure`` defaults to ``$ALLURE_CLI``, else ``allure`` on the PATH (it must be Allure 3:
the Java Allure 2 has no ``allure generate --config``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from _fast_bench import FAST, REPO

from harness.plugin.allure_files import CATEGORIES

# The report's tree: bench, then device (with its verdict), then stage.
ALLURERC = {
    "name": "meterbench triage",
    "categories": CATEGORIES,
    "plugins": {"awesome": {"options": {
        "reportName": "meterbench triage",
        "groupBy": ["parentSuite", "suite", "subSuite"],
    }}},
}


def find_allure(given: str | None) -> str | None:
    """The Allure 3 command: ``--allure``, ``$ALLURE_CLI`` or ``allure`` on the PATH."""
    for candidate in (given, os.environ.get("ALLURE_CLI"), shutil.which("allure")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def triage(out: Path, devices: int, seed: int) -> int:
    """An emulated triage writing its results (and Allure's) to ``out``; its exit code."""
    meterbench = Path(sys.executable).with_name("meterbench")
    cmd = [str(meterbench), "triage", "--devices", str(devices), "--seed", str(seed),
           "--bench", str(FAST), "--no-prompts", "--out", str(out), "--plain",
           "--db", f"sqlite:///{out / 'results.db'}"]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1):  # 1: some device had a fault, which is a result
        sys.stderr.write(done.stdout[-3000:] + done.stderr[-3000:])
    return done.returncode


def generate(allure: str, results: Path, report: Path) -> None:
    """The Allure 3 report of ``results`` in ``report`` (one folder, opens from a server)."""
    config = results.parent / "allurerc.json"
    config.write_text(json.dumps(ALLURERC, indent=2))
    subprocess.run([allure, "generate", str(results), "-o", str(report), "--config",
                    str(config)], check=True, capture_output=True, text=True)


def counts(results: Path) -> dict[str, int]:
    """What the results hold, as the issue asks for it."""
    found: Counter[str] = Counter()
    suites: set[str] = set()
    for path in results.glob("*-result.json"):
        result = json.loads(path.read_text())
        found["results"] += 1
        labels = {lab["name"]: lab["value"] for lab in result.get("labels", [])}
        suites.add(labels.get("suite", ""))
        found["with verdict label"] += "verdict" in labels
        found["with device_id label"] += "device_id" in labels
        found["with model label"] += "model" in labels
        found["with spec link"] += any(link.get("type") == "tms"
                                       for link in result.get("links", []))
        found["quoted parameters"] += sum(str(p.get("value", "")).startswith("'")
                                          for p in result.get("parameters", []))
        steps = [s for s in result.get("steps", []) if any(
            p["name"] == "limits" for p in s.get("parameters", []))]
        found["measurement steps"] += len(steps)
        found["failed measurement steps"] += sum(s["status"] == "failed" for s in steps)
    found["device suites"] = len(suites - {""})
    names = [fx["name"] for path in results.glob("*-container.json")
             for fx in json.loads(path.read_text()).get("afters", [])]
    found["tear-downs"] = len(names)
    found["tear-downs named <lambda> or by index"] = sum(
        "<lambda>" in n or n.rsplit("::", 1)[-1].isdigit() for n in names)
    env = results / "environment.properties"
    found["environment keys"] = len(env.read_text().splitlines()) if env.exists() else 0
    return dict(found)


@contextlib.contextmanager
def served(folder: Path) -> Iterator[str]:
    """The report folder over HTTP on a free local port (the report is a JS app)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/index.html"
    finally:
        server.shutdown()
        server.server_close()


def screenshots(report: Path, shots: Path) -> list[Path]:
    """The overview, and the first test of the report, as headless Chromium renders them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium: no screenshots")
        return []
    shots.mkdir(parents=True, exist_ok=True)
    taken = []
    leaves = json.loads((report / "widgets" / "tree.json").read_text())["leavesById"].values()
    pages = {"overview.png": ""}
    for name, wanted in (("failed-measurement.png", "): FAIL"), ("measurements.png", "): PASS")):
        for leaf in leaves:  # the first test with a measurement step of that outcome
            data = report / "data" / "test-results" / f"{leaf['nodeId']}.json"
            if data.exists() and wanted in data.read_text():
                pages[name] = f"#/{leaf['nodeId']}"
                break
    with served(report) as url:
        for name, fragment in pages.items():
            target = shots / name
            subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                            f"--screenshot={target}",
                            "--window-size=1400,1800",
                            "--virtual-time-budget=8000", url + fragment],
                           capture_output=True, check=False, timeout=120)
            if target.exists():
                taken.append(target)
    return taken


def main() -> int:
    """Triage, render, count; 1 when something the issue asks for is missing."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("allure-demo"))
    parser.add_argument("--allure", help="the Allure 3 command (npm's allure)")
    parser.add_argument("--shots", type=Path, help="where to save screenshots")
    args = parser.parse_args()
    allure = find_allure(args.allure)
    if allure is None:
        print("no Allure 3 command: npm install --prefix DIR allure; then --allure "
              "DIR/node_modules/.bin/allure", file=sys.stderr)
        return 2
    out = args.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    code = triage(out, args.devices, args.seed)
    if code not in (0, 1):
        print(f"meterbench triage exited {code}", file=sys.stderr)
        return 1
    results, report = out / "allure-results", out / "allure-report"
    generate(allure, results, report)
    found = counts(results)
    for name, value in found.items():
        print(f"{name:<40} {value}")
    print(f"report: {report / 'index.html'} (serve it: python -m http.server -d {report})")
    if args.shots:
        for path in screenshots(report, args.shots):
            print(f"screenshot: {path}")
    missing = [k for k in ("measurement steps", "with verdict label", "with spec link",
                           "environment keys") if not found.get(k)]
    bad = found.get("quoted parameters", 0) + found.get(
        "tear-downs named <lambda> or by index", 0)
    if found.get("device suites", 0) < args.devices:
        missing.append("a suite per device")
    if missing or bad:
        print(f"missing: {', '.join(missing) or '-'}; unreadable names: {bad}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
