"""The line as the console sees it now: its benches, the campaign each runs, the prompts
waiting for an operator; changes are announced to the server-sent event streams.

A campaign is ``meterbench triage`` run as a subprocess of the console (the bench, its lock,
its safe state and the store are the CLI's, exactly as from a terminal), with the run's
operator and role, the live feed plugin (``harness.console.feed``) and the console's URL and a
per-run token in its environment (``harness.plugin.web_operator``).  Everything here runs on
the server's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config.loader import load_bench
from harness.console.disposition import disposition
from harness.plugin.web_operator import BENCH_ENV, TOKEN_ENV, URL_ENV
from harness.results.facility_status import LiveBench, LiveBenches

IDLE, STARTING, RUNNING, FINISHED, FAILED = "idle", "starting", "running", "finished", "failed"


@dataclass
class Prompt:
    """A question a run asks the operator, and its answer once given."""

    id: int
    bench: str
    key: str
    slot: str
    hint: str
    text: str
    kind: str  # label, inspect or confirm
    emulated_label: str | None
    asked_at: float
    answer: str | None = None
    answered_by: str | None = None
    expired: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def view(self) -> dict[str, Any]:
        """What the browser is told of it."""
        return {"id": self.id, "bench": self.bench, "key": self.key, "slot": self.slot,
                "hint": self.hint, "text": self.text, "kind": self.kind,
                "emulated_label": self.emulated_label}


@dataclass
class Bench:
    """One bench of the host (a ``--bench`` file) and the campaign it runs, if any."""

    name: str
    path: Path
    emulated: bool
    state: str = IDLE
    token: str | None = None
    campaign_id: int | None = None
    operator: str | None = None
    role: str | None = None
    total: int = 0
    done_before: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    active: dict[str, str] = field(default_factory=dict)  # device -> stage
    entered: dict[str, float] = field(default_factory=dict)  # device -> when it started
    amps: dict[str, float] = field(default_factory=dict)  # device -> its latest current draw
    queue: list[str] = field(default_factory=list)  # devices not yet started, in order
    started_at: float | None = None
    ended_at: float | None = None
    exit_code: int | None = None
    output: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    # The latest devices that need attention: what the operator does with each, and why.
    attention: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=8))
    process: asyncio.subprocess.Process | None = None

    def view(self, now: float) -> dict[str, Any]:
        """What the browser is told of it."""
        end = self.ended_at or now
        devices = [{"device": d, "stage": s, "elapsed_s": round(now - self.entered.get(d, now)),
                    "amps": self.amps.get(d)} for d, s in sorted(self.active.items())]
        return {"name": self.name, "emulated": self.emulated, "state": self.state,
                "campaign_id": self.campaign_id, "operator": self.operator, "role": self.role,
                "total": self.total, "done": sum(self.counts.values()),
                "counts": dict(sorted(self.counts.items())), "devices": devices,
                "queue": self.queue[:5], "queued": len(self.queue),
                "elapsed_s": round(end - self.started_at) if self.started_at else None,
                "attention": list(reversed(self.attention)),
                "exit_code": self.exit_code,
                # Why a run failed, in its own words (its last lines: an error is one line).
                "tail": list(self.output)[-6:] if self.state == FAILED else []}


FACILITY_POLL_S = 1.0
"""How often the console reads the facility's benches from a shared store."""


def _shown(benches: list[LiveBench]) -> list[tuple[Any, ...]]:
    """What of the facility's benches a card shows, times aside (they tick on their own)."""
    return [(b.bench, b.host, b.pid, b.campaign_id, b.device, b.stage, b.amps,
             b.device_since, b.done, b.total) for b in benches]


def remote_view(b: LiveBench, db_now: float) -> dict[str, Any]:
    """Another host's bench as the browser draws it (the shape of ``Bench.view``)."""
    devices = ([{"device": b.device, "stage": b.stage or "starting",
                 "elapsed_s": round(max(0.0, db_now - (b.device_since or db_now))),
                 "amps": b.amps}] if b.device else [])
    return {"name": b.bench, "emulated": False, "remote": True, "host": f"{b.host} pid {b.pid}",
            "state": RUNNING if b.device else "waiting", "campaign_id": b.campaign_id,
            "operator": None, "role": None, "total": b.total, "done": b.done, "counts": {},
            "devices": devices, "queue": [], "queued": 0,
            "elapsed_s": round(max(0.0, db_now - b.since)), "attention": [],
            "exit_code": None, "tail": []}


