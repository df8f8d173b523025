"""The emulated meter speaks DLMS/COSEM over HDLC on its optical port: direct and by mode E,
the same device behind it as the mode C map, public and LLS associations, blocks, resets."""

from __future__ import annotations

import datetime

import pytest

from harness.emulator.optical.device_registers import DeviceRegisters, registers_for_device
from harness.emulator.optical.engine import HDLC_FRAMING, MeterPortEngine, State
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.protocols.dlms import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    ActionRequest,
    ActionResponse,
    AssociationResult,
    AttributeDescriptor,
    Conformance,
    Control,
    CosemDateTime,
    Data,
    DataType,
    FrameKind,
    GetRequest,
    GetRequestNext,
    GetResponse,
    GetResponseBlock,
    HdlcAddress,
    HdlcFrame,
    HdlcReader,
    InitiateRequest,
    Mechanism,
    MethodDescriptor,
    Obis,
    Reassembler,
    SelectiveAccess,
    SequenceNumbers,
    SetRequest,
    SetResponse,
    apdu_frames,
    decode_xdlms,
    strip_llc,
)

SERVER = HdlcAddress(1)
CONFORMANCE = (Conformance.GET | Conformance.SET | Conformance.ACTION
               | Conformance.SELECTIVE_ACCESS | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ)


class Meter:
    """A DLMS client written straight on the codecs, driving the engine with no I/O."""

    def __init__(self, engine: MeterPortEngine, client: int = 0x10) -> None:
        self.engine, self.client = engine, HdlcAddress(client)
        self.seq, self.reader = SequenceNumbers(), HdlcReader()
        self.bauds: list[tuple[int, str]] = []

    def send(self, frame: HdlcFrame) -> list[HdlcFrame]:
        out: list[HdlcFrame] = []
        for reply in self.engine.receive(frame.encode()):
            self.bauds.append((reply.baud, reply.framing))
            out += self.reader.feed(reply.data)
        return out

    def connect(self) -> HdlcFrame:
        self.seq.reset()
        (ua,) = self.send(HdlcFrame(SERVER, self.client, Control(FrameKind.SNRM)))
        return ua

    def call(self, apdu: bytes) -> bytes:
        frames = apdu_frames(apdu, destination=SERVER, source=self.client, sequence=self.seq,
                             max_information_length=128, response=False)
        replies: list[HdlcFrame] = []
        for frame in frames:
            replies = self.send(frame)
        joiner = Reassembler()
        while True:
            (frame,) = replies
            assert self.seq.receive(frame)
            whole = joiner.add(frame)
            if whole is not None:
                return strip_llc(whole, response=True)
            replies = self.send(HdlcFrame(SERVER, self.client, self.seq.rr()))

    def associate(self, password: str | None = None, max_pdu: int = 0xFFFF) -> AARE:
        aarq = AARQ(InitiateRequest(CONFORMANCE, max_pdu),
                    mechanism=None if password is None else Mechanism.LOW,
                    authentication_value=None if password is None else password.encode())
        return AARE.decode(self.call(aarq.encode()))

    def get(self, class_id: int, obis: str, attribute: int,
            access: SelectiveAccess | None = None) -> Data | int:
        answer = decode_xdlms(self.call(GetRequest(
            AttributeDescriptor(class_id, Obis.parse(obis), attribute), access).encode()))
        assert isinstance(answer, GetResponse)
        return answer.result


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def device(clock: ManualClock) -> EmulatedDevice:
    device = create_device("esme", "ESME", clock=clock, seed=7)
    device.supply(230.0)
    clock.advance(5)
    device.commission_with_consumer_data(days=3)
    return device


@pytest.fixture
def registers(device: EmulatedDevice) -> DeviceRegisters:
    return registers_for_device(device)


@pytest.fixture
def engine(registers: DeviceRegisters, clock: ManualClock) -> MeterPortEngine:
    return MeterPortEngine(registers, clock)


def test_public_client_reads_clock_serial_and_register_straight_away(
        engine: MeterPortEngine, registers: DeviceRegisters, device: EmulatedDevice) -> None:
    meter = Meter(engine)
    ua = meter.connect()
    assert ua.kind is FrameKind.UA and engine.state is State.HDLC
    assert meter.associate().result == AssociationResult.ACCEPTED
    clock = meter.get(8, "0.0.1.0.0.255", 2)
    assert isinstance(clock, Data)
    when = CosemDateTime.from_bytes(clock.value).to_datetime()
    assert abs((when - device.clock_time()).total_seconds()) < 1
    serial = meter.get(1, "0.0.96.1.0.255", 2)
    assert isinstance(serial, Data) and serial.value.decode() == registers.read("0.0.1")
    energy = meter.get(3, "1.0.1.8.0.255", 2)
    assert isinstance(energy, Data) and energy.type is DataType.DOUBLE_LONG_UNSIGNED
    assert f"{energy.value / 1000:.3f}" == registers.read("1.8.0")  # the mode C twin's value
    assert meter.get(3, "1.0.1.8.0.255", 3) == Data.structure(Data(DataType.INTEGER, 0),
                                                              Data(DataType.ENUM, 30))
    assert meter.get(7, "0.0.99.98.0.255", 2) == 3  # read-write-denied without LLS
    assert meter.get(3, "1.0.99.8.0.255", 2) == 4  # object-undefined
    assert RLRE.decode(meter.call(RLRQ().encode())).reason == 0
    (ua,) = meter.send(HdlcFrame(SERVER, meter.client, Control(FrameKind.DISC)))
    assert ua.kind is FrameKind.UA and engine.state is State.IDLE and engine.baud == 300


