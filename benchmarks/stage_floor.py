"""Each triage stage's wall time against its floor: the time the device itself needs.

The floor of a test is what the device needs, from the spec, the bench file, the device model
and what was actually exchanged (recorded per test by ``_floor_plugin``):

- boot: the slot's ``boot_s`` after every power-on (bench file; ``Dut.power_up``);
- the power-cycle off time the verification states (test_suites/test_70_verify.py
  ``_after_reset``: 0.2 s) and the model's declared ``commit_s`` (harness/triage/models.yaml)
  less the time already passed since the last byte sent to the device;
- every byte on the device's optical line at the baud it travelled at, 10 bits a character
  (7E1 and 8N1 alike: harness/emulator/optical/server.py BITS_PER_CHAR), plus the meter's
  reaction time before each answer: 20 ms when its manufacturer's third letter is lower
  case, else 200 ms (harness/protocols/iec62056_21.py FAST_REACTION_S, SLOW_REACTION_S;
  GB-SMART-METERING.md, IEC 62056-21 optical port);
- a gas meter's wake-up when its port was asleep (the last byte sent to it at least the
  model's ``optical_wake_window_s`` ago, harness/emulator/world/catalogue.py): the NUL
  preamble's bytes (counted above) and the pause after it (bench option ``wakeup_pause_s``,
  else harness/drivers/optical/base.py WAKEUP_PAUSE_S); a wake-up of an awake port is not
  the device's;
- TRI-DIAG-01's clock window (harness/triage/spec.yaml ``window_s``), exchanges inside it not
  counted twice, or longer where the device's reaction time needs it: a read bounds when the
  device took its clock only to its reaction time (the line times are known), so the rate is
  known to ``resolution_ppm`` no sooner than reaction / resolution ("clock window"). A device
  shows whole seconds, so where its second turns must be learnt read by read, at most one
  read per change once it is known to within a read cycle; that adds what no sampler can
  avoid for more than half of all device phases, at the clock read's own cycle (its request
  and answer at their baud, the reaction between), in whole device seconds from the device's
  first change (no sooner than the landing of the last read that showed the second before),
  proven in benchmarks/_phase_bound.py ("clock phase"; the table's last line leaves it
  out). Lengthening beyond both comes of the harness (where its reads fall, the host), not
  of the device;
- each HAN join: the emulated meter's join delay (dongle option ``join_delay_s``, default
  0.3 s of the meter's time: harness/emulator/zigbee/__init__.py), an upper bound of its draw;
- TRI-PWR-02's samples of the idle current (the spec's ``samples``, ``sample_every_s``
  apart: the span from the first to the last, which its median needs to pass over the
  device's radio bursts), "standby samples";
- nothing for a supply switch's actuator pulse: the device draws it while it executes the
  command (harness/emulator/world/device_core.py ``_pulse``), within the exchange counted.

All floors are in device seconds, divided by the bench's time scale. On the real-time bench
the optical probes are made baud-accurate (the emulated meter takes each byte's wire time and
its reaction time, as a real one does) unless --no-baud-accurate.

Prints, per stage and device type, the measured wall time, the floor and their ratio (per
device, medians over runs), the whole triage per type and overall, and where the main thread
spent the time above the floor (sampled: file:line, with the triage step that led there).
Run: python benchmarks/stage_floor.py [--runs 3] [--bench benches/emulated-fast.toml]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _phase_bound import window_floor_s

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "benches" / "emulated.toml"
TYPES = ("ESME", "GSME", "CHF")
BITS_PER_CHAR = 10  # start, 7 data + parity or 8 data, stop (7E1 and 8N1)
FAST_REACTION_S = 0.020  # harness/protocols/iec62056_21.py:51
SLOW_REACTION_S = 0.200  # harness/protocols/iec62056_21.py:53
WAKEUP_PAUSE_S = 1.6  # harness/drivers/optical/base.py:55
POWER_OFF_S = 0.2  # test_suites/test_70_verify.py _after_reset: the power cycle's off time
JOIN_DELAY_S = 0.3  # harness/emulator/zigbee/__init__.py: join_delay_s default
SIGN_ON = b"/?".hex()  # a mode C request (sign-on) starts so


@dataclass
class Facts:
    """What the floor needs beyond the recorded lines: spec and model figures."""

    window_s: float  # TRI-DIAG-01
    commit_s: dict[str, float]  # declared model -> commit_s (models.yaml)
    wake_window_s: dict[str, float | None]  # emulated model -> optical_wake_window_s
    resolution_ppm: float = 0.0  # TRI-DIAG-01: with the reaction time, the window's floor
    join_delay_s: float = JOIN_DELAY_S
    standby_s: float = 0.0  # TRI-PWR-02: its samples' span, first to last


@dataclass
class Floor:
    """One test's floor, by component (device seconds already divided by the time scale)."""

    parts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        """The floor, in wall seconds."""
        return sum(self.parts.values())


