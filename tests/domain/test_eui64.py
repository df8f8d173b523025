"""EUI-64s in every form meterbench meets, from their one home (harness.domain.eui64)."""

from __future__ import annotations

import re

import pytest

from harness.domain import eui64, types


def test_eui64_forms_have_one_home() -> None:
    """The device-types module no longer carries its own (re-exported) EUI-64 helpers."""
    assert not hasattr(types, "normalise_eui64") and not hasattr(types, "eui64_duis")


@pytest.mark.parametrize("text", ["00-1a-2b-3c-4d-5e-6f-70", "00:1A:2B:3C:4D:5E:6F:70",
                                  " 001a2b3c4d5e6f70 ", "00 1A 2B 3C 4D 5E 6F 70"])
def test_every_separator_style_normalises_to_compact_upper_case(text: str) -> None:
    assert eui64.normalise_eui64(text) == "001A2B3C4D5E6F70"
    assert eui64.eui64_duis(text) == "00-1A-2B-3C-4D-5E-6F-70"


@pytest.mark.parametrize("text", ["", "001A2B3C4D5E6F7", "001A2B3C4D5E6F7G", "001A2B3C4D5E6F7000"])
def test_a_non_eui64_is_refused_naming_it(text: str) -> None:
    assert not eui64.is_eui64(text)
    with pytest.raises(ValueError, match="not an EUI-64"):
        eui64.normalise_eui64(text)


def test_the_duis_pattern_matches_the_dashed_form_only() -> None:
    assert re.fullmatch(eui64.DUIS_PATTERN, "90-B3-D5-1F-30-01-00-00")
    assert not re.fullmatch(eui64.DUIS_PATTERN, "90B3D51F30010000")


def test_the_certificate_unique_identifier_round_trips() -> None:
    value = eui64.unique_identifier("0a0b0c0d0e0f1011")
    assert value == b"\x00\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11"
    assert eui64.from_unique_identifier(value) == "0A0B0C0D0E0F1011"
    assert eui64.from_unique_identifier("90-B3-D5-1F-30-01-00-00") == "90B3D51F30010000"
    assert eui64.from_unique_identifier(b"\x01" + value[1:]) is None  # unused bits: not whole
    assert eui64.from_unique_identifier(value[:-1]) is None
    assert eui64.from_unique_identifier("not hex") is None


def test_drivers_and_the_emulator_read_certificates_with_the_same_function() -> None:
    from harness.drivers.dcc import credentials
    from harness.emulator.world import pki

    assert credentials.certificate_eui64 is pki.certificate_eui64 is eui64.certificate_eui64
