"""Hostile feature reports against an emulated USB relay board, through plain pyusb."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import usb.core
import usb.util
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.emulator.relay.usb_hid import (
    BACKEND,
    EmulatedRelayBoard,
    device_match,
    register_board,
    unregister_board,
)


@pytest.fixture(scope="module")
def dev() -> Iterator[usb.core.Device]:
    register_board(EmulatedRelayBoard("QWERT", channels=4), "hostile-test")
    found = usb.core.find(backend=BACKEND, idVendor=0x16C0, idProduct=0x05DF,
                          **device_match("hostile-test"))
    assert found is not None
    yield found
    usb.util.dispose_resources(found)
    unregister_board("hostile-test")


def set_report(dev: usb.core.Device, data: bytes) -> None:
    dev.ctrl_transfer(0x21, 0x09, 0x0300, 0, data)


def get_report(dev: usb.core.Device) -> bytes:
    return bytes(dev.ctrl_transfer(0xA1, 0x01, 0x0300, 0, 8))


def test_a_serial_of_non_ascii_bytes_is_stored_and_read_back_raw(dev: usb.core.Device) -> None:
    set_report(dev, b"\xfa\xff\xc3\xa9AB\x00\x00")  # was: every later GET_REPORT raised
    assert get_report(dev)[:5] == b"\xff\xc3\xa9AB"
    set_report(dev, b"\xfaQWERT\x00\x00")
    assert get_report(dev)[:5] == b"QWERT"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(report=st.binary(min_size=1, max_size=8))
def test_fuzz_set_report_never_breaks_get_report(dev: usb.core.Device, report: bytes) -> None:
    set_report(dev, report.ljust(8, b"\0"))
    answer = get_report(dev)
    assert len(answer) == 8
    assert answer[7] < 16  # four channels: the contact mask fits in four bits