def test_mode_e_switch_over_from_a_mode_c_sign_on(engine: MeterPortEngine) -> None:
    ident = engine.receive(b"/?!\r\n")
    assert ident and ident[0].data.startswith(b"/EMh")
    (ack,) = engine.receive(b"\x06252\r\n")
    assert (ack.data, ack.baud, ack.framing) == (b"\x06252\r\n", 300, "7E1")
    meter = Meter(engine)
    meter.connect()
    assert meter.associate().result == AssociationResult.ACCEPTED
    assert isinstance(meter.get(1, "0.0.96.1.0.255", 2), Data)
    assert set(meter.bauds) == {(9600, HDLC_FRAMING)}
    meter.send(HdlcFrame(SERVER, meter.client, Control(FrameKind.DISC)))
    assert (engine.state, engine.baud, engine.framing) == (State.IDLE, 300, "7E1")


def test_lls_password_is_the_mode_c_password_and_shares_its_lockout(
        engine: MeterPortEngine, registers: DeviceRegisters) -> None:
    meter = Meter(engine, client=0x01)
    meter.connect()
    refused = meter.associate("00000000" if registers.password != "00000000" else "1")
    assert (refused.result, refused.diagnostic) == (AssociationResult.REJECTED_PERMANENT, 13)
    assert meter.associate().diagnostic == 12  # management needs a password
    for _ in range(2):
        meter.associate("wrong")
    assert engine.locked
    assert meter.associate(registers.password).diagnostic == 13  # locked out, even when right


def test_management_reads_logs_by_range_in_blocks_sets_clock_and_resets(
        engine: MeterPortEngine, registers: DeviceRegisters, device: EmulatedDevice,
        clock: ManualClock) -> None:
    meter = Meter(engine, client=0x01)
    meter.connect()
    assert meter.associate(registers.password, max_pdu=32).result == AssociationResult.ACCEPTED
    entries = device.read_log("security")
    assert entries
    start = entries[0].timestamp - datetime.timedelta(seconds=1)
    end = entries[-1].timestamp + datetime.timedelta(seconds=1)

    def stamp(when: datetime.datetime) -> Data:
        return Data(DataType.OCTET_STRING, CosemDateTime.from_datetime(when).to_bytes())

    clock_column = Data.structure(Data(DataType.LONG_UNSIGNED, 8),
                                  Data(DataType.OCTET_STRING, bytes(Obis.parse("0.0.1.0.0.255"))),
                                  Data(DataType.INTEGER, 2), Data(DataType.LONG_UNSIGNED, 0))
    access = SelectiveAccess(1, Data.structure(clock_column, stamp(start), stamp(end),
                                               Data.array()))
    request = GetRequest(AttributeDescriptor(7, Obis.parse("0.0.99.98.1.255"), 2), access)
    first = decode_xdlms(meter.call(request.encode()))
    assert isinstance(first, GetResponseBlock) and not first.last_block  # 32-byte PDUs
    raw, block = bytearray(first.raw), first
    while not block.last_block:
        block = decode_xdlms(meter.call(GetRequestNext(block.block_number).encode()))
        assert isinstance(block, GetResponseBlock)
        raw += block.raw
    from harness.protocols.dlms import decode_data
    rows = decode_data(bytes(raw)).value
    assert [row.value[1].value for row in rows] == [e.code for e in entries]

    later = device.clock_time() + datetime.timedelta(seconds=5)
    answer = decode_xdlms(meter.call(SetRequest(
        AttributeDescriptor(8, Obis.parse("0.0.1.0.0.255"), 2), stamp(later)).encode()))
    assert answer == SetResponse(0)
    assert abs((device.clock_time() - later).total_seconds()) < 1

    reset = ActionRequest(MethodDescriptor(9, Obis.parse("0.0.10.0.0.255"), 1),
                          Data(DataType.LONG_UNSIGNED, 1))
    assert decode_xdlms(meter.call(reset.encode())) == ActionResponse(0)
    assert device.consumer_data().mpxn is None
    assert meter.get(3, "1.0.1.8.0.255", 2) == Data(DataType.DOUBLE_LONG_UNSIGNED,
                                                    int(float(registers.read("1.8.0")) * 1000))