@dataclass
class DeviceState:
    """What carries from one test of a device to the next."""

    last_sent: float = float("-inf")  # wall time of the last byte sent to the device
    reaction_s: float = SLOW_REACTION_S


def reaction_of(head_hex: str) -> float | None:
    """The reaction time an identification (``/XXXZ...``) announces, None if not one."""
    data = bytes.fromhex(head_hex)
    if len(data) < 5 or data[:1] != b"/" or not data[1:4].isalpha():
        return None
    return FAST_REACTION_S if data[3:4].islower() else SLOW_REACTION_S


def floor_of_test(line: dict[str, Any], state: DeviceState, facts: Facts) -> Floor:
    """The floor of one recorded test (``_floor_plugin`` line); updates ``state``."""
    scale = float(line.get("time_scale") or 1.0)
    floor = Floor()
    events = sorted(line.get("events", []), key=lambda e: e.get("start", e["t"]))
    for e in events:
        if e["kind"] == "power" and e["state"] == "on":
            floor.parts["boot"] += float(line.get("boot_s") or 0.0) / scale
    clock_waits = [e for e in events if e["kind"] == "wait"
                   and ("test_suites/clock.py" in e["where"] or "(clock_rate)" in e["where"])]
    window: tuple[float, float] | None = None
    if clock_waits:  # the window; its lengthening comes of the read round trips, not the device
        start = _first_change(line, clock_waits[0]["start"], scale)
        needed = whole = 0.0
        if facts.resolution_ppm:
            needed = state.reaction_s / (facts.resolution_ppm * 1e-6)
            cycle = _clock_cycle(line, clock_waits, state.reaction_s)
            if cycle is not None:  # reaction / resolution and the phase's learning
                whole = window_floor_s(cycle, state.reaction_s, facts.resolution_ppm)
        length = max(facts.window_s, needed) / scale
        phase = max(0.0, whole / scale - length)
        window = (start, start + length + phase)
        floor.parts["clock window"] += length
        floor.parts["clock phase"] += phase
    off_at: float | None = None
    for e in events:
        if e["kind"] == "power":
            off_at = e["t"] if e["state"] == "off" else None
        elif e["kind"] == "wait" and "(_after_reset)" in e["where"]:
            if off_at is not None and e["start"] >= off_at:
                floor.parts["power-cycle off"] += POWER_OFF_S / scale
            else:
                declared = facts.commit_s.get(line.get("model") or "", e["seconds"])
                passed = max(0.0, e["start"] - state.last_sent)
                floor.parts["commit"] += max(0.0, declared / scale - passed)
    floor.parts["han join"] += int(line.get("joins") or 0) * facts.join_delay_s / scale
    if "TRI-PWR-02" in line.get("clauses", ()):
        floor.parts["standby samples"] += facts.standby_s / scale
    _optical_floor(line, state, facts, scale, window, floor)
    return floor


def _first_change(line: dict[str, Any], waited: float, scale: float) -> float:
    """The earliest the device can have first turned its second in TRI-DIAG-01's window, whose
    sampler reads back to back until it sees that change and then first waits (at ``waited``):
    after the last read that showed the old second had landed, the request before the last
    one before the wait (its send plus its wire time); ``waited`` if there is none."""
    requests = [e for e in line.get("optical", []) if e["dir"] == ">" and e["t"] < waited]
    if len(requests) < 2:
        return waited
    return min(waited, requests[-2]["t"] + _wire_s(requests[-2]) / scale)


