"""A DLMS/COSEM client (IEC 62056-46 HDLC, -5-3 application layer) over an optical probe.

:meth:`OpticalProbe.dlms` opens a :class:`DlmsSession`: the mode E switch-over from a mode C
sign-on (or HDLC straight away), SNRM/UA, the association (public client without a password,
LLS with one, or HLS-GMAC with the meter's keys: the 4-pass exchange, our CtoS in the AARQ,
the meter's StoC in the AARE, f(StoC) sent through reply_to_HLS_authentication and the
meter's f(CtoS) checked before anything else is asked), then GET (with block transfer and
selective access), SET, ACTION, and on the way out RLRQ and DISC back to 300 Bd 7E1. The
codecs are :mod:`harness.protocols.dlms`; the probe backend only moves bytes and changes line
settings.

Retries: a lost or garbled answer is recovered at the link layer (an RR poll; the meter repeats
its frame, or we repeat ours when its N(R) shows it never arrived), which the HDLC numbering
makes safe for SET and ACTION too: a repeated I frame is never executed twice. The transcript
shows every frame's bytes and a ``#`` line with the decoded APDU; an LLS password is masked
(the recorded frame carries stars of the same length, with a valid FCS over them). HLS keys
never go on the wire, nor into the transcript or an error.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from typing import TYPE_CHECKING, Protocol

from harness.drivers.optical.dlms_security import ClientCipher, HlsKeys
from harness.drivers.permit import OPTICAL, require_permit
from harness.errors import (
    BenchConfigError,
    InstrumentTimeoutError,
    OperationError,
    ProtocolError,
)
from harness.protocols.dlms import (
    AARE,
    AARQ,
    RLRQ,
    ActionRequest,
    ActionResponse,
    ApplicationContext,
    AssociationResult,
    AttributeDescriptor,
    BlockJoiner,
    CipheredApdu,
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
    check_hls_gmac_proof,
    decode_acse,
    decode_data,
    decode_xdlms,
    hls_gmac_proof,
    strip_llc,
)
from harness.protocols.dlms.errors import DlmsSecurityError
from harness.protocols.dlms.security_setup import ASSOCIATION_LN, ASSOCIATION_LN_CLASS, REPLY_TO_HLS
from harness.protocols.dlms.xdlms import EXCEPTION_RESPONSE
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
    from harness.drivers.silence import MessageWait, Silence

CLIENT_CONFORMANCE = (Conformance.GET | Conformance.SET | Conformance.ACTION
                      | Conformance.SELECTIVE_ACCESS | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
                      | Conformance.MULTIPLE_REFERENCES)
HDLC_FRAMING = "8N1"
DEFAULT_HDLC_BAUD = 9600
CLOCK = Obis.parse("0.0.1.0.0.255")
CLIENT_SYSTEM_TITLE = bytes.fromhex("4D54420000000001")
"""Our system title (calling-AP-title): "MTB" and a serial; option ``system_title`` (hex)."""
AUTHENTICATION_REQUIRED = 14
"""AARE diagnostic of an HLS association the client must now authenticate."""


class DlmsAccessError(OperationError):
    """The meter answered a GET/SET/ACTION with a refusal; ``result`` is its code."""


class DlmsAuthenticationError(OperationError):
    """HLS failed: the meter refused our answer to its challenge, or its answer to ours is
    wrong (not the keys we hold)."""


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

    def silence(self) -> Silence:
        """A wait for the meter's bytes (its scaled timeout, the host's floor when busy)."""
        ...

    def message_wait(self) -> MessageWait:
        """A wait for one whole message: bounded however its bytes trickle in, then silent."""
        ...

    def _require_open(self) -> None: ...
    def _send(self, data: bytes, *, shown: bytes | None = None) -> None: ...
    def _read(self, timeout: float) -> bytes: ...
    def _took(self, chars: int, at: float | None = None) -> None: ...
    def _line(self, baud: int, framing: str = "7E1") -> None: ...
    def _late_identification(self, message: bytes) -> bool: ...


class DlmsSession:
    """One HDLC connection and association with a meter, through ``probe``."""

    def __init__(self, probe: ProbeLink, *, client: int = 0x10, server: int = 1) -> None:
        self.probe = probe
        self.client = HdlcAddress(client)
        self.server = HdlcAddress(server)
        self.sequence = SequenceNumbers()
        self.reader = HdlcReader()
        self._pending: list[HdlcFrame] = []
        self._chunk_at: float | None = None  # when the last chunk of the meter's came in
        self.params = HdlcParameters()  # ours after negotiation: tx is what the meter takes
        self.initiate: InitiateResponse | None = None
        self.connected = False
        self.associated = False
        self.server_title: bytes | None = None  # the meter's system title (HLS)
        self.cipher: ClientCipher | None = None  # the ciphered context's, once associated
        self._invocation_counter = 0

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

    @property
    def system_title(self) -> bytes:
        """Our system title (option ``system_title``, 16 hex digits)."""
        text = self._option("system_title", None)
        if text is None:
            return CLIENT_SYSTEM_TITLE
        try:
            title = bytes.fromhex(str(text))
        except ValueError:
            title = b""
        if len(title) != 8:
            raise BenchConfigError(f"{self.name}: option system_title {text!r}",
                                   expected="16 hex digits (8 bytes)")
        return title

    def open(self, *, password: str | None = None, mode_e: bool = True, baud: int | None = None,
             address: str = "", hls: HlsKeys | None = None, ciphered: bool = False) -> None:
        """Reach HDLC, connect the link and associate (HLS-GMAC with ``hls``; ``ciphered``:
        in the ciphered LN context, every APDU glo-ciphered with those keys)."""
        if ciphered and hls is None:
            raise BenchConfigError(f"{self.name}: the ciphered context needs the meter's keys",
                                   expected="dlms_encryption_key and dlms_authentication_key")
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
        if hls is not None:
            self._associate_hls(hls, ciphered=ciphered)
        else:
            self._associate(password)

    def _mode_e_acknowledgement(self) -> None:
        """The meter repeats ``ACK 2 Z 2 CR LF`` at 300 Bd before switching to HDLC."""
        probe, line = self.probe, bytearray()
        silence = probe.silence()
        while not line.endswith(b"\r\n"):
            if silence.over() or len(line) > (40 if line.startswith(b"/") else 16):
                raise InstrumentTimeoutError(
                    f"{self.name}: no mode E acknowledgement (received {bytes(line)!r})"
                    f"{silence.host_note()}",
                    instrument=self.name)
            chunk = probe._read(min(0.05, silence.device_s))
            if chunk:
                probe.transcript.record("<", chunk)
                silence.heard()
                line += chunk
                if line.endswith(b"\r\n") and probe._late_identification(bytes(line)):
                    line.clear()
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
        except (OperationError, ProtocolError, InstrumentTimeoutError) as exc:
            # A meter that stopped answering: the session is over either way, and whatever
            # the caller was doing (or its own error) is what it needs to hear about.
            self.probe.log.info("DLMS release not confirmed: %s", exc)
        finally:
            self.cipher = None
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

    def _associate_hls(self, keys: HlsKeys, *, ciphered: bool) -> None:
        """HLS-GMAC (mechanism 5): AARQ with our system title and CtoS, AARE with the meter's
        and StoC, then f(StoC) to the Association LN object and the meter's f(CtoS) checked.
        In the ciphered context the InitiateRequest/Response go glo-ciphered too."""
        to_meter = secrets.token_bytes(16)
        initiate = InitiateRequest(CLIENT_CONFORMANCE, 0xFFFF)
        cipher = ClientCipher(keys, self.system_title) if ciphered else None
        aarq = AARQ(initiate if cipher is None else CipheredApdu.decode(
                        cipher.seal(initiate.encode())),
                    ApplicationContext.LN_CIPHERED if cipher else ApplicationContext.LN,
                    Mechanism.HIGH_GMAC, to_meter, self.system_title)
        self._note(f"> {aarq}" if cipher is None else f"> {aarq} [InitiateRequest: {initiate}]")
        answer = decode_acse(self._call(aarq.encode()))
        self._note(f"< {answer}")
        if not isinstance(answer, AARE):
            raise ProtocolError(f"{self.name}: expected an AARE, got {type(answer).__name__}",
                                instrument=self.name)
        if answer.result != AssociationResult.ACCEPTED:
            raise OperationError(f"{self.name}: HLS association refused (diagnostic "
                                 f"{answer.diagnostic})", instrument=self.name,
                                 diagnostic=answer.diagnostic)
        to_client, title = answer.authentication_value, answer.responding_ap_title
        if (answer.mechanism != Mechanism.HIGH_GMAC or to_client is None or title is None
                or len(title) != 8 or answer.diagnostic != AUTHENTICATION_REQUIRED):
            raise ProtocolError(f"{self.name}: the AARE does not start HLS-GMAC (mechanism "
                                f"{answer.mechanism}, diagnostic {answer.diagnostic})",
                                instrument=self.name, expected="mechanism 5, diagnostic 14, "
                                "the meter's system title and StoC")
        self.server_title = title
        response = answer.user_information
        if cipher is not None:
            if not isinstance(response, CipheredApdu):
                raise ProtocolError(f"{self.name}: a plain AARE in the ciphered context",
                                    instrument=self.name, expected="a glo-InitiateResponse")
            cipher.server_title = title
            response = InitiateResponse.decode(cipher.open(response))
            self._note(f"< [InitiateResponse: {response}]")
            self.cipher = cipher
        if isinstance(response, InitiateResponse):
            self.initiate = response
        self.associated = True  # for reply_to_HLS_authentication only, until it passes
        self._invocation_counter += 1
        proof = hls_gmac_proof(to_client, key=keys.encryption_key,
                               auth_key=keys.authentication_key, system_title=self.system_title,
                               invocation_counter=self._invocation_counter)
        method = MethodDescriptor(ASSOCIATION_LN_CLASS, ASSOCIATION_LN, REPLY_TO_HLS)
        reply = self._service(ActionRequest(method, Data(DataType.OCTET_STRING, proof)).encode())
        try:
            if not isinstance(reply, ActionResponse) or reply.result:
                raise DlmsAuthenticationError(
                    f"{self.name}: HLS refused: the meter did not accept our answer to its "
                    f"challenge ({reply}); the slot's dlms_encryption_key or "
                    "dlms_authentication_key is not this meter's", instrument=self.name)
            data = reply.data
            if not isinstance(data, Data) or data.type is not DataType.OCTET_STRING:
                raise DlmsAuthenticationError(f"{self.name}: HLS: the meter answered our "
                                              f"challenge with {data}", instrument=self.name)
            try:
                check_hls_gmac_proof(bytes(data.value), to_meter, key=keys.encryption_key,
                                     auth_key=keys.authentication_key, system_title=title)
            except DlmsSecurityError as exc:
                raise DlmsAuthenticationError(
                    f"{self.name}: HLS: the meter's answer to our challenge is wrong ({exc}): "
                    "not the keys we hold; nothing more is asked of it",
                    instrument=self.name) from None
        except DlmsAuthenticationError:
            self.close()
            raise

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
               parameters: Data | None = None, *, read_only: bool = False) -> Data | None:
        """Invoke a method (a reset); only under a live permit, unless the method only reads
        (``read_only``: export_certificate of class 64). Returns its data, if any."""
        descriptor = MethodDescriptor(class_id, _obis(obis), method)
        where = f"{class_id}/{descriptor.instance}/method {method}"
        if not read_only:
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
        cipher = self.cipher
        mark = "" if cipher is None else " [glo-ciphered]"
        self._note(f"> {decode_xdlms(apdu)}{mark}")
        raw = self._call(apdu if cipher is None else cipher.seal(apdu))
        if cipher is not None and raw[:1] != bytes((EXCEPTION_RESPONSE,)):
            raw = cipher.open(raw)  # a plain exception: the meter could not decipher ours
        answer = decode_xdlms(raw)
        self._note(f"< {answer}{mark}")
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
        wait = probe.message_wait()
        while True:
            if wait.over():
                raise InstrumentTimeoutError(
                    f"{self.name}: no HDLC frame within {wait.waited_s:.3g} s (received "
                    f"{self.reader.pending.hex(' ') or 'nothing'}){wait.host_note()}",
                    instrument=self.name)
            chunk = probe._read(wait.read_timeout())
            if not chunk:
                wait.idle()
                continue
            self._chunk_at = time.monotonic()  # no frame held came in after this
            probe.transcript.record("<", chunk)
            wait.heard()
            self._pending += [frame for frame in self.reader.feed(chunk)
                              if frame.destination.upper == self.client.upper]
            if self._pending:
                frame = self._pending.pop(0)
                probe._took(len(frame.encode()), self._chunk_at)
                return frame

    def _note(self, text: str) -> None:
        self.probe.transcript.note(text)


def _obis(value: Obis | str) -> Obis:
    return value if isinstance(value, Obis) else Obis.parse(value)