class Line:
    """The benches of this host, their runs and the prompts waiting."""

    def __init__(self, bench_files: list[Path], *, db: str, audit_db: str,
                 base_url: str = "") -> None:
        self.benches: dict[str, Bench] = {}
        for path in bench_files:
            config = load_bench(path)
            self.benches[config.bench.name] = Bench(config.bench.name, path, config.emulated)
        self.db = db
        self.audit_db = audit_db
        self.base_url = base_url
        self.prompts: dict[int, Prompt] = {}
        # Other hosts' benches on a facility store, as last read, and the database's clock
        # then less ours (their times are the database's).
        self.facility: list[LiveBench] = []
        self._db_offset = 0.0
        self._ids = itertools.count(1)
        self.version = 0
        self._changed: asyncio.Condition | None = None

    # -- change notification --------------------------------------------------------------

    def _condition(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def changed(self) -> None:
        """Announce a change to every event stream."""
        self.version += 1
        async with self._condition():
            self._condition().notify_all()

    async def wait_change(self, seen: int, timeout: float) -> int:
        """Wait until the version passes ``seen`` (or ``timeout``); the version now."""
        cond = self._condition()
        async with cond:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cond.wait_for(lambda: self.version > seen), timeout)
        return self.version

    def snapshot(self) -> dict[str, Any]:
        """The whole line as the browser draws it: this console's benches, the facility's
        others (held by another host or run from a terminal) and the prompts waiting."""
        now = time.monotonic()
        mine = {b.name for b in self.benches.values() if b.state in (STARTING, RUNNING)}
        db_now = time.time() + self._db_offset
        return {"version": self.version,
                "benches": [b.view(now) for b in self.benches.values()],
                "facility": [remote_view(b, db_now) for b in self.facility
                             if b.bench not in mine],
                "prompts": [p.view() for p in self.prompts.values()
                            if p.answer is None and not p.expired]}

    # -- the facility's other benches -----------------------------------------------------

    def set_facility(self, live: LiveBenches) -> bool:
        """Take the benches held now through the store; True when what a card shows changed
        (a device, a stage, a current reading, a holder or progress)."""
        self._db_offset = live.db_now - time.time()
        if _shown(live.benches) == _shown(self.facility):
            return False
        self.facility = list(live.benches)
        return True

    async def watch_facility(self, read: Callable[[], LiveBenches],
                             every_s: float = FACILITY_POLL_S) -> None:
        """Read the facility's benches every ``every_s`` (off the event loop) and announce
        each change, until cancelled; a failed read is tried again next time."""
        while True:
            try:
                live = await asyncio.to_thread(read)
            except Exception as exc:  # the database is away for a moment
                sys.stderr.write(f"meterbench console: facility benches not read: {exc}\n")
            else:
                if self.set_facility(live):
                    await self.changed()
            await asyncio.sleep(every_s)

    # -- runs -----------------------------------------------------------------------------

    def bench_of_token(self, token: str | None) -> Bench | None:
        """The bench whose running campaign holds ``token``."""
        if not token:
            return None
        for bench in self.benches.values():
            if bench.token is not None and secrets.compare_digest(bench.token, token):
                return bench
        return None

    def command(self, bench: Bench, *, devices: int, seed: int, operator: str, role: str,
                time_scale: float | None, batch: Path | None = None) -> list[str]:
        """The ``meterbench triage`` command line of a campaign on ``bench``: a returns
        manifest (``batch``) device by device, else on an emulated bench a generated
        population, else the devices in the bench's slots."""
        args = [sys.executable, "-m", "harness", "triage", "--bench", str(bench.path),
                "--db", self.db, "--audit-db", self.audit_db, "--operator", operator,
                "--role", role, "--plain"]
        if batch is not None:
            args += ["--batch", str(batch)]
        elif not bench.emulated:
            args += ["--slots"]
        if bench.emulated and batch is None:
            args += ["--devices", str(devices), "--seed", str(seed), "--again"]
            if time_scale is not None:
                args += ["--time-scale", str(time_scale)]
        return [*args, "--", "-p", "harness.console.feed", "-q"]

    async def start(self, name: str, *, devices: int, seed: int, operator: str, role: str,
                    time_scale: float | None = None, batch: Path | None = None) -> Bench:
        """Start a campaign on bench ``name`` (ValueError: unknown, or busy)."""
        bench = self.benches.get(name)
        if bench is None:
            raise ValueError(f"no bench {name!r} on this console")
        if bench.state in (STARTING, RUNNING):
            raise ValueError(f"bench {name} is already running a campaign")
        if batch is not None and not batch.is_file():
            raise ValueError(f"no returns manifest at {batch} on this host")
        bench.token = secrets.token_urlsafe(24)
        bench.state, bench.operator, bench.role = STARTING, operator, role
        bench.campaign_id, bench.total, bench.done_before = None, 0, 0
        bench.counts, bench.active, bench.entered, bench.amps = Counter(), {}, {}, {}
        bench.queue = []
        bench.attention.clear()
        bench.started_at, bench.ended_at, bench.exit_code = time.monotonic(), None, None
        bench.output.clear()
        env = {**os.environ, URL_ENV: self.base_url, TOKEN_ENV: bench.token, BENCH_ENV: name}
        cmd = self.command(bench, devices=devices, seed=seed, operator=operator, role=role,
                           time_scale=time_scale, batch=batch)
        bench.process = await asyncio.create_subprocess_exec(
            *cmd, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT, env=env)
        asyncio.get_running_loop().create_task(self._follow(bench, bench.process))
        await self.changed()
        return bench

    async def _follow(self, bench: Bench, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            bench.output.append(raw.decode("utf-8", "replace").rstrip())
        code = await process.wait()
        bench.exit_code = code
        bench.state = FINISHED if code in (0, 1) else FAILED
        bench.ended_at = time.monotonic()
        bench.token = None
        bench.active.clear()
        bench.queue.clear()
        for prompt in self.prompts.values():
            if prompt.bench == bench.name and prompt.answer is None:
                prompt.expired = True
                prompt.done.set()
        await self.changed()

    async def stop_all(self) -> None:
        """Interrupt every running campaign (SIGINT: the CLI puts its bench in the safe
        state and records what it finished) and wait for them."""
        for bench in self.benches.values():
            if bench.process is not None and bench.process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    bench.process.send_signal(2)
                with contextlib.suppress(TimeoutError, ProcessLookupError):
                    await asyncio.wait_for(bench.process.wait(), 30)

    async def event(self, bench: Bench, event: dict[str, Any]) -> None:
        """A run's live feed: its start, a device's stage, a verdict, its end."""
        kind = event.get("kind")
        now = time.monotonic()
        if kind == "start":
            bench.state = RUNNING
            bench.campaign_id = event.get("campaign_id")
            bench.total = int(event.get("total") or 0)
            bench.done_before = int(event.get("done_before") or 0)
            queue = event.get("queue")
            bench.queue = [str(k) for k in queue] if isinstance(queue, list) else []
        elif kind == "stage":
            device = str(event.get("device"))
            if device in bench.queue:
                bench.queue.remove(device)
            bench.entered.setdefault(device, now)
            bench.active[device] = str(event.get("stage"))
        elif kind == "current":
            with contextlib.suppress(TypeError, ValueError):
                bench.amps[str(event.get("device"))] = float(event.get("amps"))  # type: ignore[arg-type]
        elif kind == "verdict":
            device = str(event.get("device"))
            bench.active.pop(device, None)
            bench.amps.pop(device, None)
            bench.entered.pop(device, None)
            verdict, category = str(event.get("verdict")), event.get("category")
            bench.counts[verdict] += 1
            where = disposition(verdict, category if isinstance(category, str) else None)
            if where.attention:
                bench.attention.append({"device": device, "verdict": verdict,
                                        "why": str(event.get("why") or ""), "bin": where.bin,
                                        "what_to_do": where.what_to_do})
        await self.changed()

    # -- prompts --------------------------------------------------------------------------

    async def ask(self, bench: Bench, body: dict[str, Any]) -> Prompt:
        """A run's prompt, now shown at every console screen."""
        prompt = Prompt(next(self._ids), bench.name, str(body.get("key") or ""),
                        str(body.get("slot") or ""), str(body.get("hint") or ""),
                        str(body.get("text") or ""), str(body.get("kind") or "confirm"),
                        body.get("emulated_label"), time.monotonic())
        self.prompts[prompt.id] = prompt
        # Keep the last few hundred: a long campaign must not grow without bound.
        for old in sorted(self.prompts)[:-300]:
            if self.prompts[old].answer is not None or self.prompts[old].expired:
                del self.prompts[old]
        await self.changed()
        return prompt

    async def answer(self, prompt_id: int, reply: str, by: str) -> Prompt:
        """The operator ``by`` answers (ValueError: no such prompt waiting)."""
        prompt = self.prompts.get(prompt_id)
        if prompt is None or prompt.answer is not None or prompt.expired:
            raise ValueError(f"prompt {prompt_id} is not waiting for an answer")
        prompt.answer, prompt.answered_by = reply, by
        prompt.done.set()
        await self.changed()
        return prompt

    async def wait_answer(self, bench: Bench, prompt_id: int, wait_s: float,
                          expire: bool = False) -> Prompt | None:
        """Wait up to ``wait_s`` for a prompt's answer; ``expire``: the run gave up on it."""
        prompt = self.prompts.get(prompt_id)
        if prompt is None or prompt.bench != bench.name:
            return None
        if expire:
            prompt.expired = True
            await self.changed()
            return prompt
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(prompt.done.wait(), max(0.0, min(wait_s, 60.0)))
        return prompt
