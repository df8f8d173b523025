"""A-XDR COSEM data, OBIS codes and COSEM date-time: published encodings and round trips.

Sources of the vectors:
  [DLMS-COSEM] github.com/u9n/dlms-cosem tests: test_a_xdr.py (LTE monitoring and GSM
      diagnostic structures, get_axdr_length), test_dlms_data.py (Kamstrup HAN visible strings),
      test_time.py (date-time with deviation), test_dlms_date_time_data.py (date, time).
  [BLUE BOOK] DLMS UA 1000-1 / IEC 62056-6-2 4.1.6.1: deviation in minutes local time to UTC,
      0x8000 = not specified; OBIS 1.0.1.8.0.255 (active energy import, IEC 62056-6-1).
"""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocols.dlms import AxdrError, CosemDateTime, Data, DataType, DlmsError, Obis
from harness.protocols.dlms.axdr import (
    decode_data,
    decode_data_at,
    decode_length,
    encode_data,
    encode_length,
)

D = DataType


def test_lte_monitoring_structure() -> None:
    """[DLMS-COSEM] test_lte_monitoring_quality_of_service."""
    raw = b"\x02\x05\x12\x02\xd0\x12\x0c\xa8\x11\x12\x11\x1e\x0f\xc0"
    value = decode_data(raw)
    assert value == Data.structure(Data(D.LONG_UNSIGNED, 720), Data(D.LONG_UNSIGNED, 3240),
                                   Data(D.UNSIGNED, 18), Data(D.UNSIGNED, 30),
                                   Data(D.INTEGER, -64))
    assert encode_data(value) == raw


def test_gsm_diagnostic_cell_info() -> None:
    """[DLMS-COSEM] test_gsm_diagnistics_cell_info."""
    raw = (b"\x02\x07\x06\x00\x00\x00\x00\x12\x00\x00\x11\x00\x11\x00\x12\x00\x00\x12\x00\x00"
           b"\x12\x00\x00")
    value = decode_data(raw)
    assert [item.type for item in value.value] == [D.DOUBLE_LONG_UNSIGNED, D.LONG_UNSIGNED,
                                                  D.UNSIGNED, D.UNSIGNED, D.LONG_UNSIGNED,
                                                  D.LONG_UNSIGNED, D.LONG_UNSIGNED]
    assert encode_data(value) == raw


@pytest.mark.parametrize(("raw", "text"), [(b"\n\x0eKamstrup_V0001", "Kamstrup_V0001"),
                                           (b"\n\x105706567196382485", "5706567196382485")])
def test_kamstrup_visible_strings(raw: bytes, text: str) -> None:
    """[DLMS-COSEM] test_dlms_data.py, Kamstrup HAN port."""
    assert decode_data(raw) == Data(D.VISIBLE_STRING, text)
    assert encode_data(Data(D.VISIBLE_STRING, text)) == raw


def test_date_and_time_octet_strings() -> None:
    """[DLMS-COSEM] test_dlms_date_time_data.py: date 1a 07e8 0b 15 ff, time 1b 08 1e 0f 17."""
    assert decode_data(bytes.fromhex("1a07e80b15ff")) == Data(D.DATE, bytes.fromhex(
        "07e80b15ff"))
    assert encode_data(Data(D.TIME, bytes.fromhex("081e0f17"))) == bytes.fromhex("1b081e0f17")
    with pytest.raises(AxdrError, match="5 bytes"):
        Data(D.DATE, b"\x07\xe8")


@pytest.mark.parametrize(("raw", "when"), [
    ("07e40101ff000300 00ff8800", dt.datetime(2020, 1, 1, 0, 3,
                                             tzinfo=dt.timezone(dt.timedelta(hours=2)))),
    ("07e40106ff000300 00ffc400", dt.datetime(2020, 1, 6, 0, 3,
                                             tzinfo=dt.timezone(dt.timedelta(hours=1)))),
    ("07e2020cff000000 00800000", dt.datetime(2018, 2, 12)),
])
def test_cosem_date_time(raw: str, when: dt.datetime) -> None:
    """[DLMS-COSEM] test_time.py; deviation -120 is UTC+2 per [BLUE BOOK]."""
    data = bytes.fromhex(raw.replace(" ", ""))
    value = CosemDateTime.from_bytes(data)
    assert value.to_datetime() == when
    assert value.to_bytes() == data
    assert CosemDateTime.from_datetime(when).deviation == value.deviation


