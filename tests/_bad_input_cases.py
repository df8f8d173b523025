"""The bad inputs of every ``meterbench`` command, each with its documented status and words.

One table, read by ``tests/test_cli_bad_input.py`` (in process where that is faithful) and by
``benchmarks/bad_inputs.py`` (every case as a real subprocess).  A case passes when the
command exits with the documented status (README "Commands": 2 usage or input-file error, 3
bench unavailable) and says so clearly: exactly one line on stderr holding the case's words,
nothing on stdout, no traceback, and every file it was given left as it was.
"""

from __future__ import annotations

import hashlib
import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from harness.bench.lock import BenchLock
from harness.config.loader import default_bench_path
from harness.emulator.world.population import generate
from harness.results.store import ResultStore
from harness.triage.classify import classify
from harness.triage.intake import COLUMNS, write_csv
from harness.triage.record import TriageRecord

USAGE, UNAVAILABLE = 2, 3
LONG = "9" * 5000
LAB_BENCH = "bad-input-lab"
"""The bench name of ``lab.toml`` (real addresses); a case may hold its lock."""


@dataclass(frozen=True)
class Case:
    """One bad input: ``meterbench ARGS`` ({d} is the scratch folder, {ro} an unwritable
    one), the status it must exit with and the words its one error line must hold."""

    name: str
    args: tuple[str, ...]
    status: int
    words: tuple[str, ...]
    process: bool = False  # the test runs it as a subprocess (pytest in process, or memory)
    absent: tuple[str, ...] = ()  # paths (under {d}) the command must not create
    locked: bool = False  # run while another process holds the lab bench's lock
    owner: str = ""  # a fix another part of issue 12 makes (the case fails until merged)

    def argv(self, places: Mapping[str, str]) -> list[str]:
        """The arguments with the scratch folders filled in."""
        return [a.format(**places) for a in self.args]


def _c(name: str, args: str | tuple[str, ...], status: int, *words: str, **kw: object) -> Case:
    return Case(name, tuple(args.split()) if isinstance(args, str) else args, status, words,
                **kw)  # type: ignore[arg-type]


