"""A DLMS/COSEM client (IEC 62056-46 HDLC, -5-3 application layer) over an optical probe.

:meth:`OpticalProbe.dlms` opens a :class:`DlmsSession`: the mode E switch-over from a mode C
sign-on (or HDLC straight away), SNRM/UA, the association (public client without a password,
LLS with one), then GET (with block transfer and selective access), SET, ACTION, and on the
way out RLRQ and DISC back to 300 Bd 7E1. The codecs are :mod:`harness.protocols.dlms`; the
probe backend only moves bytes and changes line settings.

Retries: a lost or garbled answer is recovered at the link layer (an RR poll; the meter repeats
its frame, or we repeat ours when its N(R) shows it never arrived), which the HDLC numbering
makes safe for SET and ACTION too: a repeated I frame is never executed twice. The transcript
shows every frame's bytes and a ``#`` line with the decoded APDU; an LLS password is masked
(the recorded frame carries stars of the same length, with a valid FCS over them).
"""

from __future__ import annotations

import dataclasses
import time
from typing import TYPE_CHECKING, Protocol

from harness.drivers.permit import OPTICAL, require_permit
from harness.errors import InstrumentTimeoutError, OperationError, ProtocolError
from harness.protocols.dlms import (
    AARE,
    AARQ,
    RLRQ,
    ActionRequest,
    ActionResponse,
    AssociationResult,
    AttributeDescriptor,
    BlockJoiner,
    Conformance,
    Control,
    CosemDateTime,
    Data,
    DataType,
    ExceptionResponse,
    FrameKind,
    GetRequest,
    GetRequestNext,
    GetResponse,
    GetResponseBlock,
    HdlcAddress,
    HdlcFrame,
    HdlcParameters,
    HdlcReader,
    InitiateRequest,
    InitiateResponse,
    Mechanism,
    MethodDescriptor,
    Obis,
    Reassembler,
    SelectiveAccess,
    SequenceNumbers,
    SetRequest,
    SetResponse,
    apdu_frames,
    decode_acse,
    decode_data,
    decode_xdlms,
    strip_llc,
)
from harness.protocols.iec62056_21 import (
    INITIAL_BAUD,
    MODE_BINARY,
    PROTOCOL_HDLC,
    Identification,
    OptionSelect,
    char_for_baud,
    encode_option_select,
)

if TYPE_CHECKING:
    import datetime
    import logging

    from harness.config.models import InstrumentConfig
    from harness.drivers.base import Transcript

CLIENT_CONFORMANCE = (Conformance.GET | Conformance.SET | Conformance.ACTION
                      | Conformance.SELECTIVE_ACCESS | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
                      | Conformance.MULTIPLE_REFERENCES)
HDLC_FRAMING = "8N1"
DEFAULT_HDLC_BAUD = 9600
CLOCK = Obis.parse("0.0.1.0.0.255")


class DlmsAccessError(OperationError):
    """The meter answered a GET/SET/ACTION with a refusal; ``result`` is its code."""


def range_access(start: datetime.datetime, end: datetime.datetime) -> SelectiveAccess:
    """Selective access by range on the clock column (selector 1) of a profile buffer."""
    def stamp(when: datetime.datetime) -> Data:
        return Data(DataType.OCTET_STRING, CosemDateTime.from_datetime(when).to_bytes())

    column = Data.structure(Data(DataType.LONG_UNSIGNED, 8),
                            Data(DataType.OCTET_STRING, bytes(CLOCK)),
                            Data(DataType.INTEGER, 2), Data(DataType.LONG_UNSIGNED, 0))
    return SelectiveAccess(1, Data.structure(column, stamp(start), stamp(end), Data.array()))


class ProbeLink(Protocol):
    """What a session needs of its optical probe (:class:`~.base.OpticalProbe` is one)."""

    name: str
    config: InstrumentConfig
    transcript: Transcript
    log: logging.Logger
    link_errors: int

    def sign_on(self, address: str = "") -> Identification:
        """Mode C sign-on at 300 Bd."""
        ...

    def timeout_s(self) -> float:
        """How long the meter may stay silent, in wall seconds."""
        ...

    def _require_open(self) -> None: ...
    def _send(self, data: bytes, *, shown: bytes | None = None) -> None: ...
    def _read(self, timeout: float) -> bytes: ...
    def _took(self, chars: int) -> None: ...
    def _line(self, baud: int, framing: str = "7E1") -> None: ...