def test_cosem_date_time_from_datetime_and_unspecified_fields() -> None:
    when = dt.datetime(2026, 12, 5, 7, 30, 15, 250000, tzinfo=dt.UTC)
    value = CosemDateTime.from_datetime(when)
    assert value.weekday == 6 and value.deviation == 0 and value.hundredths == 25
    assert CosemDateTime.from_bytes(value.to_bytes()).to_datetime() == when
    blank = CosemDateTime.from_bytes(b"\xff" * 9 + b"\x80\x00\xff")
    assert blank.year is None and blank.deviation is None and blank.clock_status is None
    with pytest.raises(AxdrError, match="unspecified"):
        blank.to_datetime()
    with pytest.raises(AxdrError, match="not a date"):
        CosemDateTime(2026, 2, 30, 0, 0, 0).to_datetime()
    with pytest.raises(AxdrError, match="month"):
        CosemDateTime(2026, 0, 1, 0, 0, 0).to_bytes()


@pytest.mark.parametrize(("length", "wire"), [(0, "00"), (0x7F, "7f"), (0x80, "8180"),
                                              (0x0F0F, "820f0f"), (0x10000, "83010000")])
def test_length_forms(length: int, wire: str) -> None:
    """Short and long forms; 82 0f 0f from [DLMS-COSEM] test_get_axdr_length."""
    assert encode_length(length) == bytes.fromhex(wire)
    assert decode_length(bytes.fromhex(wire), 0) == (length, len(wire) // 2)


def test_long_octet_string_uses_the_long_length_form() -> None:
    raw = encode_data(Data(D.OCTET_STRING, b"x" * 300))
    assert raw[:4] == bytes.fromhex("0982012c")
    assert decode_data(raw).value == b"x" * 300


def test_every_simple_type_encodes_as_the_blue_book_says() -> None:
    cases = [(Data(D.NULL_DATA), "00"), (Data(D.BOOLEAN, True), "03ff"),
             (Data(D.BOOLEAN, False), "0300"), (Data(D.DOUBLE_LONG, -2), "05fffffffe"),
             (Data(D.DOUBLE_LONG_UNSIGNED, 5009), "0600001391"),
             (Data(D.INTEGER, -1), "0fff"), (Data(D.LONG, -300), "10fed4"),
             (Data(D.UNSIGNED, 200), "11c8"), (Data(D.LONG_UNSIGNED, 0x1234), "121234"),
             (Data(D.LONG64, -1), "14" + "ff" * 8), (Data(D.LONG64_UNSIGNED, 1), "15" + "00" *
                                                     7 + "01"),
             (Data(D.ENUM, 30), "161e"), (Data(D.BCD, 0x12), "0d12"),
             (Data(D.FLOAT32, 1.5), "173fc00000"), (Data(D.FLOAT64, -2.0), "18c000000000000000"),
             (Data(D.BIT_STRING, (True, False, True, True, False, False, False, False, True)),
              "0409b080"),
             (Data(D.UTF8_STRING, "é"), "0c02c3a9"), (Data(D.OCTET_STRING, b""), "0900"),
             (Data.array(Data(D.UNSIGNED, 1)), "01011101")]
    for value, wire in cases:
        assert encode_data(value) == bytes.fromhex(wire), value
        assert decode_data(bytes.fromhex(wire)) == value


@pytest.mark.parametrize(("data_type", "value"), [
    (D.UNSIGNED, 256), (D.INTEGER, -129), (D.BOOLEAN, 1), (D.LONG_UNSIGNED, True),
    (D.OCTET_STRING, "text"), (D.VISIBLE_STRING, "é"), (D.STRUCTURE, [Data(D.NULL_DATA)]),
    (D.NULL_DATA, 0), (D.COMPACT_ARRAY, ()), (D.FLOAT32, 1e39), (D.BIT_STRING, (1, 0)),
])
def test_values_that_do_not_fit_their_type(data_type: DataType, value: object) -> None:
    with pytest.raises(AxdrError):
        Data(data_type, value)


@pytest.mark.parametrize(("raw", "message", "offset"), [
    ("07", "unknown data type tag 7", 0), ("1300", "compact-array", 0),
    ("0601", "truncated", 2), ("0104110111", "4 elements", 1),
    ("0985", "length of 5 bytes", 1), ("0a02c3a9", "not ascii", 2),
    ("1101ff", "after the value", 2), ("", "missing data", 0),
])
def test_malformed_data_names_the_byte(raw: str, message: str, offset: int) -> None:
    with pytest.raises(AxdrError, match=message) as error:
        decode_data(bytes.fromhex(raw))
    assert error.value.offset == offset


def test_depth_and_size_guards() -> None:
    deep = bytes.fromhex("0101") * 20 + b"\x00"
    with pytest.raises(AxdrError, match="too deep"):
        decode_data(deep)
    assert decode_data(deep, max_depth=20).type is D.ARRAY
    many = b"\x01\x82\x03\xe8" + b"\x00" * 1000
    with pytest.raises(AxdrError, match="too many values"):
        decode_data(many, max_items=500)
    bomb = b"\x01\x84\xff\xff\xff\xff" + b"\x00" * 10  # 4 billion elements claimed
    with pytest.raises(AxdrError, match="elements in 10 bytes"):
        decode_data(bomb)


def test_decode_at_an_offset_inside_an_apdu() -> None:
    apdu = bytes.fromhex("c401c1000600001391")
    assert decode_data_at(apdu, 4) == (Data(D.DOUBLE_LONG_UNSIGNED, 5009), 9)


# --- OBIS ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1.0.1.8.0.255", "1-0:1.8.0*255", "1-0:1.8.0.255",
                                  " 1.0.1.8.0.255 "])