CASES: tuple[Case, ...] = (
    # triage: bench files
    _c("triage bench file missing", "triage --bench {d}/missing.toml", USAGE,
       "--bench", "missing.toml", "not found"),
    _c("triage bench file TOML error", "triage --bench {d}/syntax.toml", USAGE,
       "syntax.toml", "not valid toml", "line 6"),
    _c("triage bench file wrong type", "triage --bench {d}/type.toml", USAGE,
       "type.toml", "instruments.psu.timeout_s", "number"),
    _c("triage bench file unknown key", "triage --bench {d}/key.toml", USAGE,
       "key.toml", "instruments.psu.colour", "unknown key"),
    _c("triage bench file not UTF-8", "triage --bench {d}/latin1.toml", USAGE,
       "latin1.toml", "utf-8"),
    # triage: batch manifests
    _c("triage batch not UTF-8", "triage --batch {d}/latin1.csv", USAGE,
       "--batch", "latin1.csv", "line 3", "utf-8"),
    _c("triage batch missing column", "triage --batch {d}/nomodel.csv", USAGE,
       "nomodel.csv", "line 1", "model"),
    _c("triage batch bad device type", "triage --batch {d}/badtype.csv", USAGE,
       "badtype.csv", "line 2", "device_type", "toaster"),
    _c("triage batch duplicate item", "triage --batch {d}/dup.csv", USAGE,
       "dup.csv", "item 1", "line 2", "line 3"),
    _c("triage batch empty file", "triage --batch {d}/empty.csv", USAGE,
       "empty.csv", "empty"),
    _c("triage batch header only", "triage --batch {d}/header.csv", USAGE,
       "header.csv", "no devices"),
    _c("triage batch is a directory", "triage --batch {d}/folder", USAGE,
       "--batch", "folder", "directory"),
    _c("triage batch missing", "triage --batch {d}/missing.csv", USAGE,
       "--batch", "missing.csv", "no such file"),
    _c("triage batch Unicode-digit seed", "triage --batch {d}/useed.csv", USAGE,
       "useed.csv", "line 2", "seed", "whole number"),
    _c("triage batch 5,000-digit seed", "triage --batch {d}/lseed.csv", USAGE,
       "lseed.csv", "line 2", "seed", "digits"),
    _c("triage batch NUL byte", "triage --batch {d}/nul.csv", USAGE,
       "nul.csv", "line 2", "return_reason", "U+0000"),
    # triage: option values
    _c("triage --seed negative", "triage --seed -1", USAGE, "--seed", "greater"),
    _c("triage --seed Unicode digit", "triage --seed ٣", USAGE, "--seed", "integer"),
    _c("triage --seed 5,000 digits", ("triage", "--seed", LONG), USAGE, "--seed"),
    _c("triage --seed 4,000 digits", ("triage", "--seed", "9" * 4000), USAGE, "--seed",
       "less"),  # under Python's int limit: it reached a file name too long to create
    _c("triage --devices 0", "triage --devices 0", USAGE, "--devices", "greater"),
    _c("triage --devices huge", "triage --devices 1000000000", USAGE, "--devices", "less",
       process=True),  # a process (memory-capped): before the bound, it ate all memory
    _c("triage --time-scale 0", "triage --time-scale 0", USAGE, "--time-scale"),
    _c("triage --time-scale -1", "triage --time-scale -1", USAGE, "--time-scale"),
    _c("triage --time-scale nan", "triage --time-scale nan", USAGE, "--time-scale"),
    _c("triage --time-scale inf", "triage --time-scale inf", USAGE, "--time-scale"),
    _c("triage --time-scale on a real bench", "triage --bench {d}/lab.toml --time-scale 10",
       USAGE, "--time-scale", "all-emulated"),
    _c("triage --workers 0", "triage --workers 0", USAGE, "--workers", "greater"),
    _c("triage --workers huge", "triage --workers 100000", USAGE, "--workers", "less"),
    _c("triage --prompt-timeout not a number", ("triage", "--", "--mb-prompt-timeout", "abc"),
       USAGE, "--mb-prompt-timeout", "abc", process=True),
    _c("triage --prompt-timeout nan", ("triage", "--", "--mb-prompt-timeout", "nan"),
       USAGE, "--mb-prompt-timeout", "nan", process=True),
    # triage: model manifests (--manifest, passed on to the plugin)
    _c("triage model manifest missing", "triage --manifest {d}/missing.yaml", USAGE,
       "missing.yaml", "no such file", process=True),
    _c("triage model manifest YAML error", "triage --manifest {d}/syntax.yaml", USAGE,
       "syntax.yaml", "line 2", "yaml", process=True),
    _c("triage model manifest unknown key", "triage --manifest {d}/key.yaml", USAGE,
       "key.yaml", "models.X.colour", "unknown key", process=True),
    # triage: results store and output folders
    _c("triage --db unknown scheme", "triage --db nosuchdb://x/y", USAGE, "--db", "nosuchdb"),
    _c("triage --db missing folder", "triage --db sqlite:///{d}/nodir/r.db", USAGE,
       "--db", "no folder", "nodir", absent=("nodir",)),
    _c("triage --db unwritable", "triage --db sqlite:///{ro}/r.db", USAGE,
       "--db", "cannot create"),
    _c("triage --db not a database", "triage --db {d}/notdb.db", USAGE,
       "--db", "notdb.db", "not a sqlite database"),
    _c("triage --db is a folder", "triage --db sqlite:///{d}/folder", USAGE,
       "--db", "folder"),
    _c("triage --db kept when the batch is bad",
       "triage --db sqlite:///{d}/results.db --batch {d}/dup.csv", USAGE, "dup.csv", "item 1"),
    _c("triage --out unwritable", "triage --out {ro}/out", USAGE, "--out", "cannot write"),
    _c("triage --out is a file", "triage --out {d}/notdb.db", USAGE, "--out", "not a folder"),
    _c("triage --conformance in a missing folder",
       "triage --conformance {d}/nodir/c.md", USAGE, "--conformance", "no folder",
       absent=("nodir",)),
    _c("triage --conformance unwritable", "triage --conformance {ro}/c.md", USAGE,
       "--conformance", "cannot write"),
    _c("triage unknown option", "triage --bogus", USAGE, "--bogus", "unrecognized",
       process=True),
    _c("triage bad -k expression", ("triage", "--", "-k", "and ("), USAGE, "-k",
       "expression", process=True),
    _c("triage -k selecting nothing", ("triage", "--", "-k", "no_such_test_anywhere"), USAGE,
       "no triage test", process=True),
    _c("triage bench locked by another run", "triage --bench {d}/lab.toml", UNAVAILABLE,
       "bench unavailable", LAB_BENCH, process=True, locked=True),
    # report
    _c("report --db missing", "report --db {d}/missing.db --out {d}/rep", USAGE,
       "--db", "no results database", absent=("rep", "missing.db")),
    _c("report --db not a database", "report --db {d}/notdb.db --out {d}/rep", USAGE,
       "--db", "not a database", absent=("rep",)),
    _c("report --db unknown scheme", "report --db nosuchdb://x/y --out {d}/rep", USAGE,
       "--db", "nosuchdb"),
    _c("report --out unwritable", "report --db {d}/results.db --out {ro}/rep", USAGE,
       "--out", "cannot write"),
    _c("report --out is a file", "report --db {d}/results.db --out {d}/notdb.db", USAGE,
       "--out", "not a folder"),
    _c("report --since not a date", "report --out {d}/rep --since 2026-13-01", USAGE,
       "--since", "not a date"),
    _c("report --since after --until",
       "report --out {d}/rep --since 2026-02-01 --until 2026-01-01", USAGE, "--since", "--until"),
    _c("report --format unknown", "report --out {d}/rep --format pdf", USAGE, "--format"),
    _c("report --out missing", "report", USAGE, "--out", "missing"),
    # batch new
    _c("batch new --size 0", "batch new --size 0 -o {d}/b.csv", USAGE, "--size"),
    _c("batch new --size huge", "batch new --size 1000000000000 -o {d}/b.csv", USAGE,
       "--size", "less", process=True),
    _c("batch new --seed negative", "batch new --size 2 --seed -1 -o {d}/b.csv", USAGE,
       "--seed"),
    _c("batch new --seed 5,000 digits", ("batch", "new", "--size", "2", "--seed", LONG,
                                         "-o", "{d}/b.csv"), USAGE, "--seed"),
    _c("batch new --out in a missing folder", "batch new --size 2 -o {d}/nodir/b.csv",
       USAGE, "--out", "no such file", absent=("nodir",)),
    _c("batch new --out is a folder", "batch new --size 2 -o {d}/folder", USAGE,
       "--out", "directory"),
    _c("batch new --no-fault-ratio nan", "batch new --size 2 --no-fault-ratio nan -o {d}/b.csv",
       USAGE, "--no-fault-ratio"),
    # bench check, emulate
    _c("bench check missing file", "bench check {d}/missing.toml", USAGE,
       "missing.toml", "not found"),
    _c("bench check a directory", "bench check {d}/folder", USAGE, "folder", "directory"),
    _c("bench check TOML error", "bench check {d}/syntax.toml", USAGE, "syntax.toml", "toml"),
    _c("bench check unknown backend", "bench check {d}/backend.toml", USAGE,
       "backend.toml", "instruments.psu.backend", "scip"),
    _c("emulate unknown key", "emulate --bench {d}/key.toml", USAGE,
       "key.toml", "instruments.psu.colour"),
    _c("emulate a bench with nothing emulated", "emulate --bench {d}/lab.toml", USAGE,
       "lab.toml", "emulated"),
    # spec, optical, installcode
    _c("spec --format unknown", "spec --format pdf", USAGE, "--format"),
    _c("spec unknown option", "spec --bogus", USAGE, "--bogus"),
    _c("optical unknown URL scheme", "optical readout foo://x", USAGE, "foo://x", "scheme"),
    _c("optical --baud not a mode C rate", "optical readout socket://127.0.0.1:1 --baud 1234",
       USAGE, "--baud", "1234"),
    _c("optical port not answering", "optical identify socket://127.0.0.1:1", UNAVAILABLE,
       "socket://127.0.0.1:1", "cannot open"),
    _c("installcode not hex", "installcode zz", USAGE, "code", "hex"),
    _c("installcode wrong length", "installcode 0011", USAGE, "code", "bytes"),
    _c("installcode wrong CRC", "installcode 83FED3407A939723A5C639B26916D505C3B6 --crc",
       USAGE, "code", "crc"),
    # audit
    _c("audit verify not a database", "audit verify --db {d}/notdb.db", USAGE,
       "notdb.db", "not"),
    _c("audit verify no log", "audit verify --db {d}/missing.db", USAGE, "missing.db",
       absent=("missing.db",)),
    _c("audit verify unknown scheme", "audit verify --db nosuchdb://x/y", USAGE, "nosuchdb"),
    _c("audit init in a missing folder", "audit init --db sqlite:///{d}/nodir/a.db", USAGE,
       "nodir", absent=("nodir",)),
    # qa, and the command itself
    _c("qa --role unknown", "qa --role hacker", USAGE, "--role", "hacker"),
    _c("qa bench file missing", "qa --bench {d}/missing.toml", USAGE, "missing.toml",
       "not found", process=True),
    _c("qa unknown pytest option", "qa -- --bogus", USAGE, "--bogus", process=True),
    _c("unknown command", "frobnicate", USAGE, "frobnicate"),
)
"""Every bad input tried (the issue's 45 and more)."""


