"""The emulated USBRelay boards as plain pyusb sees them, and their bench server."""

from __future__ import annotations

import errno
from collections.abc import Iterator

import pytest
import usb.core
import usb.util

from harness.config.models import InstrumentConfig
from harness.emulator.relay.usb_hid import (
    BACKEND,
    EmulatedRelayBoard,
    EmulatedRelayServer,
    default_serial,
    device_match,
    register_board,
    registered_boards,
    serve_relay,
    unregister_board,
)


@pytest.fixture
def board() -> Iterator[EmulatedRelayBoard]:
    b = EmulatedRelayBoard("QWERT", channels=4)
    register_board(b, "backend-test")
    yield b
    unregister_board("backend-test")


@pytest.fixture
def dev(board: EmulatedRelayBoard) -> Iterator[usb.core.Device]:
    found = usb.core.find(backend=BACKEND, idVendor=0x16C0, idProduct=0x05DF,
                          **device_match("backend-test"))
    assert found is not None
    yield found
    usb.util.dispose_resources(found)


def set_report(dev: usb.core.Device, *data: int) -> int:
    return dev.ctrl_transfer(0x21, 0x09, 0x0300, 0, bytes(data).ljust(8, b"\0"))


def get_report(dev: usb.core.Device) -> bytes:
    return bytes(dev.ctrl_transfer(0xA1, 0x01, 0x0300, 0, 8))


def test_boards_enumerate_with_their_descriptors_and_strings(dev: usb.core.Device) -> None:
    assert (dev.idVendor, dev.idProduct) == (0x16C0, 0x05DF)
    assert dev.product == "USBRelay4"
    assert dev.manufacturer == "www.dcttech.com"
    assert dev.serial_number is None  # these boards have no USB serial string
    intf = dev.get_active_configuration()[(0, 0)]
    assert intf.bInterfaceClass == 3  # HID
    raw = dev.ctrl_transfer(0x80, 0x06, 0x0100, 0, 18)
    assert bytes(raw[8:12]) == bytes([0xC0, 0x16, 0xDF, 0x05])


def test_get_report_carries_serial_and_state_bitmask(dev: usb.core.Device,
                                                     board: EmulatedRelayBoard) -> None:
    assert get_report(dev) == b"QWERT\x00\x00\x00"
    board.force(1, True)
    board.force(3, True)
    assert get_report(dev)[7] == 0b0101


def test_set_report_commands_switch_contacts(dev: usb.core.Device,
                                             board: EmulatedRelayBoard) -> None:
    assert set_report(dev, 0xFF, 2) == 8
    assert board.states() == {1: False, 2: True, 3: False, 4: False}
    set_report(dev, 0xFE)
    assert all(board.states().values())
    set_report(dev, 0xFD, 4)
    assert get_report(dev)[7] == 0b0111
    set_report(dev, 0xFC)
    assert not any(board.states().values())
    set_report(dev, 0xFF, 9)  # no such channel: ignored, as the firmware does
    assert not any(board.states().values())


def test_the_serial_can_be_rewritten(dev: usb.core.Device, board: EmulatedRelayBoard) -> None:
    set_report(dev, 0xFA, *b"NEW01")
    assert board.serial == "NEW01"
    assert get_report(dev)[:5] == b"NEW01"


def test_unknown_requests_stall(dev: usb.core.Device) -> None:
    with pytest.raises(usb.core.USBError) as info:
        dev.ctrl_transfer(0xA1, 0x01, 0x0100, 0, 8)  # input report: not supported
    assert info.value.errno == errno.EPIPE


def test_stuck_channels_ignore_commands(dev: usb.core.Device, board: EmulatedRelayBoard) -> None:
    board.stuck.add(3)
    set_report(dev, 0xFE)
    assert board.states() == {1: True, 2: True, 3: False, 4: True}


def test_listeners_hear_every_contact_change(dev: usb.core.Device,
                                             board: EmulatedRelayBoard) -> None:
    heard: list[tuple[int, bool]] = []
    board.add_listener(lambda ch, closed: heard.append((ch, closed)))
    set_report(dev, 0xFF, 1)
    set_report(dev, 0xFF, 1)  # no change, no call
    set_report(dev, 0xFD, 1)
    assert heard == [(1, True), (1, False)]


def test_an_unplugged_board_answers_enodev(dev: usb.core.Device) -> None:
    get_report(dev)
    unregister_board("backend-test")
    with pytest.raises(usb.core.USBError) as info:
        get_report(dev)
    assert info.value.errno == errno.ENODEV


def test_a_kernel_bound_board_is_busy_until_detached() -> None:
    register_board(EmulatedRelayBoard("KRNL1"), "bound-test", kernel_driver=True)
    try:
        found = usb.core.find(backend=BACKEND, **device_match("bound-test"))
        assert found is not None and found.is_kernel_driver_active(0)
        with pytest.raises(usb.core.USBError) as info:
            get_report(found)
        assert info.value.errno == errno.EBUSY
        found.detach_kernel_driver(0)
        assert get_report(found)[:5] == b"KRNL1"
        usb.util.dispose_resources(found)
    finally:
        unregister_board("bound-test")


def test_ids_are_unique_and_default_to_the_serial() -> None:
    a, b = EmulatedRelayBoard("SAME1"), EmulatedRelayBoard("SAME1")
    addresses = [register_board(a), register_board(b)]
    try:
        assert addresses == ["usb-emulated:SAME1", "usb-emulated:SAME1-2"]
        assert registered_boards()["SAME1-2"] is b
    finally:
        unregister_board("SAME1")
        unregister_board("SAME1-2")
    with pytest.raises(LookupError, match="no emulated USB relay board 'SAME1'"):
        device_match("SAME1")


@pytest.mark.parametrize(("serial", "channels"), [("TOOLONG", 2), ("ABCDE", 9), ("ABCDE", 0)])
def test_impossible_boards_are_refused(serial: str, channels: int) -> None:
    with pytest.raises(ValueError):
        EmulatedRelayBoard(serial, channels)


def test_serve_relay_reads_channels_and_serial_options() -> None:
    inst = InstrumentConfig(kind="relay", backend="usb-hid", emulated=True,
                            options={"channels": 8, "serial": "LAB01"})
    server = serve_relay("buttons", inst)
    assert (server.board.channels, server.board.serial) == (8, "LAB01")


def test_serve_relay_defaults_two_channels_and_a_serial_from_the_name() -> None:
    server = serve_relay("relay", InstrumentConfig(kind="relay", backend="usb-hid", emulated=True))
    assert server.board.channels == 2
    assert server.board.serial == default_serial("relay")
    assert len(default_serial("relay")) == 5
    assert default_serial("relay_a") != default_serial("relay_b")


def test_the_server_registers_on_start_and_opens_contacts_on_stop() -> None:
    server = EmulatedRelayServer(EmulatedRelayBoard("SRV01"), board_id="srv")
    with pytest.raises(RuntimeError, match="call start"):
        _ = server.resource
    server.start()
    try:
        assert server.resource == "usb-emulated:srv"
        assert "srv" in registered_boards()
        server.board.force(2, True)
    finally:
        server.stop()
    assert "srv" not in registered_boards()
    assert server.board.states() == {1: False, 2: False}
    server.stop()  # twice is fine
