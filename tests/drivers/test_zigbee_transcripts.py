"""The Telegesis driver against recorded transcripts in the R309 manual's forms.

A scripted module on loopback answers each command with the recorded bytes (echo on, CR LF
line ends), so the driver's reader thread, command/prompt split and parsers meet exactly
what a module sends, including prompts in the middle of a command and tables after its OK.
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from harness.config.models import InstrumentConfig
from harness.drivers.zigbee import (
    DongleEvent,
    Neighbour,
    NetworkInfo,
    NetworkUp,
    NodeJoined,
    OtherEvent,
    PanInfo,
)
from harness.drivers.zigbee.telegesis import TelegesisCommandError, TelegesisDongle
from harness.errors import InstrumentTimeoutError, OperationError
from harness.protocols import telegesis as tg

EUI = "000D6F0000B0C6F1"
Step = tuple[float, bytes]  # (delay before sending, bytes)
Answer = list[Step] | tuple[list[Step], ...] | None


def wire(*lines: str) -> bytes:
    return b"".join(line.encode("ascii") + b"\r\n" for line in lines)


def wire_steps(*lines: str) -> list[Step]:
    return [(0, wire(*lines))]


class ScriptedModule:
    """Answers each command line with its recorded steps; ``None`` never answers, and a
    tuple of step lists answers in turn (the last one repeats)."""

    def __init__(self, script: dict[str, Answer]) -> None:
        self.script = script
        self.received: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def resource(self) -> str:
        return f"socket://127.0.0.1:{self._listener.getsockname()[1]}"

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        try:
            client, _ = self._listener.accept()
        except OSError:
            return
        buffer = b""
        with client:
            while not self._stop.is_set():
                if not select.select([client], [], [], 0.05)[0]:
                    continue
                data = client.recv(1024)
                if not data:
                    return
                buffer += data
                while b"\r" in buffer:
                    line, _, buffer = buffer.partition(b"\r")
                    command = line.decode()
                    self.received.append(command)
                    for delay, chunk in self._answer(command):
                        time.sleep(delay)
                        client.sendall(chunk)

    def _answer(self, command: str) -> list[Step]:
        answer = self.script.get(command)
        if isinstance(answer, tuple):
            if len(answer) > 1:
                self.script[command] = answer[1:]
            return answer[0]
        return answer or []


@pytest.fixture
def module(request: pytest.FixtureRequest) -> Iterator[ScriptedModule]:
    scripted = ScriptedModule(request.param)
    yield scripted
    scripted.stop()


def dongle(module: ScriptedModule) -> TelegesisDongle:
    config = InstrumentConfig(kind="zigbee", backend="telegesis", address=module.resource,
                              timeout_s=0.5, safe_state={"leave": False})
    return TelegesisDongle("dongle", config)


NOPAN = {"AT+N?": [(0, wire("AT+N?", "+N=NoPAN", "OK"))]}
ATI = {"ATI": [(0, wire("ATI", "Telegesis ETRX357", "R309C", EUI, "", "OK"))]}
ESCAN = {"AT+ESCAN": [(0, wire("AT+ESCAN", "+ESCAN:", "11:BE", "12:A0", "17:D9", "19:EC")),
                      (0.05, wire("26:A6", "OK"))]}
PANSCAN = {"AT+PANSCAN": [(0, wire("AT+PANSCAN", "+PANSCAN:11,2001,000000003ADE68B1,02,00",
                                   "+PANSCAN:19,9D12,BD42FE090EEE14CA,02,01,-78,AA", "OK"))]}
# Forming: JPAN: may come after OK; the row chunks of a 5-entry table come 3 then 2.
FORM: dict[str, Answer] = {
    **{f"ATS0{r}={v}": [(0, wire(f"ATS0{r}={v}", "OK"))]
       for r, v in (("0", "0200"), ("2", "7A31"), ("3", "00000000000A1B2C"))},
    "AT+EN": [(0, wire("AT+EN", "OK")), (0.05, wire("JPAN:20,7A31,00000000000A1B2C"))],
    "AT+N?": (wire_steps("AT+N?", "+N=NoPAN", "OK"),
              wire_steps("AT+N?", "+N=COO,20,08,7A31,00000000000A1B2C", "OK")),
}
ROWS = ["0. | FFD | 000D6F00000AAF61 | 2F5D | C4", "1. | SED | 000D6F00000B3E77 | 1B08 | 7E",
        "2. | RFD | 000D6F00000B3E78 | 1B09 | 40", "3. | SED | 000D6F00000B3E79 | 1B0A | 31",
        "4. | SED | 000D6F00000B3E7A | 1B0B | 22"]
NTABLE = {
    "AT+NTABLE:00,0000": [(0, wire("AT+NTABLE:00,0000", "SEQ:01", "OK")),
                          (0.05, wire("NTable:0000,00", "Length:05", "No.| Dev | EUI | ID | LQI",
                                      *ROWS[:3], "ACK:01"))],
    "AT+NTABLE:03,0000": [(0, wire("AT+NTABLE:03,0000", "SEQ:02", "OK")),
                          (0.05, wire("NTable:0000,00", "Length:05", "No.| Dev | EUI | ID | LQI",
                                      *ROWS[3:], "ACK:02"))],
}
# A NEWNODE: prompt in the middle of a slow command, 0.3 s before its OK.
PJOIN = {"AT+PJOIN:3C": [(0, wire("AT+PJOIN:3C", "NEWNODE:1B08,000D6F00000B3E77,0000")),
                         (0.3, wire("SED:000D6F00000B3E77,1B08", "OK"))]}


@pytest.mark.parametrize("module", [{**NOPAN, **ATI, **ESCAN, **PANSCAN}], indirect=True)
def test_ati_escan_panscan(module: ScriptedModule) -> None:
    with dongle(module) as d:
        assert d.identify() == f"Telegesis ETRX357 R309C {EUI}"
        assert d.energy_scan() == {11: -66, 12: -96, 17: -39, 19: -20, 26: -90}
        assert d.pan_scan() == [PanInfo(11, 0x2001, "000000003ADE68B1", False),
                                PanInfo(19, 0x9D12, "BD42FE090EEE14CA", True, -78, 0xAA)]
    assert module.received[:3] == ["ATI", "AT+ESCAN", "AT+PANSCAN"]


@pytest.mark.parametrize("module", [FORM], indirect=True)
def test_form_network_with_jpan_after_ok(module: ScriptedModule) -> None:
    with dongle(module) as d:
        info = d.form_network(20, 0x7A31, "00000000000A1B2C")
        assert info == NetworkInfo(20, 0x7A31, "00000000000A1B2C", "COO", 8)
        assert any(isinstance(e, NetworkUp) and e.pan_id == 0x7A31 for e in d.events())
        module.script["AT+PJOIN:00"] = [(0, wire("AT+PJOIN:00", "OK"))]
    assert module.received == ["AT+N?", "ATS00=0200", "ATS02=7A31", "ATS03=00000000000A1B2C",
                               "AT+EN", "AT+N?", "AT+N?", "AT+PJOIN:00"]


@pytest.mark.parametrize("module", [{**NOPAN, **NTABLE}], indirect=True)
def test_neighbour_table_in_chunks(module: ScriptedModule) -> None:
    with dongle(module) as d:
        table = d.neighbours()
    assert table[0] == Neighbour("000D6F00000AAF61", 0x2F5D, 0xC4, "FFD")
    assert [n.lqi for n in table] == [0xC4, 0x7E, 0x40, 0x31, 0x22]
    assert module.received == ["AT+NTABLE:00,0000", "AT+NTABLE:03,0000", "AT+N?"]


@pytest.mark.parametrize("module", [{**NOPAN, **PJOIN}], indirect=True)
def test_prompt_reaches_a_listener_while_the_command_runs(module: ScriptedModule) -> None:
    heard: list[tuple[float, DongleEvent]] = []
    with dongle(module) as d:
        d.add_listener(lambda e: heard.append((time.monotonic(), e)))
        started = time.monotonic()
        d.permit_join(60)
        returned = time.monotonic()
    (at, event), (_, announce) = heard[:2]
    assert event == NodeJoined(node_id=0x1B08, eui64="000D6F00000B3E77", parent=0)
    assert isinstance(announce, OtherEvent) and isinstance(announce.raw, tg.DeviceAnnounce)
    assert started < at < returned - 0.2  # delivered before the command's OK arrived


@pytest.mark.parametrize("module", [{**NOPAN, "AT+PJOIN:05": None,
                                     "AT+PJOIN:06": [(0, wire("AT+PJOIN:06", "ERROR:28"))]}],
                         indirect=True)
def test_silence_times_out_and_errors_are_named(module: ScriptedModule) -> None:
    with dongle(module) as d:
        start = time.monotonic()
        with pytest.raises(InstrumentTimeoutError, match=r"no OK or ERROR to AT\+PJOIN:05"):
            d.permit_join(5)
        assert 0.45 < time.monotonic() - start < 1.5
        with pytest.raises(TelegesisCommandError) as info:
            d.permit_join(6)
        assert info.value.context["code"] == 0x28
        assert isinstance(info.value, OperationError)
        assert "Operation cannot be completed if node is part of a PAN" in str(info.value)


@pytest.mark.parametrize("module", [{**NOPAN, "ATI": [(0, wire("ATI", "NEWNODE:12", "Telegesis"
                                                               " ETRX357", "R309C", EUI,
                                                               "OK"))]}], indirect=True)
def test_a_malformed_line_is_logged_not_fatal(module: ScriptedModule,
                                              caplog: pytest.LogCaptureFixture) -> None:
    with dongle(module) as d:
        assert d.identity().firmware == "R309C"
    assert "malformed line 'NEWNODE:12'" in caplog.text