def _bench_text() -> str:
    return default_bench_path().read_text(encoding="utf-8")


def _lab_text(port: int = 1) -> str:
    """The emulated bench with every instrument at a real (dead) address, its meters'
    passwords in ``lab.secrets`` beside it (real hardware has no ``emulator:`` secrets)."""
    return _bench_text().replace('name = "emulated"', f'name = "{LAB_BENCH}"').replace(
        "emulated = true", f'address = "TCPIP::127.0.0.1::{port}::SOCKET"\ntimeout_s = 0.5'
    ).replace('optical_password = "emulator:"', 'optical_password = "file:lab.secrets#pw"')


def _results_db(path: Path) -> None:
    """A results store holding one finished device: what a bad run must not lose."""
    with ResultStore.open(f"sqlite:///{path}") as store:
        campaign = store.start_campaign(bench="emulated", operator="op", role="supplier",
                                        batch_name="earlier.csv")
        record = TriageRecord(key="item1", slot="esme", device_type="ESME", label_id="L1",
                              label_device_id=None, operator="op", role="supplier")
        store.record(campaign, record, classify(record))


def unwritable_folder(scratch: Path) -> Path:
    """A folder nobody can write into: ``/sys`` for root (whom permissions do not stop),
    else a folder of the scratch area without write permission."""
    if os.geteuid() == 0:
        return Path("/sys")
    folder = scratch / "readonly"
    folder.mkdir(exist_ok=True)
    folder.chmod(0o555)
    return folder