def test_obis_text_forms(text: str) -> None:
    """Active energy import total, [BLUE BOOK] / IEC 62056-6-1."""
    obis = Obis.parse(text)
    assert obis == Obis(1, 0, 1, 8, 0)
    assert str(obis) == "1.0.1.8.0.255" and obis.iec == "1-0:1.8.0*255"
    assert bytes(obis) == bytes.fromhex("0100010800ff")
    assert Obis.from_bytes(bytes(obis)) == obis


@pytest.mark.parametrize("text", ["1.0.1.8.0", "1.0.1.8.0.256", "a.b.c.d.e.f", "1-0:1.8*255",
                                  ""])
def test_bad_obis_text(text: str) -> None:
    with pytest.raises(DlmsError, match=r"OBIS|value groups"):
        Obis.parse(text)


def test_bad_obis_values() -> None:
    with pytest.raises(DlmsError):
        Obis(1, 0, 1, 8, 0, 300)
    with pytest.raises(DlmsError, match="6 bytes"):
        Obis.from_bytes(b"\x01\x00")


@given(st.tuples(*[st.integers(0, 255)] * 6))
def test_obis_round_trips(groups: tuple[int, ...]) -> None:
    obis = Obis.of(*groups)
    assert Obis.parse(str(obis)) == obis == Obis.parse(obis.iec) == Obis.from_bytes(bytes(obis))


# --- round trips --------------------------------------------------------------------------------

def _ints() -> st.SearchStrategy[Data]:
    ranges = {D.DOUBLE_LONG: (-(2**31), 2**31 - 1), D.DOUBLE_LONG_UNSIGNED: (0, 2**32 - 1),
              D.INTEGER: (-128, 127), D.LONG: (-(2**15), 2**15 - 1), D.UNSIGNED: (0, 255),
              D.LONG_UNSIGNED: (0, 65535), D.LONG64: (-(2**63), 2**63 - 1),
              D.LONG64_UNSIGNED: (0, 2**64 - 1), D.ENUM: (0, 255), D.BCD: (-128, 127)}
    return st.one_of(*[st.integers(low, high).map(lambda v, t=t: Data(t, v))
                       for t, (low, high) in ranges.items()])


leaves = st.one_of(
    st.just(Data(D.NULL_DATA)), st.booleans().map(lambda v: Data(D.BOOLEAN, v)), _ints(),
    st.lists(st.booleans(), max_size=40).map(lambda v: Data(D.BIT_STRING, tuple(v))),
    st.binary(max_size=300).map(lambda v: Data(D.OCTET_STRING, v)),
    st.text(st.characters(max_codepoint=127), max_size=40).map(
        lambda v: Data(D.VISIBLE_STRING, v)),
    st.text(max_size=20).map(lambda v: Data(D.UTF8_STRING, v)),
    st.floats(width=32, allow_nan=False).map(lambda v: Data(D.FLOAT32, v)),
    st.floats(allow_nan=False).map(lambda v: Data(D.FLOAT64, v)),
    st.binary(min_size=12, max_size=12).map(lambda v: Data(D.DATE_TIME, v)))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=5).map(lambda v: Data(D.STRUCTURE, tuple(v))),
    st.lists(inner, max_size=5).map(lambda v: Data(D.ARRAY, tuple(v)))), max_leaves=10)


@settings(max_examples=200, deadline=None)
@given(values)
def test_data_round_trips(value: Data) -> None:
    try:
        raw = encode_data(value)
    except AxdrError:  # lone surrogates in generated text are not UTF-8
        return
    again = decode_data(raw)
    assert encode_data(again) == raw
    if not _has_nan(value):
        assert again == value


def _has_nan(value: Data) -> bool:
    if isinstance(value.value, tuple):
        return any(isinstance(v, Data) and _has_nan(v) for v in value.value)
    return isinstance(value.value, float) and math.isnan(value.value)


def test_plain_values_drop_the_type_tags() -> None:
    raw = b"\x02\x05\x12\x02\xd0\x12\x0c\xa8\x11\x12\x11\x1e\x0f\xc0"  # [DLMS-COSEM] LTE QoS
    assert decode_data(raw).plain() == [720, 3240, 18, 30, -64]
    assert Data.array(Data.structure(Data(D.OCTET_STRING, b"\x01")), Data(D.NULL_DATA)
                      ).plain() == [[b"\x01"], None]
