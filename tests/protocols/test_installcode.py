"""Install codes: published vectors, every error kind, masking, and round trips."""

from __future__ import annotations

import logging
import pickle
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.errors import ProtocolError
from harness.protocols.installcode import (
    CODE_LENGTHS,
    InstallCode,
    InstallCodeCharacterError,
    InstallCodeCrcError,
    InstallCodeError,
    InstallCodeLengthError,
    LinkKey,
    aes_mmo_hash,
    crc16_x25,
)

# Published vector (Silicon Labs AN1089 and others; GB-SMART-METERING.md).
CODE_HEX = "83FED3407A939723A5C639B26916D505"
CRC_BYTES_HEX = "C3B5"
LINK_KEY_HEX = "66B6900981E1EE3CA4206B6B861C02BB"


# --- CRC and hash ---------------------------------------------------------------------------


def test_crc16_x25_check_value() -> None:
    assert crc16_x25(b"123456789") == 0x906E


def test_crc16_x25_empty_input() -> None:
    # init 0xFFFF xor-out 0xFFFF with no data.
    assert crc16_x25(b"") == 0x0000


def test_crc_of_published_code() -> None:
    assert crc16_x25(bytes.fromhex(CODE_HEX)) == 0xB5C3


def test_aes_mmo_hash_of_published_code_with_crc() -> None:
    digest = aes_mmo_hash(bytes.fromhex(CODE_HEX + CRC_BYTES_HEX))
    assert digest.hex().upper() == LINK_KEY_HEX


@pytest.mark.parametrize("size", [0, 1, 13, 14, 15, 16, 17, 30, 31, 32])
def test_aes_mmo_hash_is_16_bytes_at_padding_boundaries(size: int) -> None:
    assert len(aes_mmo_hash(bytes(range(size)))) == 16


def test_aes_mmo_hash_refuses_long_messages() -> None:
    with pytest.raises(ValueError, match="8192"):
        aes_mmo_hash(bytes(8192))


# --- parsing the published vector -------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        CODE_HEX + CRC_BYTES_HEX,
        (CODE_HEX + CRC_BYTES_HEX).lower(),
        "83FE D340 7A93 9723 A5C6 39B2 6916 D505 C3B5",
        "83-FE-D3-40-7A-93-97-23-A5-C6-39-B2-69-16-D5-05-C3-B5",
        "83:FE:D3:40:7A:93:97:23:A5:C6:39:B2:69:16:D5:05:C3:B5",
        " 83FED3407A939723\tA5C639B26916D505 C3B5 ",
    ],
)
def test_parse_published_vector_with_crc(text: str) -> None:
    code = InstallCode.parse(text)
    assert code.code == bytes.fromhex(CODE_HEX)
    assert code.crc == 0xB5C3
    assert code.with_crc == bytes.fromhex(CODE_HEX + CRC_BYTES_HEX)
    assert code.link_key().hex() == LINK_KEY_HEX
    assert len(code) == 16


def test_parse_published_vector_without_crc() -> None:
    code = InstallCode.parse(CODE_HEX)
    assert code.crc == 0xB5C3
    assert code.with_crc[-2:] == bytes([0xC3, 0xB5])  # stored low byte first
    assert code.link_key() == LinkKey(bytes.fromhex(LINK_KEY_HEX))


def test_reveal_gives_full_hex() -> None:
    code = InstallCode.parse(CODE_HEX)
    assert code.reveal() == CODE_HEX + CRC_BYTES_HEX
    assert code.reveal(with_crc=False) == CODE_HEX


def test_link_key_bytes_and_hex() -> None:
    key = InstallCode.parse(CODE_HEX).link_key()
    assert bytes(key) == bytes.fromhex(LINK_KEY_HEX)
    assert key.hex() == LINK_KEY_HEX


def test_explicit_has_crc_resolves_eight_bytes() -> None:
    six = bytes.fromhex("0102030405AA")
    with_crc = six + crc16_x25(six).to_bytes(2, "little")
    assert InstallCode.parse(with_crc.hex(), has_crc=True).code == six
    assert InstallCode.parse(with_crc.hex(), has_crc=False).code == with_crc