def prepare(scratch: Path) -> dict[str, str]:
    """Write every input file the cases name into ``scratch``; the placeholders for args."""
    scratch.mkdir(parents=True, exist_ok=True)
    bench = _bench_text()
    (scratch / "syntax.toml").write_text(bench.replace('name = "emulated"', 'name = "emulated'))
    (scratch / "type.toml").write_text(
        bench.replace('kind = "power"', 'kind = "power"\ntimeout_s = "fast"', 1))
    (scratch / "key.toml").write_text(
        bench.replace('kind = "power"', 'kind = "power"\ncolour = "red"', 1))
    (scratch / "backend.toml").write_text(bench.replace('backend = "scpi"', 'backend = "scip"'))
    (scratch / "latin1.toml").write_bytes(
        bench.replace("Emulated bench", "Banc \xe9mul\xe9").encode("latin-1"))
    (scratch / "lab.toml").write_text(_lab_text())
    (scratch / "lab.secrets").write_text("pw=00000000\n")
    rows = generate(3, 1)
    good = scratch / "good.csv"
    write_csv(rows, good)
    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    header, first, second = lines[0], lines[1], lines[2]
    cells = first.rstrip("\n").split(",")

    def with_cell(column: str, value: str) -> str:
        changed = list(cells)
        changed[COLUMNS.index(column)] = value
        return ",".join(changed) + "\n"

    (scratch / "latin1.csv").write_bytes(
        (header + first).encode() + with_cell("return_reason", "r\xe9sum\xe9").replace(
            f"{rows[0].item},", "2,", 1).encode("latin-1"))
    (scratch / "nomodel.csv").write_text(header.replace(",model", "") + first)
    (scratch / "badtype.csv").write_text(header + with_cell("device_type", "toaster"))
    (scratch / "dup.csv").write_text(header + first + second.replace(
        f"{rows[1].item},", f"{rows[0].item},", 1))
    (scratch / "empty.csv").write_text("")
    (scratch / "header.csv").write_text(header)
    (scratch / "useed.csv").write_text(header + with_cell("seed", "٣"), encoding="utf-8")
    (scratch / "lseed.csv").write_text(header + with_cell("seed", LONG))
    (scratch / "nul.csv").write_text(header + with_cell("return_reason", "a\0b"))
    (scratch / "syntax.yaml").write_text("models: [\n")
    (scratch / "key.yaml").write_text("models:\n  X:\n    colour: red\n")
    (scratch / "folder").mkdir(exist_ok=True)
    (scratch / "notdb.db").write_text("these are notes, not a database\n")
    if not (scratch / "results.db").exists():
        _results_db(scratch / "results.db")
    return {"d": str(scratch), "ro": str(unwritable_folder(scratch))}


