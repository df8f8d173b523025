"""What installing meterbench costs a project that does not use it (issue 13 §1).

Times a one-test pytest run of an unrelated project, in a fresh interpreter each time, with
the meterbench plugin loaded by its entry point and with ``-p no:meterbench``, alternating the
two so that machine noise falls on both alike; prints the median wall time of each, their
difference, and the meterbench modules the plugin's run imported. Also times the plugin's
import alone (``python -X importtime``), which is the part of the difference it owns.

Run: python benchmarks/plugin_cost.py [--runs 21]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEST = "def test_one():\n    assert 1 + 1 == 2\n"
PROBE = """
import sys

def pytest_unconfigure(config):
    with open("modules.txt", "w") as out:
        out.write("\\n".join(sorted(m for m in sys.modules if m.split(".")[0] == "harness")))
"""


def one_run(folder: Path, plugin: bool) -> float:
    """Wall time of one pytest process on the one-test project."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py"]
    if not plugin:
        command += ["-p", "no:meterbench"]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"pytest failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return elapsed


def import_time_us() -> int:
    """Cumulative import time of ``harness.plugin`` in microseconds (``-X importtime``)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c",
                           "import pytest; import harness.plugin"],
                          capture_output=True, text=True, check=True)
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)harness\.plugin$", line)
        if match:
            return int(match.group(1))
    raise SystemExit("harness.plugin not found in -X importtime output")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs of each (default 21)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "test_one.py").write_text(TEST)
        (folder / "conftest.py").write_text(PROBE)
        one_run(folder, True), one_run(folder, False)  # warm the file cache
        with_plugin, without = [], []
        for _ in range(args.runs):
            with_plugin.append(one_run(folder, True))
            modules = (folder / "modules.txt").read_text().split()
            without.append(one_run(folder, False))
        imports = [import_time_us() for _ in range(args.runs)]
    on, off = statistics.median(with_plugin), statistics.median(without)
    print(f"one-test run of an unrelated project, median of {args.runs} runs each:")
    print(f"  with meterbench installed   {on * 1000:7.1f} ms")
    print(f"  -p no:meterbench            {off * 1000:7.1f} ms")
    print(f"  difference                  {(on - off) * 1000:+7.1f} ms (target: within 50 ms)")
    print(f"  import of harness.plugin    {statistics.median(imports) / 1000:7.1f} ms "
          "(-X importtime, cumulative, median)")
    print(f"  meterbench modules imported: {len(modules)} ({', '.join(modules)})")


if __name__ == "__main__":
    main()