# --- every error kind ------------------------------------------------------------------------


def test_wrong_crc_names_expected_and_found() -> None:
    with pytest.raises(InstallCodeCrcError) as info:
        InstallCode.parse(CODE_HEX + "B5C3")  # bytes swapped: high byte first
    err = info.value
    assert err.context["expected"] == 0xB5C3
    assert err.context["found"] == 0xC3B5
    assert "wrong CRC" in str(err)
    assert "expected 0xB5C3" in str(err)
    assert "found 0xC3B5" in str(err)
    assert CODE_HEX not in str(err)


@pytest.mark.parametrize("n_bytes", [1, 5, 7, 9, 11, 13, 15, 17, 19, 20])
def test_wrong_length_lists_allowed_lengths(n_bytes: int) -> None:
    with pytest.raises(InstallCodeLengthError) as info:
        InstallCode.parse("AB" * n_bytes)
    message = str(info.value)
    assert f"{n_bytes} bytes" in message
    assert "6, 8, 12, 16" in message
    assert "8, 10, 14, 18" in message
    assert info.value.context["length"] == n_bytes


def test_wrong_length_with_explicit_crc_flag() -> None:
    with pytest.raises(InstallCodeLengthError, match=r"allowed: 8, 10, 14, 18"):
        InstallCode.parse(CODE_HEX, has_crc=True)
    with pytest.raises(InstallCodeLengthError, match=r"allowed: 6, 8, 12, 16"):
        InstallCode.parse(CODE_HEX + CRC_BYTES_HEX, has_crc=False)


def test_eight_bytes_without_flag_is_ambiguous() -> None:
    with pytest.raises(InstallCodeLengthError, match=r"ambiguous.*has_crc"):
        InstallCode.parse("0102030405060708")


def test_odd_number_of_digits() -> None:
    with pytest.raises(InstallCodeLengthError, match="odd number of hex digits"):
        InstallCode.parse(CODE_HEX + "C")


def test_empty_text_is_a_length_error() -> None:
    with pytest.raises(InstallCodeLengthError, match="0 bytes"):
        InstallCode.parse("  ")


@pytest.mark.parametrize(
    ("text", "offset", "char"),
    [
        ("83FG", 3, "G"),
        ("x3FED3407A939723A5C639B26916D505", 0, "x"),
        ("83FE D340_7A93", 9, "_"),
        ("83FE.D340", 4, "."),
    ],
)
def test_non_hex_character_gives_offset(text: str, offset: int, char: str) -> None:
    with pytest.raises(InstallCodeCharacterError) as info:
        InstallCode.parse(text)
    assert info.value.context["offset"] == offset
    assert f"offset {offset}" in str(info.value)
    assert repr(char) in str(info.value)


def test_errors_sit_in_the_protocol_branch_and_pickle() -> None:
    with pytest.raises(InstallCodeError) as info:
        InstallCode.parse(CODE_HEX + "0000")
    err = info.value
    assert isinstance(err, ProtocolError)
    assert isinstance(err, ValueError)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is InstallCodeCrcError
    assert str(clone) == str(err)
    assert clone.context == err.context


def test_constructor_checks_length() -> None:
    with pytest.raises(InstallCodeLengthError):
        InstallCode(bytes(7))


def test_link_key_checks_length() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        LinkKey(bytes(15))


def test_generate_refuses_bad_length() -> None:
    with pytest.raises(ValueError, match="allowed"):
        InstallCode.generate(random.Random(1), length=10)


# --- masking --------------------------------------------------------------------------------


def _hex_fragments(code: InstallCode) -> list[str]:
    """The secret in every spelling a leak could take."""
    full = code.reveal()
    key = code.link_key().hex()
    return [full, full.lower(), code.reveal(with_crc=False), key, key.lower()]


def test_repr_str_and_format_are_masked() -> None:
    code = InstallCode.parse(CODE_HEX)
    key = code.link_key()
    shown = [
        repr(code),
        str(code),
        f"{code}",
        f"{code!r}",
        "{}".format(code),  # noqa: UP032 - the str.format path
        repr(key),
        str(key),
        f"{key}",
        repr([code, key]),
        repr({"code": code}),
    ]
    for text in shown:
        for secret in _hex_fragments(code):
            assert secret not in text
        assert "****" in text
    assert repr(code) == "InstallCode(16+2 bytes, ****)"
    assert repr(key) == "LinkKey(****)"


