"""Median time to generate a 1,000-device returned batch (the target: well under a second).

Run: ``python benchmarks/population_generation.py [--size N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from harness.emulator.world.population import PopulationSpec, generate


def main() -> None:
    """Time ``runs`` generations of ``size`` devices and print the median."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    timings = []
    for run in range(args.runs):
        start = time.perf_counter()
        generate(PopulationSpec(args.size, seed=run))
        timings.append(time.perf_counter() - start)
    median = statistics.median(timings)
    print(f"population generation: {args.size} devices, median of {args.runs} runs: "
          f"{median * 1000:.1f} ms (min {min(timings) * 1000:.1f} ms, "
          f"max {max(timings) * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