def fingerprint(scratch: Path) -> dict[str, str]:
    """Every file of the scratch area and a hash of its bytes (to tell that nothing changed)."""
    return {str(p.relative_to(scratch)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(scratch.rglob("*")) if p.is_file() and p.parent.name != "readonly"}


@contextmanager
def conditions(case: Case) -> Iterator[None]:
    """What must hold while the case runs (another run holding the lab bench's lock)."""
    if not case.locked:
        yield
        return
    with BenchLock(LAB_BENCH).acquire("another run (bad-input case)"):
        yield


@dataclass
class Outcome:
    """What a case's run did, and whether that is the documented behaviour."""

    case: Case
    status: int
    stdout: str
    stderr: str
    changed: list[str] = field(default_factory=list)  # files changed or created

    @property
    def lines(self) -> list[str]:
        """The non-blank lines on stderr."""
        return [line for line in self.stderr.splitlines() if line.strip()]

    @property
    def problems(self) -> list[str]:
        """Why the outcome is not one clear error (empty when it is)."""
        why = []
        if "Traceback" in self.stderr + self.stdout:
            why.append("a traceback")
        if len(self.lines) != 1:
            why.append(f"{len(self.lines)} lines on stderr")
        text = " ".join(self.stderr.lower().split())
        missing = [w for w in self.case.words if w.lower() not in text]
        if missing:
            why.append(f"no {', '.join(repr(w) for w in missing)} in the message")
        if self.stdout.strip():
            why.append("output on stdout")
        if self.changed:
            why.append(f"changed {', '.join(self.changed)}")
        return why

    @property
    def clear(self) -> bool:
        """One line naming what and where, no traceback, nothing else printed or changed."""
        return not self.problems

    @property
    def ok(self) -> bool:
        """A clear error and the documented exit status."""
        return self.clear and self.status == self.case.status


def judge(case: Case, scratch: Path, before: dict[str, str], status: int, stdout: str,
          stderr: str) -> Outcome:
    """The outcome of a run of ``case``, given the scratch area's fingerprint before it."""
    after = fingerprint(scratch)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    created = [p for p in case.absent if (scratch / p).exists()]
    for p in created:  # made by mistake: removed, so the next case starts clean
        target = scratch / p
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    return Outcome(case, status, stdout, stderr, changed + created)


TIMED_OUT = -1
"""The status recorded for a case whose process had to be stopped."""
MEMORY_CAP = 4 * 2**30
"""Address space a case's process may use: a bad input must not take the machine down."""


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_process(case: Case, scratch: Path, places: Mapping[str, str],
                command: list[str] | None = None, timeout: float = 120) -> Outcome:
    """Run ``case`` as a real ``meterbench`` process (``command``: how to start it)."""
    command = command or [sys.executable, "-m", "harness"]
    env = {**os.environ, "COLUMNS": "200"}
    before = fingerprint(scratch)
    with conditions(case):
        try:
            proc = subprocess.run([*command, *case.argv(places)], capture_output=True,
                                  text=True, timeout=timeout, env=env, cwd=scratch,
                                  errors="replace", preexec_fn=_cap_memory)
        except subprocess.TimeoutExpired as exc:  # e.g. a campaign that should not start
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) \
                else exc.stderr or ""
            return judge(case, scratch, before, TIMED_OUT, "",
                         f"{stderr}\n(still running after {timeout:g} s: stopped)")
    return judge(case, scratch, before, proc.returncode, proc.stdout, proc.stderr)
