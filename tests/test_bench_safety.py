"""Safe state under every signal, unit-level: real instruments on an emulated bench, judged by
the supply's and the relay's own logs of the commands they received.

Supplies and relays reach their safe state before any other instrument is closed; an
exception or a ``KeyboardInterrupt`` in one close never stops the others; a signal arriving
meanwhile waits (and a second one during an interrupted run's teardown is absorbed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench import safety
from harness.bench.lock import BenchLock
from harness.bench.session import BenchSession
from harness.drivers.power.base import PowerSupply
from harness.emulator.power.scpi import outputs_from_log, read_command_log
from harness.errors import UnsafeStateError

RELAY = """
[instruments.relay]
kind = "relay"
backend = "usb-hid"
emulated = true
options = { channels = 4 }
"""


@pytest.fixture(autouse=True)
def _signal_state() -> Iterator[None]:
    """Each test starts and ends with the process's signal handling as it found it."""
    state = safety._State
    saved = (state.open_benches, state.stopping, dict(state.bench_saved))
    handlers = {sig: signal.getsignal(sig) for sig in safety.SIGNALS}
    yield
    state.open_benches, state.stopping, state.bench_saved = saved
    for sig, handler in handlers.items():
        signal.signal(sig, handler)


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[tuple[BenchSession, Path]]:
    """The fast emulated bench plus a relay board, its supply and relay logging commands."""
    from harness.config.loader import default_bench_path

    path = tmp_path / "with-relay.toml"
    path.write_text((default_bench_path().parent / "emulated-fast.toml").read_text() + RELAY)
    log = tmp_path / "instruments.log"
    session = BenchSession.from_file(path)
    session.start_emulator(command_log=log)
    try:
        yield session, log
    finally:
        with contextlib.suppress(BaseException):  # a test may have left it half closed
            session.close()


def _power_everything(session: BenchSession) -> None:
    bench = session.open()
    for slot in bench.slots().values():
        slot.power.set_voltage(slot.config.supply_voltage)
        slot.power.on()
    bench.instrument("relay").set(2, True)  # type: ignore[attr-defined]
    assert all(outputs_from_log(read_command_log(_log_of(session)), "psu", 3).values())


def _log_of(session: BenchSession) -> Path:
    assert session.emulator is not None and session.emulator.command_log is not None
    return session.emulator.command_log.path


def _safe_by_log(log: Path, before: float | None = None) -> None:
    """The supply was told every output off and the relay every contact open (before ``before``)."""
    entries = [e for e in read_command_log(log) if before is None or e.t <= before]
    assert outputs_from_log(entries, "psu", 3) == {1: False, 2: False, 3: False}, entries[-8:]
    relay = [e.command for e in entries if e.instrument == "relay"]
    assert relay and relay[-1] == "OPEN ALL", relay


def _probe_close_raising(session: BenchSession, exc: BaseException) -> list[float]:
    """Make the ESME probe's link close raise ``exc`` (once); returns when it was called."""
    assert session.bench is not None
    probe = session.bench.instrument("probe_esme")
    called: list[float] = []
    real = probe._close_internal

    def failing() -> None:
        called.append(time.time())
        real()
        raise exc

    probe._close_internal = failing  # type: ignore[method-assign]
    return called


def test_a_keyboard_interrupt_in_a_probe_close_still_reaches_every_safe_state(
        lab: tuple[BenchSession, Path]) -> None:
    session, log = lab
    _power_everything(session)
    assert session.bench is not None
    instruments = list(session.bench.instruments.values())
    lock = session.bench.lock
    called = _probe_close_raising(session, KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        session.close()
    assert called, "the probe was never closed"
    _safe_by_log(log, before=called[0])  # power and relay safe before the probe was touched
    assert not any(inst.is_open for inst in instruments)
    assert not lock.held and BenchLock(lock.bench_name).acquire().held  # the lock is free


def test_an_exception_in_a_probe_close_is_reported_after_everything_is_safe(
        lab: tuple[BenchSession, Path]) -> None:
    session, log = lab
    _power_everything(session)
    assert session.bench is not None
    instruments = list(session.bench.instruments.values())
    called = _probe_close_raising(session, RuntimeError("RFC 2217 close failed"))
    with pytest.raises(UnsafeStateError, match="probe_esme: RFC 2217 close failed"):
        session.close()
    _safe_by_log(log, before=called[0])
    assert not any(inst.is_open for inst in instruments)


def _signal_during_safe_state(session: BenchSession, signum: int) -> None:
    """The supply, asked to switch channel 1 off, gets ``signum`` sent to this process."""
    assert session.bench is not None
    assert signal.getsignal(signum) is not signal.SIG_DFL, "it would kill the test run"
    supply = session.bench.instrument("psu", PowerSupply)
    real = supply._set_output

    def set_output(channel: int, on: bool) -> None:
        real(channel, on)
        if channel == 1 and not on:
            os.kill(os.getpid(), signum)
            time.sleep(0.05)  # the handler runs now, in the middle of the safe state

    supply._set_output = set_output  # type: ignore[method-assign]


def test_a_signal_during_the_safe_state_waits_for_it_then_interrupts(
        lab: tuple[BenchSession, Path]) -> None:
    session, log = lab
    _power_everything(session)
    _signal_during_safe_state(session, signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        session.close()
    _safe_by_log(log)  # channels 2 and 3 and the relay too, although SIGTERM came at 1


def test_a_second_ctrl_c_during_an_interrupted_teardown_is_absorbed(
        lab: tuple[BenchSession, Path]) -> None:
    session, log = lab
    before = signal.getsignal(signal.SIGINT)  # another bench of this run may be open too
    _power_everything(session)
    with pytest.raises(KeyboardInterrupt):  # the first Ctrl-C: the run unwinds
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)
    _signal_during_safe_state(session, signal.SIGINT)  # the second, while closing
    session.close()  # absorbed: it cannot cut the safe state short, nor raise after it
    _safe_by_log(log)
    assert signal.getsignal(signal.SIGINT) is before  # handed back


def test_sigterm_and_sighup_interrupt_only_while_a_bench_is_open(
        lab: tuple[BenchSession, Path]) -> None:
    session, _ = lab
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP)}
    session.open()
    for sig in (signal.SIGTERM, signal.SIGHUP):
        assert signal.getsignal(sig) not in (signal.SIG_DFL, signal.SIG_IGN)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), sig)
            time.sleep(1)
        safety._State.stopping = False  # each one as the first of a run
    session.close()
    assert {sig: signal.getsignal(sig) for sig in before} == before


def test_shield_defers_a_signal_and_redelivers_it_once_after() -> None:
    delivered: list[int] = []
    previous = signal.signal(signal.SIGUSR1, signal.SIG_DFL)  # unrelated: untouched
    signal.signal(signal.SIGINT, lambda signum, frame: delivered.append(signum))
    try:
        with safety.shield():
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            assert delivered == []
        assert delivered == [signal.SIGINT]
    finally:
        signal.signal(signal.SIGUSR1, previous)
