"""Drivers refuse what changes a device without the gate's live permit, before sending it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from _sample_meter import VALUES, sample_meter

from harness.config.models import InstrumentConfig
from harness.drivers.optical.serial_probe import SerialOpticalProbe
from harness.drivers.permit import OPTICAL, Permit, holding, on_refusal
from harness.emulator.optical.registers import DictRegisters
from harness.emulator.optical.server import OpticalPortServer
from harness.errors import AccessDeniedError
from harness.triage.gate import Gate


@pytest.fixture
def meter() -> Iterator[tuple[DictRegisters, SerialOpticalProbe]]:
    registers = sample_meter()
    server = OpticalPortServer(registers, transport="socket")
    server.start()
    config = InstrumentConfig(kind="optical_probe", backend="serial",
                              address=server.addresses["socket"], timeout_s=0.4)
    try:
        with SerialOpticalProbe("probe", config) as probe:
            yield registers, probe
    finally:
        server.stop()


def test_writes_and_executes_without_a_permit_send_nothing(
        meter: tuple[DictRegisters, SerialOpticalProbe]) -> None:
    registers, probe = meter
    refusals: list[tuple[str, str]] = []
    remove = on_refusal(lambda instrument, what: refusals.append((instrument, what)))
    try:
        with probe.programming(registers.password) as session:
            assert session.read("1.8.0") == VALUES["1.8.0"]  # reads need no permit
            with pytest.raises(AccessDeniedError, match=r"probe: E2 RST refused: no permit"):
                session.execute("RST", "consumer")
            with pytest.raises(AccessDeniedError, match=r"W1 1\.8\.0 refused"):
                session.write("1.8.0", "000000.0")
    finally:
        remove()
    assert registers.executed == [] and registers.values["1.8.0"] == VALUES["1.8.0"]
    assert refusals == [("probe", "E2 RST"), ("probe", "W1 1.8.0")]


def test_a_permit_covers_its_instruments_its_kinds_and_its_block_only(
        meter: tuple[DictRegisters, SerialOpticalProbe]) -> None:
    registers, probe = meter
    other = Permit(frozenset({OPTICAL}), clause="TRI-RST-02", instruments=frozenset({"probe2"}))
    dcc_only = Permit(frozenset({"service_request"}), instruments=None)
    mine = Permit(frozenset({OPTICAL}), clause="TRI-RST-02", instruments=frozenset({"probe"}))
    in_thread: list[BaseException] = []
    with probe.programming(registers.password) as session:
        for wrong in (other, dcc_only):
            with holding(wrong), pytest.raises(AccessDeniedError, match="does not cover it"):
                session.execute("RST", "consumer")
        with holding(mine):
            def elsewhere() -> None:
                try:
                    session.execute("RST", "thread")
                except AccessDeniedError as exc:
                    in_thread.append(exc)
            worker = threading.Thread(target=elsewhere)
            worker.start()
            worker.join()
            session.execute("RST", "consumer")
        assert not mine.live
        with pytest.raises(AccessDeniedError):
            session.execute("RST", "again")  # the block is over
    assert registers.executed == [("RST", "consumer")]
    assert len(in_thread) == 1  # a thread does not inherit the permit


def test_an_operator_with_no_role_gets_no_service_request_permit(gate: Gate) -> None:
    gate.role = None  # as on real instruments without a site file
    with pytest.raises(AccessDeniedError, match="granted no role"), \
            gate.service_requests(device_id="00DB120000000001", instruments=None, why="QA"):
        pass
    [entry] = list(gate._audit().entries())  # type: ignore[union-attr]
    assert (entry.outcome, entry.action, entry.role) == ("refused", "service requests", "none")