def test_public_client_may_not_act_and_bad_frames_are_dropped(engine: MeterPortEngine) -> None:
    meter = Meter(engine)
    meter.connect()
    meter.associate()
    reset = ActionRequest(MethodDescriptor(9, Obis.parse("0.0.10.0.0.255"), 1),
                          Data(DataType.LONG_UNSIGNED, 1))
    assert decode_xdlms(meter.call(reset.encode())) == ActionResponse(3)
    frame = bytearray(HdlcFrame(SERVER, meter.client, meter.seq.rr()).encode())
    frame[-2] ^= 0xFF  # FCS broken: the meter stays silent
    assert engine.receive(bytes(frame)) == []
    assert engine.receive(HdlcFrame(HdlcAddress(5), meter.client, meter.seq.rr()).encode()) == []


def test_a_mode_c_only_register_map_ignores_hdlc(clock: ManualClock) -> None:
    from harness.emulator.optical.registers import DictRegisters
    from harness.protocols.iec62056_21 import Identification
    engine = MeterPortEngine(DictRegisters(Identification("ABC", "5", "X")), clock)
    assert engine.receive(HdlcFrame(SERVER, HdlcAddress(0x10),
                                    Control(FrameKind.SNRM)).encode()) == []
    engine.receive(b"/?!\r\n")
    assert engine.receive(b"\x06252\r\n") == [] and engine.state is State.IDLE


def test_published_snrm_and_disc_frames_are_answered(engine: MeterPortEngine) -> None:
    # The SNRM and DISC of public client 0x10 to server 1 as IEC 62056-46 examples and every
    # DLMS client put them on the wire: 7E A0 07 03 21 93 0F 01 7E / 7E A0 07 03 21 53 03 C7 7E.
    (ua,) = engine.receive(bytes.fromhex("7ea0070321930f017e"))
    frame = HdlcFrame.decode(ua.data)
    assert (frame.kind, frame.destination, frame.source) == (FrameKind.UA, HdlcAddress(0x10),
                                                            SERVER)
    assert ua.data[3:6] == bytes.fromhex("210373")  # 0x10 <- 1, UA|F
    (ua,) = engine.receive(bytes.fromhex("7ea00703215303c77e"))
    assert HdlcFrame.decode(ua.data).kind is FrameKind.UA and engine.state is State.IDLE
    (dm,) = engine.receive(bytes.fromhex("7ea00703215303c77e"))  # no link open any more
    assert HdlcFrame.decode(dm.data).kind is FrameKind.DM


def test_a_stray_flag_does_not_lock_out_mode_c(engine: MeterPortEngine) -> None:
    assert engine.receive(b"\x7e\x00\x11") == [] and engine.state is State.HDLC
    ident = engine.receive(b"/?!\r\n")  # no SNRM came: the port answers mode C again
    assert ident and ident[0].data.startswith(b"/EMh")


@pytest.mark.parametrize(("kind", "model", "flag"), [("ESME", "EMU-ESME-1D", b"/EMh5\\2"),
                                                       ("GSME", "EMU-GSME-1D", b"/EMg5\\2")])
def test_the_dlms_twins_announce_mode_e_and_are_drawn_into_populations(
        clock: ManualClock, kind: str, model: str, flag: bytes) -> None:
    from harness.domain.types import DeviceType
    from harness.emulator.world.catalogue import models_of
    from harness.emulator.world.population import PopulationSpec, generate
    from harness.protocols.iec62056_21 import parse_identification

    twin = create_device(kind.lower(), kind, model, clock=clock, seed=7)
    twin.supply(230.0 if kind == "ESME" else 3.6)
    clock.advance(5)
    engine = MeterPortEngine(registers_for_device(twin), clock)
    if kind == "GSME":  # a sleepy port: the NUL preamble wakes it first
        engine.receive(b"\x00" * 80)
    (ident,) = engine.receive(b"/?!\r\n")
    assert ident.data.startswith(flag + model.encode())
    assert parse_identification(ident.data).enhanced == "2"
    assert model in [m.name for m in models_of(DeviceType.parse(kind))]
    assert model in {row.model for row in generate(PopulationSpec(size=60, seed=7))}


def test_a_long_answer_goes_in_segments_each_sent_on_the_clients_rr(
        engine: MeterPortEngine, registers: DeviceRegisters, device: EmulatedDevice) -> None:
    for _ in range(12):
        device.record_local_port_access()  # a long security log
    meter = Meter(engine, client=0x01)
    meter.connect()
    meter.associate(registers.password)
    sent = meter.send
    frames: list[HdlcFrame] = []

    def counting(frame: HdlcFrame) -> list[HdlcFrame]:
        replies = sent(frame)
        frames.extend(replies)
        return replies

    meter.send = counting  # type: ignore[method-assign]
    rows = meter.get(7, "0.0.99.98.1.255", 2)
    assert isinstance(rows, Data) and len(rows.value) == len(device.read_log("security"))
    assert len(frames) >= 3 and all(f.segmented for f in frames[:-1])
    assert not frames[-1].segmented and all(len(f.information) <= 128 for f in frames)
