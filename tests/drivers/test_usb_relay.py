"""The USB HID relay driver against emulated boards, through pyusb's find and ctrl_transfer.

Only the pyusb backend is emulated: the driver's own code (find, product string, claim,
SET_REPORT, GET_REPORT) runs exactly as on a lab bench.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import usb.core

from harness.config.models import InstrumentConfig
from harness.drivers.relay import Relay
from harness.drivers.relay.usb_hid import UsbHidRelay, UsbRelayAddress
from harness.emulator.relay.usb_hid import (
    BACKEND,
    EmulatedRelayBoard,
    EmulatedRelayServer,
    register_board,
    serve_relay,
    unregister_board,
)
from harness.errors import (
    BenchConfigError,
    InstrumentConnectError,
    OperationError,
    UnsafeStateError,
)


def make_relay(address: str, *, safe_state: dict[str, Any] | None = None,
               **options: Any) -> UsbHidRelay:
    config = InstrumentConfig(kind="relay", backend="usb-hid", address=address, timeout_s=0.5,
                              options=options, safe_state=safe_state or {})
    return UsbHidRelay("relay", config)


@pytest.fixture
def board() -> EmulatedRelayBoard:
    return EmulatedRelayBoard("ABCDE", channels=2)


@pytest.fixture
def server(board: EmulatedRelayBoard) -> Iterator[EmulatedRelayServer]:
    srv = EmulatedRelayServer(board, board_id="test-relay")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def relay(server: EmulatedRelayServer) -> Iterator[UsbHidRelay]:
    with make_relay(server.resource) as driver:
        yield driver


@pytest.fixture
def two_boards() -> Iterator[tuple[EmulatedRelayBoard, EmulatedRelayBoard]]:
    a, b = EmulatedRelayBoard("AAAAA", 2), EmulatedRelayBoard("BBBBB", 4)
    ids = [register_board(a).partition(":")[2], register_board(b).partition(":")[2]]
    yield a, b
    for board_id in ids:
        unregister_board(board_id)


# -- identity and switching --------------------------------------------------------------------


def test_the_driver_is_a_relay_of_kind_relay(relay: UsbHidRelay) -> None:
    assert isinstance(relay, Relay)
    assert relay.kind == "relay"


def test_identify_names_the_product_and_the_serial(relay: UsbHidRelay) -> None:
    assert relay.identify() == "USBRelay2 serial ABCDE"
    assert relay.serial == "ABCDE"


def test_channel_count_comes_from_the_board(relay: UsbHidRelay) -> None:
    assert relay.channels == 2
    assert relay.states() == {1: False, 2: False}


def test_on_and_off_switch_the_board_and_read_back(relay: UsbHidRelay,
                                                   board: EmulatedRelayBoard) -> None:
    relay.on(2)
    assert relay.states() == {1: False, 2: True}
    assert board.states() == {1: False, 2: True}
    relay.set(1, True)
    relay.off(2)
    assert relay.states() == {1: True, 2: False}
    assert board.states() == {1: True, 2: False}


def test_states_reads_the_board_not_a_cache(relay: UsbHidRelay,
                                            board: EmulatedRelayBoard) -> None:
    board.force(1, True)
    assert relay.states() == {1: True, 2: False}


def test_channels_option_limits_the_channels_used(server: EmulatedRelayServer) -> None:
    with make_relay(server.resource, channels=1) as relay:
        assert relay.states() == {1: False}
        with pytest.raises(OperationError, match=r"relay: relay has no channel 2"):
            relay.on(2)


def test_more_channels_than_the_board_has_is_a_bench_error(
    server: EmulatedRelayServer, board: EmulatedRelayBoard
) -> None:
    relay = make_relay(server.resource, channels=4)
    with pytest.raises(BenchConfigError, match="bench says 4 channels but the board has 2"):
        relay.open()
    assert not relay.is_open
    make_relay(server.resource).open().close()  # the board was released


@pytest.mark.parametrize("channel", [0, 3, -1])
def test_out_of_range_channel_names_the_relay_and_channel(relay: UsbHidRelay,
                                                          channel: int) -> None:
    before = relay.transcript.mark()
    with pytest.raises(OperationError,
                       match=rf"^relay: relay has no channel {channel} \(channels 1\.\.2\)$"):
        relay.on(channel)
    assert relay.transcript.mark() == before  # nothing was sent


def test_operations_need_an_open_relay(server: EmulatedRelayServer) -> None:
    with pytest.raises(OperationError, match="relay: not open"):
        make_relay(server.resource).on(1)


# -- pulse ---------------------------------------------------------------------------------------


def test_pulse_closes_waits_then_opens_with_injected_sleep(relay: UsbHidRelay,
                                                           board: EmulatedRelayBoard) -> None:
    seen: list[tuple[float, bool]] = []
    relay.pulse(1, 0.75, sleep=lambda s: seen.append((s, board.is_closed(1))))
    assert seen == [(0.75, True)]
    assert board.states() == {1: False, 2: False}


def test_pulse_opens_the_contact_even_if_the_wait_is_interrupted(
    relay: UsbHidRelay, board: EmulatedRelayBoard
) -> None:
    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        relay.pulse(2, 5.0, sleep=interrupted)
    assert not board.is_closed(2)


def test_pulse_rejects_a_negative_length(relay: UsbHidRelay) -> None:
    with pytest.raises(OperationError, match="pulse length must be >= 0 s"):
        relay.pulse(1, -1.0, sleep=lambda s: None)


# -- safe state ----------------------------------------------------------------------------------


def test_close_opens_every_contact(server: EmulatedRelayServer,
                                   board: EmulatedRelayBoard) -> None:
    relay = make_relay(server.resource).open()
    relay.on(1)
    relay.on(2)
    relay.close()
    assert board.states() == {1: False, 2: False}
    assert relay.transcript.entries[-2].data[0] == 0xFC  # one "all off" report
    relay.close()  # idempotent


def test_safe_state_keeps_the_named_channels_closed(server: EmulatedRelayServer,
                                                     board: EmulatedRelayBoard) -> None:
    with make_relay(server.resource, safe_state={"closed": [2]}) as relay:
        relay.on(1)
    assert board.states() == {1: False, 2: True}


def test_safe_state_with_a_channel_the_board_lacks_fails_at_open(
    server: EmulatedRelayServer,
) -> None:
    with pytest.raises(BenchConfigError, match=r"closes channel\(s\) \[5\]"):
        make_relay(server.resource, safe_state={"closed": [5]}).open()


@pytest.mark.parametrize("safe_state", [{"close": [1]}, {"closed": "1"}, {"closed": [0]}])
def test_a_malformed_safe_state_is_a_bench_error(safe_state: dict[str, Any]) -> None:
    with pytest.raises(BenchConfigError) as info:
        make_relay("usb:16c0:05df", safe_state=safe_state)
    assert info.value.key_path is not None
    assert info.value.key_path.startswith("instruments.relay.safe_state")


# -- faults --------------------------------------------------------------------------------------


def test_a_stuck_channel_is_named(relay: UsbHidRelay, board: EmulatedRelayBoard) -> None:
    board.stuck.add(2)
    relay.on(1)
    with pytest.raises(OperationError, match=r"channel 2 did not switch closed \(reads open\)"):
        relay.on(2)


def test_a_contact_stuck_closed_makes_close_unsafe(server: EmulatedRelayServer,
                                                   board: EmulatedRelayBoard) -> None:
    relay = make_relay(server.resource).open()
    board.force(1, True)
    board.stuck.add(1)
    with pytest.raises(UnsafeStateError, match=r"channel 1 did not switch open"):
        relay.close()
    assert not relay.is_open


def test_an_unplugged_board_says_so(server: EmulatedRelayServer) -> None:
    relay = make_relay(server.resource).open()
    server.stop()
    with pytest.raises(OperationError, match=r"SET_REPORT .* failed: the board is gone"):
        relay.on(1)
    with pytest.raises(UnsafeStateError):
        relay.close()


def test_a_board_in_use_by_another_driver_is_refused(relay: UsbHidRelay,
                                                     server: EmulatedRelayServer) -> None:
    with pytest.raises(InstrumentConnectError,
                       match=r"no USB relay 16c0:05df found \(found: \? \(the board is in use"):
        make_relay(server.resource).open()


def test_the_kernel_driver_is_detached_then_given_back(board: EmulatedRelayBoard) -> None:
    address = register_board(board, "bound", kernel_driver=True)
    try:
        with make_relay(address) as relay:
            relay.on(1)
        dev = usb.core.find(backend=BACKEND, idVendor=0x16C0, idProduct=0x05DF)
        assert dev is not None
        assert dev.is_kernel_driver_active(0)
    finally:
        unregister_board("bound")


# -- choosing a board ----------------------------------------------------------------------------


def test_a_board_is_chosen_by_its_serial(
    two_boards: tuple[EmulatedRelayBoard, EmulatedRelayBoard],
) -> None:
    a, b = two_boards
    with make_relay("usb-emulated:16c0:05df:BBBBB") as relay:
        assert relay.identify() == "USBRelay4 serial BBBBB"
        relay.on(3)
        # The other board was left free: a second driver can take it meanwhile.
        with make_relay("usb-emulated:16c0:05df:AAAAA") as other:
            assert other.identify() == "USBRelay2 serial AAAAA"
    assert b.states() == dict.fromkeys(range(1, 5), False)
    assert a.states() == {1: False, 2: False}


def test_without_a_serial_the_first_board_is_used(
    two_boards: tuple[EmulatedRelayBoard, EmulatedRelayBoard],
) -> None:
    with make_relay("usb-emulated:16c0:05df") as relay:
        assert relay.identify() == "USBRelay2 serial AAAAA"


def test_an_unknown_serial_lists_the_boards_found(
    two_boards: tuple[EmulatedRelayBoard, EmulatedRelayBoard],
) -> None:
    with pytest.raises(
        InstrumentConnectError,
        match=r"^relay: no USB relay 16c0:05df with serial ZZZZZ found \(found: AAAAA, BBBBB\)$",
    ):
        make_relay("usb-emulated:16c0:05df:ZZZZZ").open()


def test_an_unknown_emulated_board_lists_the_registered_ones(
    server: EmulatedRelayServer,
) -> None:
    with pytest.raises(InstrumentConnectError,
                       match=r"no emulated USB relay board 'nope' \(registered: .*test-relay"):
        make_relay("usb-emulated:nope").open()


@pytest.mark.parametrize("address", ["usb:16c0", "usb:xyz:05df", "serial:/dev/ttyUSB0",
                                     "usb:16c0:05df:A:B"])
def test_a_malformed_address_is_refused(address: str) -> None:
    with pytest.raises(InstrumentConnectError, match="not a USB relay address"):
        make_relay(address).open()


def test_a_real_usb_address_fails_cleanly_without_the_board() -> None:
    # Without libusb this names the missing backend; with it, no board has this serial.
    with pytest.raises(InstrumentConnectError,
                       match=r"no libusb backend|no USB relay 16c0:05df with serial Z9Z9Z"):
        make_relay("usb:16c0:05df:Z9Z9Z").open()


def test_the_emulated_bench_server_is_reached_with_the_bench_config() -> None:
    inst = InstrumentConfig(kind="relay", backend="usb-hid", emulated=True,
                            options={"channels": 4, "serial": "BENCH"},
                            safe_state={"closed": [4]})
    server = serve_relay("buttons", inst)
    server.start()
    try:
        with UsbHidRelay("buttons", inst, server.resource) as relay:
            assert relay.identify() == "USBRelay4 serial BENCH"
            relay.on(1)
        assert server.board.states() == {1: False, 2: False, 3: False, 4: True}
    finally:
        server.stop()
    assert not any(server.board.states().values())


def test_addresses_parse() -> None:
    assert UsbRelayAddress.parse("usb:16c0:05df") == UsbRelayAddress(False)
    assert UsbRelayAddress.parse("usb:16C0:05DF:ABCDE").serial == "ABCDE"
    assert UsbRelayAddress.parse("usb-emulated:bench-relay").board_id == "bench-relay"
    assert UsbRelayAddress.parse("usb-emulated:16c0:05df:Q1").emulated


# -- transcript ----------------------------------------------------------------------------------


def test_the_transcript_records_each_control_transfer(relay: UsbHidRelay) -> None:
    start = relay.transcript.mark()
    relay.on(1)
    entries = [(e.direction, e.data) for e in relay.transcript.entries[start:]]
    assert entries == [
        (">", bytes([0xFF, 1, 0, 0, 0, 0, 0, 0])),
        ("<", b"ABCDE\x00\x00\x01"),
    ]
    assert "relay > ff 01 00 00 00 00 00 00" in relay.transcript.render(start)


def test_back_to_back_reports_stay_separate_entries(relay: UsbHidRelay) -> None:
    start = relay.transcript.mark()
    relay.states()
    relay.states()
    assert [len(e.data) for e in relay.transcript.entries[start:]] == [8, 8]