class DlmsSession:
    """One HDLC connection and association with a meter, through ``probe``."""

    def __init__(self, probe: ProbeLink, *, client: int = 0x10, server: int = 1) -> None:
        self.probe = probe
        self.client = HdlcAddress(client)
        self.server = HdlcAddress(server)
        self.sequence = SequenceNumbers()
        self.reader = HdlcReader()
        self._pending: list[HdlcFrame] = []
        self.params = HdlcParameters()  # ours after negotiation: tx is what the meter takes
        self.initiate: InitiateResponse | None = None
        self.connected = False
        self.associated = False

    # -- options --------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The probe's name, for errors."""
        return self.probe.name

    def _option(self, key: str, default: object) -> object:
        return self.probe.config.options.get(key, default)

    @property
    def retries(self) -> int:
        """How many times a lost answer is polled for before giving up."""
        return int(str(self._option("retries", 3)))

    # -- the session ----------------------------------------------------------------------------

    def open(self, *, password: str | None = None, mode_e: bool = True, baud: int | None = None,
             address: str = "") -> None:
        """Reach HDLC, connect the link and associate."""
        probe = self.probe
        probe._require_open()
        if mode_e:
            ident = probe.sign_on(address)
            target = min(ident.baud, baud or int(str(self._option("max_baud", 19200))))
            probe._send(encode_option_select(OptionSelect(PROTOCOL_HDLC, char_for_baud(target),
                                                          MODE_BINARY)))
            self._mode_e_acknowledgement()
        else:
            target = baud or int(str(self._option("hdlc_baud", DEFAULT_HDLC_BAUD)))
        probe._line(target, HDLC_FRAMING)
        self._connect()
        self._associate(password)

    def _mode_e_acknowledgement(self) -> None:
        """The meter repeats ``ACK 2 Z 2 CR LF`` at 300 Bd before switching to HDLC."""
        probe, line = self.probe, bytearray()
        deadline = time.monotonic() + probe.timeout_s()
        while not line.endswith(b"\r\n"):
            if time.monotonic() > deadline or len(line) > 16:
                raise InstrumentTimeoutError(
                    f"{self.name}: no mode E acknowledgement (received {bytes(line)!r})",
                    instrument=self.name)
            chunk = probe._read(0.05)
            if chunk:
                probe.transcript.record("<", chunk)
                line += chunk
        if line[:2] != b"\x062" or len(line) != 6:
            raise ProtocolError(f"{self.name}: meter refused mode E: {bytes(line)!r}",
                                instrument=self.name)

    def close(self) -> None:
        """Release the association and disconnect (best effort), back at 300 Bd 7E1."""
        try:
            if self.associated:
                self.associated = False
                self._note("> RLRQ")
                answer = self._call(RLRQ(0).encode())
                self._note(f"< {decode_acse(answer)}")
            if self.connected:
                self.connected = False
                self._exchange(HdlcFrame(self.server, self.client, Control(FrameKind.DISC)))
        except (OperationError, ProtocolError) as exc:
            self.probe.log.info("DLMS release not confirmed: %s", exc)
        finally:
            self.probe._line(INITIAL_BAUD)

    def _connect(self) -> None:
        self.reader.reset()
        snrm = HdlcFrame(self.server, self.client, Control(FrameKind.SNRM),
                         HdlcParameters().encode())
        answer = self._exchange(snrm)
        if answer.kind is not FrameKind.UA:
            raise OperationError(f"{self.name}: meter answered SNRM with {answer.kind.value}",
                                 instrument=self.name)
        self.params = HdlcParameters.decode(answer.information).peer_view()
        self.sequence.reset()
        self.connected = True

    def _associate(self, password: str | None) -> None:
        aarq = AARQ(InitiateRequest(CLIENT_CONFORMANCE, 0xFFFF),
                    mechanism=None if password is None else Mechanism.LOW,
                    authentication_value=None if password is None else password.encode())
        shown = aarq if password is None else dataclasses.replace(
            aarq, authentication_value=b"*" * len(password.encode()))
        self._note(f"> {shown}")
        answer = decode_acse(self._call(aarq.encode(), shown=shown.encode()))
        self._note(f"< {answer}")
        if not isinstance(answer, AARE):
            raise ProtocolError(f"{self.name}: expected an AARE, got {type(answer).__name__}",
                                instrument=self.name)
        if answer.result != AssociationResult.ACCEPTED:
            reason = "password refused" if answer.diagnostic == 13 else (
                f"diagnostic {answer.diagnostic}")
            raise OperationError(f"{self.name}: association refused ({reason})",
                                 instrument=self.name, diagnostic=answer.diagnostic)
        if isinstance(answer.user_information, InitiateResponse):
            self.initiate = answer.user_information
        self.associated = True

    # -- services ---------------------------------------------------------------------------------

    def get(self, class_id: int, obis: Obis | str, attribute: int,
            access: SelectiveAccess | None = None) -> Data:
        """Read one attribute (joining data blocks); a refusal is a DlmsAccessError."""
        descriptor = AttributeDescriptor(class_id, _obis(obis), attribute)
        answer = self._service(GetRequest(descriptor, access).encode())
        where = f"{class_id}/{descriptor.instance}/{attribute}"
        if isinstance(answer, GetResponseBlock):
            return decode_data(self._join(answer, where))
        if not isinstance(answer, GetResponse):
            raise self._unexpected(answer, where)
        if isinstance(answer.result, int):
            raise DlmsAccessError(f"{self.name}: read {where} refused: result {answer.result}",
                                  instrument=self.name, result=answer.result)
        return answer.result

    def buffer(self, obis: Obis | str, start: datetime.datetime,
               end: datetime.datetime) -> list[Data]:
        """A profile generic's rows captured between ``start`` and ``end`` (by range)."""
        rows = self.get(7, obis, 2, range_access(start, end))
        return list(rows.value) if rows.type is DataType.ARRAY else [rows]

    def set(self, class_id: int, obis: Obis | str, attribute: int, value: Data) -> None:
        """Write one attribute; it changes the device, so only under a live permit."""
        descriptor = AttributeDescriptor(class_id, _obis(obis), attribute)
        where = f"{class_id}/{descriptor.instance}/{attribute}"
        require_permit(OPTICAL, f"DLMS SET {where}", instrument=self.name)
        answer = self._service(SetRequest(descriptor, value).encode())
        if not isinstance(answer, SetResponse):
            raise self._unexpected(answer, where)
        if answer.result:
            raise DlmsAccessError(f"{self.name}: write {where} refused: result {answer.result}",
                                  instrument=self.name, result=answer.result)

    def action(self, class_id: int, obis: Obis | str, method: int,
               parameters: Data | None = None) -> Data | None:
        """Invoke a method (a reset); only under a live permit. Returns its data, if any."""
        descriptor = MethodDescriptor(class_id, _obis(obis), method)
        where = f"{class_id}/{descriptor.instance}/method {method}"
        require_permit(OPTICAL, f"DLMS ACTION {where}", instrument=self.name)
        answer = self._service(ActionRequest(descriptor, parameters).encode())
        if not isinstance(answer, ActionResponse):
            raise self._unexpected(answer, where)
        if answer.result:
            raise DlmsAccessError(f"{self.name}: action {where} refused: result "
                                  f"{answer.result}", instrument=self.name, result=answer.result)
        return answer.data if isinstance(answer.data, Data) else None

    def _join(self, first: GetResponseBlock, where: str) -> bytes:
        joiner = BlockJoiner()
        block = first
        while True:
            joined = joiner.add(block)
            if isinstance(joined, int):
                raise DlmsAccessError(f"{self.name}: read {where} stopped at block "
                                      f"{block.block_number}: result {joined}",
                                      instrument=self.name, result=joined)
            if joined is not None:
                return joined
            answer = self._service(GetRequestNext(block.block_number).encode())
            if not isinstance(answer, GetResponseBlock):
                if isinstance(answer, GetResponse) and isinstance(answer.result, int):
                    raise DlmsAccessError(f"{self.name}: read {where} aborted: result "
                                          f"{answer.result}", instrument=self.name,
                                          result=answer.result)
                raise self._unexpected(answer, where)
            block = answer

    def _unexpected(self, answer: object, where: str) -> OperationError | ProtocolError:
        if isinstance(answer, ExceptionResponse):
            return DlmsAccessError(f"{self.name}: {where}: meter answered {answer}",
                                   instrument=self.name, result=answer.service_error)
        return ProtocolError(f"{self.name}: {where}: unexpected answer {answer}",
                             instrument=self.name)

    def _service(self, apdu: bytes) -> object:
        if not self.associated:
            raise OperationError(f"{self.name}: no DLMS association", instrument=self.name)
        self._note(f"> {decode_xdlms(apdu)}")
        answer = decode_xdlms(self._call(apdu))
        self._note(f"< {answer}")
        return answer

    # -- the link ---------------------------------------------------------------------------------

    def _call(self, apdu: bytes, *, shown: bytes | None = None) -> bytes:
        """Send an APDU (segmented as negotiated) and return the whole answer APDU."""
        frames = apdu_frames(apdu, destination=self.server, source=self.client,
                             sequence=self.sequence, max_information_length=self.params.max_info_tx,
                             response=False)
        masked = None
        if shown is not None:  # the same frames with the secret starred, for the transcript
            copy = SequenceNumbers()
            copy.vs, copy.vr = frames[0].control.ns, frames[0].control.nr
            masked = apdu_frames(shown, destination=self.server, source=self.client,
                                 sequence=copy, max_information_length=self.params.max_info_tx,
                                 response=False)
        reply: HdlcFrame | None = None
        for n, frame in enumerate(frames):
            reply = self._exchange(frame, shown=None if masked is None else masked[n])
            while reply.kind is FrameKind.I and not self.sequence.receive(reply):
                reply = self._exchange(HdlcFrame(self.server, self.client, self.sequence.rr()))
        assert reply is not None  # apdu_frames gives at least one frame
        joiner = Reassembler()
        while True:
            if reply.kind is not FrameKind.I:
                raise ProtocolError(f"{self.name}: expected an I frame, got {reply.kind.value}",
                                    instrument=self.name)
            whole = joiner.add(reply)
            if whole is not None:
                return strip_llc(whole, response=True)
            reply = self._next_segment()

    def _next_segment(self) -> HdlcFrame:
        while True:
            reply = self._exchange(HdlcFrame(self.server, self.client, self.sequence.rr()))
            if reply.kind is not FrameKind.I or self.sequence.receive(reply):
                return reply

    def _exchange(self, frame: HdlcFrame, *, shown: HdlcFrame | None = None) -> HdlcFrame:
        """Send a frame and take the meter's answer. A lost or broken answer is polled for
        with RR; if the meter's N(R) shows our I frame never arrived, it is sent again."""
        self._send(frame, shown)
        for attempt in range(self.retries + 1):
            try:
                reply = self._receive()
            except (InstrumentTimeoutError, ProtocolError) as exc:
                if attempt == self.retries:
                    raise
                self.probe.link_errors += 1
                self.probe.log.info("asking the meter again after %s", exc)
                self.reader.reset()
                self._pending.clear()
                if frame.kind is FrameKind.I:  # poll: the meter repeats its answer, or its
                    self._send(HdlcFrame(self.server, self.client, self.sequence.rr()), None)
                else:  # N(R) shows our frame was lost; unnumbered frames are simply resent
                    self._send(frame, shown)
                continue
            if (frame.kind is FrameKind.I and reply.kind is FrameKind.RR
                    and reply.control.nr == frame.control.ns):
                self.probe.link_errors += 1
                self._send(frame, shown)  # the meter never had it: send it again
                continue
            return reply
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _send(self, frame: HdlcFrame, shown: HdlcFrame | None) -> None:
        data = frame.encode()
        self.probe._send(data, shown=None if shown is None else shown.encode())

    def _receive(self) -> HdlcFrame:
        """The next frame addressed to us, within the probe's timeout."""
        if self._pending:
            return self._pending.pop(0)
        probe = self.probe
        idle = probe.timeout_s()
        last = time.monotonic()
        while True:
            if time.monotonic() - last > idle:
                raise InstrumentTimeoutError(
                    f"{self.name}: no HDLC frame within {idle} s (received "
                    f"{self.reader.pending.hex(' ') or 'nothing'})", instrument=self.name)
            chunk = probe._read(min(0.05, idle))
            if chunk:
                probe.transcript.record("<", chunk)
                last = time.monotonic()
            self._pending += [frame for frame in self.reader.feed(chunk)
                              if frame.destination.upper == self.client.upper]
            if self._pending:
                frame = self._pending.pop(0)
                probe._took(len(frame.encode()))
                return frame

    def _note(self, text: str) -> None:
        self.probe.transcript.note(text)


def _obis(value: Obis | str) -> Obis:
    return value if isinstance(value, Obis) else Obis.parse(value)