def _wire_s(entry: dict[str, Any]) -> float:
    """A recorded piece's time on the line at its baud (device seconds)."""
    return entry["n"] * BITS_PER_CHAR / entry["baud"]


def _clock_cycle(line: dict[str, Any], clock_waits: list[dict[str, Any]], reaction_s: float
                 ) -> float | None:
    """The shortest clock read cycle the device's line allows, in device seconds: the request
    sent after each of the sampler's waits and its answer, at their baud, and the reaction
    between (None: no such read recorded)."""
    entries = line.get("optical", [])
    cycles = []
    for wait in clock_waits:
        after = wait["start"] + wait["seconds"] / 2
        i = next((i for i, e in enumerate(entries) if e["t"] >= after and e["dir"] == ">"), None)
        if i is None:
            continue
        answer = list(itertools.takewhile(lambda e: e["dir"] == "<", entries[i + 1:]))
        if answer:
            cycles.append(_wire_s(entries[i]) + sum(map(_wire_s, answer)) + reaction_s)
    return min(cycles) if cycles else None


def _optical_floor(line: dict[str, Any], state: DeviceState, facts: Facts, scale: float,
                   window: tuple[float, float] | None, floor: Floor) -> None:
    """Wire time, reaction times and needed wake-ups of the test's optical exchanges."""
    wake = line.get("wakeup") or {}
    pause = float(wake.get("wakeup_pause_s") or WAKEUP_PAUSE_S)
    sleeps_after = facts.wake_window_s.get(line.get("model") or "")
    entries = line.get("optical", [])
    for answer in _answers(entries):
        announced = reaction_of(answer)
        if announced is not None:  # the identification says it: it holds for all answers
            state.reaction_s = announced
            break
    previous = None
    for entry in entries:
        inside = window is not None and window[0] <= entry["t"] <= window[1]
        wire = _wire_s(entry) / scale
        if entry["dir"] == ">" and entry["nul"] and entry["n"] >= 10:  # a wake-up preamble
            asleep = sleeps_after is not None and (
                (entry["t"] - state.last_sent) * scale >= sleeps_after)
            if asleep and not inside:
                floor.parts["wake-up"] += wire + pause / scale
            elif not asleep:
                floor.notes.append(f"wake-up of an awake port at {entry['t']:.3f}")
            state.last_sent = entry["t"]
            previous = entry["dir"]
            continue
        if not inside:
            floor.parts["optical bytes"] += wire
            if entry["dir"] == "<" and previous == ">":
                floor.parts["reaction"] += state.reaction_s / scale
        if entry["dir"] == ">":
            state.last_sent = entry["t"]
        previous = entry["dir"]


def _answers(entries: list[dict[str, Any]]) -> list[str]:
    """The meter's answers as hex: consecutive received pieces joined (a slow line brings an
    identification in several transcript entries)."""
    answers: list[str] = []
    previous = None
    for entry in entries:
        if entry["dir"] == "<":
            if previous == "<":
                answers[-1] += entry["head"]
            else:
                answers.append(entry["head"])
        previous = entry["dir"]
    return answers


@dataclass
class RunTable:
    """One run's figures: (stage, type) -> per-device seconds, measured and floor."""

    measured: dict[tuple[str, str], float]
    floor: dict[tuple[str, str], float]
    devices: Counter[str]
    wall: float
    excess_where: Counter[tuple[str, str]]  # (stage, file:line) -> seconds sampled
    parts: dict[str, Counter[str]] = field(default_factory=dict)  # type -> floor components
    excess: Counter[str] = field(default_factory=Counter)  # test (type) -> measured - floor
    sign_ons: Counter[str] = field(default_factory=Counter)  # type -> mode C sign-ons sent
    needless_wakes: Counter[str] = field(default_factory=Counter)  # type -> awake port woken