def test_logging_never_shows_the_secret(caplog: pytest.LogCaptureFixture) -> None:
    code = InstallCode.parse(CODE_HEX)
    logger = logging.getLogger("meterbench.test.installcode")
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.info("code %s key %r", code, code.link_key())
        logger.debug("as object: %s", {"code": code, "key": code.link_key()})
    text = caplog.text
    assert "****" in text
    for secret in _hex_fragments(code):
        assert secret not in text


def test_equality_hash_and_pickle() -> None:
    a = InstallCode.parse(CODE_HEX)
    b = InstallCode.parse(CODE_HEX + CRC_BYTES_HEX)
    assert a == b
    assert hash(a) == hash(b)
    assert a != InstallCode(bytes(16))
    assert pickle.loads(pickle.dumps(a)) == a
    assert pickle.loads(pickle.dumps(a.link_key())) == a.link_key()
    assert a != CODE_HEX  # no accidental equality with its text


# --- generation and round trips -------------------------------------------------------------


def test_generate_is_deterministic_from_seed() -> None:
    first = InstallCode.generate(random.Random(42))
    again = InstallCode.generate(random.Random(42))
    other = InstallCode.generate(random.Random(43))
    assert first == again
    assert first != other
    assert len(first) == 16


@pytest.mark.parametrize("length", CODE_LENGTHS)
def test_generate_lengths(length: int) -> None:
    assert len(InstallCode.generate(random.Random(0), length=length).code) == length


_separators = st.sampled_from(["", " ", "-", ":"])


def _spell(data: bytes, sep: str, group: int, lower: bool) -> str:
    text = data.hex()
    text = text if lower else text.upper()
    chunks = [text[i : i + group * 2] for i in range(0, len(text), group * 2)]
    return sep.join(chunks)


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    length=st.sampled_from(CODE_LENGTHS),
    sep=_separators,
    group=st.sampled_from([1, 2, 4]),
    lower=st.booleans(),
)
def test_round_trip_with_crc(seed: int, length: int, sep: str, group: int, lower: bool) -> None:
    code = InstallCode.generate(random.Random(seed), length=length)
    text = _spell(code.with_crc, sep, group, lower)
    assert InstallCode.parse(text, has_crc=True) == code
    if length != 6:  # 8 bytes with CRC is ambiguous without the flag
        assert InstallCode.parse(text) == code


@given(
    seed=st.integers(min_value=0, max_value=2**32),
    length=st.sampled_from(CODE_LENGTHS),
    sep=_separators,
    group=st.sampled_from([1, 2, 4]),
)
def test_round_trip_without_crc(seed: int, length: int, sep: str, group: int) -> None:
    code = InstallCode.generate(random.Random(seed), length=length)
    text = _spell(code.code, sep, group, lower=False)
    assert InstallCode.parse(text, has_crc=False) == code
    if length != 8:
        assert InstallCode.parse(text) == code
    assert InstallCode.parse(code.reveal(), has_crc=True) == code


@given(
    code=st.sampled_from(CODE_LENGTHS).flatmap(lambda n: st.binary(min_size=n, max_size=n)),
    flip=st.integers(min_value=0, max_value=15),
)
def test_any_single_bit_error_in_crc_is_caught(code: bytes, flip: int) -> None:
    ic = InstallCode(code)
    damaged = bytearray(ic.with_crc)
    damaged[-2 + flip // 8] ^= 1 << (flip % 8)
    with pytest.raises(InstallCodeCrcError):
        InstallCode.parse(damaged.hex(), has_crc=True)


@given(code=st.binary(min_size=16, max_size=16))
def test_repr_never_contains_the_code(code: bytes) -> None:
    ic = InstallCode(code)
    assert ic.reveal() not in repr(ic)
    assert ic.link_key().hex() not in repr(ic.link_key())
