"""``meterbench bench check``: open every instrument of a bench, one by one, and say who it is."""

from __future__ import annotations

from dataclasses import dataclass

from harness.bench.lock import BenchLock
from harness.bench.session import BenchSession
from harness.errors import MeterbenchError
from harness.registry import load_backend


@dataclass(frozen=True)
class CheckResult:
    """One instrument's outcome: its identity, or the error that stopped it."""

    name: str
    kind: str
    backend: str
    address: str
    identity: str | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the instrument opened and identified itself."""
        return self.error is None


def check_bench(session: BenchSession, skip: set[str] | frozenset[str] = frozenset()
                ) -> list[CheckResult]:
    """Check every instrument independently, so one dead instrument does not hide the others;
    those named in ``skip`` (e.g. a malformed address, already reported) are not opened."""
    lock = None if session.private else BenchLock(session.config.bench.name)
    if lock is not None:
        lock.acquire("bench check")
    try:
        return _check_each(session, skip)
    finally:
        if lock is not None:
            lock.release()


def _check_each(session: BenchSession, skip: set[str] | frozenset[str]) -> list[CheckResult]:
    emulator = session.start_emulator()
    addresses = emulator.addresses if emulator else {}
    results = []
    for name, cfg in session.config.instruments.items():
        address = addresses.get(name) or cfg.address or ""
        if name in skip:
            results.append(CheckResult(name, cfg.kind, cfg.backend, address,
                                       error="not opened: the address is malformed (below)"))
            continue
        try:
            instrument = load_backend(cfg.kind, cfg.backend)(name, cfg, address)
            with instrument:
                identity = instrument.identify()
            results.append(CheckResult(name, cfg.kind, cfg.backend, address, identity=identity))
        except MeterbenchError as exc:
            results.append(CheckResult(name, cfg.kind, cfg.backend, address, error=str(exc)))
    return results