def tabulate(lines: list[dict[str, Any]], facts: Facts, wall: float) -> RunTable:
    """Per stage and device type: measured and floor seconds, summed over a run's devices
    (the gaps between one test's end and the next one's start are stage ``(between)``)."""
    measured: dict[tuple[str, str], float] = defaultdict(float)
    floors: dict[tuple[str, str], float] = defaultdict(float)
    kinds: dict[str, str] = {}
    states: dict[str, DeviceState] = defaultdict(DeviceState)
    where: Counter[tuple[str, str]] = Counter()
    parts: dict[str, Counter[str]] = defaultdict(Counter)
    sign_ons: Counter[str] = Counter()
    needless: Counter[str] = Counter()
    excess: Counter[str] = Counter()
    lines = sorted(lines, key=lambda x: x["t0"])
    for i, line in enumerate(lines):
        key = line.get("key")
        kind = line.get("device_type") or kinds.get(key or "", "?")
        if key:
            kinds[key] = kind
        measured[(line["stage"], kind)] += line["t1"] - line["t0"]
        floor = floor_of_test(line, states[key or "?"], facts)
        floors[(line["stage"], kind)] += floor.total
        excess[f"{line['test'].split('[')[0]} ({kind})"] += line["t1"] - line["t0"] - floor.total
        parts[kind].update(floor.parts)
        needless[kind] += len(floor.notes)
        sign_ons[kind] += sum(e["dir"] == ">" and e["head"].startswith(SIGN_ON)
                              for e in line.get("optical", []))
        if i + 1 < len(lines):
            measured[("(between tests)", kind)] += max(0.0, lines[i + 1]["t0"] - line["t1"])
        for place, count in line.get("samples", {}).items():
            where[(line["stage"], place)] += count * float(line.get("sample_s", 0.005))
    return RunTable(dict(measured), dict(floors), Counter(kinds.values()), wall, where,
                    dict(parts), excess, sign_ons, needless)


def spec_facts(bench: Path) -> Facts:
    """The spec's, the catalogue's and the bench file's figures the floors use."""
    from harness.config.catalogue import load_catalogue
    from harness.emulator.world.catalogue import MODELS
    from harness.triage.spec import default_spec

    spec = default_spec()
    catalogue = load_catalogue()
    declared = {name: catalogue.for_model(name) for name in MODELS}
    commit = {name: float(m.commit_s) for name, m in declared.items() if m is not None}
    text = tomllib.loads(bench.read_text())
    standby = spec.clause("TRI-PWR-02")
    delays = [float(i.get("options", {}).get("join_delay_s", JOIN_DELAY_S))
              for i in text.get("instruments", {}).values() if i.get("kind") == "zigbee"]
    return Facts(window_s=float(spec.clause("TRI-DIAG-01").number("window_s")),
                 resolution_ppm=float(spec.clause("TRI-DIAG-01").number("resolution_ppm")),
                 commit_s=commit,
                 wake_window_s={n: m.optical_wake_window_s for n, m in MODELS.items()},
                 join_delay_s=max(delays, default=JOIN_DELAY_S),
                 standby_s=(standby.number("samples") - 1) * standby.number("sample_every_s"))


# -- running ---------------------------------------------------------------------------------

def baud_accurate_copy(bench: Path, tmp: Path) -> Path:
    """The bench file with every emulated optical probe baud-accurate (wire and reaction
    times taken as a real meter takes them), written to ``tmp``."""
    data = tomllib.loads(bench.read_text())
    probes = [n for n, i in data.get("instruments", {}).items()
              if i.get("kind") == "optical_probe" and i.get("emulated")]
    text, lines, done = bench.read_text(), [], set()
    current = None
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("[instruments."):
            current = stripped[len("[instruments."):-1]
        elif stripped.startswith("["):
            current = None
        if current in probes and stripped.startswith("options = {"):
            raw = raw.replace("options = {", "options = { baud_accurate = true,", 1)
            done.add(current)
        lines.append(raw)
    for name in sorted(set(probes) - done):  # no options line: add one under its table
        at = lines.index(f"[instruments.{name}]")
        lines.insert(at + 1, "options = { baud_accurate = true }")
    path = tmp / f"{bench.stem}-baud-accurate.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def batch_of_each_type(tmp: Path, seed: int, per_type: int, healthy: bool = True) -> Path:
    """A batch of ``per_type`` devices of each type, the first (healthy ones unless
    ``healthy`` is False) drawn from a seeded population (same seed, same devices)."""
    from harness.emulator.world.population import PopulationSpec, generate
    from harness.triage.intake import write_csv

    rows = generate(PopulationSpec(max(40, 20 * per_type), seed=seed))
    if healthy:  # every stage runs (a faulty device's reset and verification may not)
        rows = [r for r in rows if r.truth_verdict == "NO_FAULT_FOUND"]
    picked = [r for kind in TYPES for r in [r for r in rows if r.device_type.name == kind]
              [:per_type]]
    if Counter(r.device_type.name for r in picked) != Counter(dict.fromkeys(TYPES, per_type)):
        raise SystemExit(f"seed {seed}: the population lacks {per_type} device(s) of each type")
    path = tmp / f"batch-seed{seed}.csv"
    write_csv(picked, path)
    return path


def run_once(bench: Path, batch: Path, out: Path, db: Path) -> float:
    """One ``meterbench triage`` with the floor plugin; its wall seconds."""
    env = {**os.environ, "MB_FLOOR_OUT": str(out),
           "PYTHONPATH": os.pathsep.join([str(REPO / "benchmarks"), str(REPO),
                                          os.environ.get("PYTHONPATH", "")])}
    command = [sys.executable, "-m", "harness", "triage", "--bench", str(bench),
               "--batch", str(batch), "--db", f"sqlite:///{db}", "--plain", "--",
               "-p", "_floor_plugin", "-q"]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1) or not out.exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
        raise SystemExit(f"triage on {bench} failed (exit {done.returncode}):\n{tail}")
    return wall


def load(path: Path) -> list[dict[str, Any]]:
    """The plugin's lines."""
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _span(lines: list[dict[str, Any]]) -> float:
    """First test's start to last test's end (the process wall time is not in the lines)."""
    return max(x["t1"] for x in lines) - min(x["t0"] for x in lines) if lines else 0.0


# -- printing ----------------------------------------------------------------------------------

def _ratio(m: float, f: float) -> str:
    return f"{m / f:6.2f}x" if f > 0 else "      -"


def print_table(tables: list[RunTable]) -> None:
    """Stage x type: median over runs of per-device measured and floor seconds."""
    stages = sorted({s for t in tables for s, _ in t.measured}, key=lambda s: (s[0] == "(", s))
    print(f"{'stage':<26} {'type':<5} {'measured s':>10} {'floor s':>8} {'ratio':>7}")
    totals: dict[str, tuple[list[float], list[float]]] = {}
    for kind in TYPES:
        per_run_m, per_run_f = [0.0] * len(tables), [0.0] * len(tables)
        for stage in stages:
            ms = [t.measured.get((stage, kind), 0.0) / max(1, t.devices[kind]) for t in tables]
            fs = [t.floor.get((stage, kind), 0.0) / max(1, t.devices[kind]) for t in tables]
            if not any(ms):
                continue
            per_run_m = [a + b for a, b in zip(per_run_m, ms, strict=True)]
            per_run_f = [a + b for a, b in zip(per_run_f, fs, strict=True)]
            m, f = statistics.median(ms), statistics.median(fs)
            print(f"{stage:<26} {kind:<5} {m:>10.2f} {f:>8.2f} {_ratio(m, f)}")
        totals[kind] = (per_run_m, per_run_f)
    print("-" * 60)
    for kind, (ms, fs) in totals.items():
        m, f = statistics.median(ms), statistics.median(fs)
        print(f"{'whole triage (per device)':<26} {kind:<5} {m:>10.2f} {f:>8.2f} {_ratio(m, f)}")
    runs_m = [sum(t.measured.values()) for t in tables]
    runs_f = [sum(t.floor.values()) for t in tables]
    m, f = statistics.median(runs_m), statistics.median(runs_f)
    print(f"{'all devices (tests)':<26} {'all':<5} {m:>10.2f} {f:>8.2f} {_ratio(m, f)}")
    w = statistics.median(t.wall for t in tables)
    print(f"{'all devices (process)':<26} {'all':<5} {w:>10.2f} {f:>8.2f} {_ratio(w, f)}")
    bare = statistics.median(sum(t.floor.values()) - sum(p["clock phase"] for p in t.parts.values())
                             for t in tables)
    print(f"{'  without the clock phase':<26} {'all':<5} {m:>10.2f} {bare:>8.2f} "
          f"{_ratio(m, bare)}")
    print("\nfloor by component, mode C sign-ons and needless wake-ups, per device (median run):")
    table = sorted(tables, key=lambda t: t.wall)[len(tables) // 2]
    for kind in TYPES:
        n = max(1, table.devices[kind])
        parts = ", ".join(f"{k} {v / n:.2f}" for k, v in table.parts.get(kind, Counter())
                          .most_common() if v)
        print(f"  {kind:<5} {parts}; sign-ons {table.sign_ons[kind] / n:g}; wake-ups of an "
              f"awake port {table.needless_wakes[kind] / n:g}")


def print_where(tables: list[RunTable], top: int) -> None:
    """The tests furthest above their floor, and where the main thread stood, summed over
    the run (median run by wall time)."""
    table = sorted(tables, key=lambda t: t.wall)[len(tables) // 2]
    print(f"\nthe tests furthest above their floor (the median run, summed over its devices "
          f"of each type), top {top}:")
    for test, seconds in table.excess.most_common(top):
        print(f"{seconds:7.2f} s  {test}")
    print(f"\nwhere the time went (sampled main thread, the median run), top {top}:")
    for (stage, place), seconds in table.excess_where.most_common(top):
        print(f"{seconds:7.2f} s  {stage:<20} {place}")


def main() -> None:
    """Triage a seeded batch of each device type ``--runs`` times; print the floor table."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", type=Path, default=SHIPPED, help="emulated bench file")
    parser.add_argument("--runs", type=int, default=3, help="runs (medians)")
    parser.add_argument("--seed", type=int, default=7, help="population seed")
    parser.add_argument("--per-type", type=int, default=1, help="devices of each type")
    parser.add_argument("--faulty", action="store_true",
                        help="draw faulty devices too (default: healthy ones, every stage runs)")
    parser.add_argument("--baud-accurate", action=argparse.BooleanOptionalAction, default=None,
                        help="emulated meters take each byte's wire time (default: on at "
                             "time scale 1, where the floor counts it)")
    parser.add_argument("--top", type=int, default=20, help="waits listed")
    parser.add_argument("--keep", type=Path, help="keep the plugin's lines in this folder")
    parser.add_argument("--from", dest="source", type=Path,
                        help="no triage: tabulate the floor-run*.jsonl a --keep run left here")
    args = parser.parse_args()
    if args.runs < 1 or args.per_type < 1:
        parser.error("--runs and --per-type must be 1 or more")
    if not args.bench.exists():
        parser.error(f"--bench {args.bench}: no such file")
    scale = float(tomllib.loads(args.bench.read_text()).get("bench", {}).get("time_scale", 1))
    accurate = scale == 1.0 if args.baud_accurate is None else args.baud_accurate
    facts = spec_facts(args.bench)
    if args.source is not None:
        runs = sorted(args.source.glob("floor-run*.jsonl"))
        if not runs:
            parser.error(f"--from {args.source}: no floor-run*.jsonl there")
        tables = [tabulate(load(p), facts, _span(load(p))) for p in runs]
        print_table(tables)
        print_where(tables, args.top)
        return
    with tempfile.TemporaryDirectory(prefix="mb-stage-floor-") as tmp_name:
        tmp = Path(tmp_name)
        keep = args.keep or tmp
        keep.mkdir(parents=True, exist_ok=True)
        bench = baud_accurate_copy(args.bench, tmp) if accurate else args.bench
        batch = batch_of_each_type(tmp, args.seed, args.per_type, not args.faulty)
        print(f"bench {args.bench} (time scale x{scale:g}, optical "
              f"{'baud-accurate' if accurate else 'instant'}); {args.per_type} device(s) of "
              f"each type, seed {args.seed}; {args.runs} run(s); per device, medians")
        tables = []
        for run in range(args.runs):
            out = keep / f"floor-run{run}.jsonl"
            out.unlink(missing_ok=True)
            wall = run_once(bench, batch, out, tmp / f"run{run}.db")
            tables.append(tabulate(load(out), facts, wall))
        print_table(tables)
        print_where(tables, args.top)


if __name__ == "__main__":
    main()
