"""COSEM date-time, date and time (IEC 62056-6-2 4.1.6.1) as the 12/5/4-byte octet strings.

Fields that are "not specified" (0xFF, 0xFFFF, deviation 0x8000) are None.  ``deviation``
is in minutes from local time to UTC, as the Blue Book defines it: UTC+1 is -60.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.protocols.dlms.errors import AxdrError

__all__ = ["CosemDateTime"]

_NOT_SPECIFIED_DEVIATION = -0x8000


@dataclass(frozen=True)
class CosemDateTime:
    """The fields of a COSEM date-time; None where the meter says "not specified"."""

    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None
    second: int | None
    hundredths: int | None = None
    weekday: int | None = None
    deviation: int | None = None
    clock_status: int | None = None

    def to_bytes(self) -> bytes:
        """The 12-byte date-time octet string."""
        def byte(value: int | None, name: str, low: int, high: int) -> bytes:
            if value is None:
                return b"\xff"
            if not low <= value <= high:
                raise AxdrError(f"a-xdr: date-time {name} {value} out of range",
                                expected=f"{low}..{high} or None")
            return bytes((value,))

        if self.year is not None and not 0 <= self.year < 0xFFFF:
            raise AxdrError(f"a-xdr: date-time year {self.year} out of range",
                            expected="0..65534 or None")
        if self.deviation is not None and not -720 <= self.deviation <= 720:
            raise AxdrError(f"a-xdr: date-time deviation {self.deviation} out of range",
                            expected="-720..720 minutes or None")
        year = 0xFFFF if self.year is None else self.year
        deviation = _NOT_SPECIFIED_DEVIATION if self.deviation is None else self.deviation
        return (year.to_bytes(2, "big") + byte(self.month, "month", 1, 0xFE)
                + byte(self.day, "day", 1, 0xFE) + byte(self.weekday, "weekday", 1, 7)
                + byte(self.hour, "hour", 0, 23) + byte(self.minute, "minute", 0, 59)
                + byte(self.second, "second", 0, 59)
                + byte(self.hundredths, "hundredths", 0, 99)
                + deviation.to_bytes(2, "big", signed=True)
                + byte(self.clock_status, "clock status", 0, 0xFE))

    @classmethod
    def from_bytes(cls, data: bytes) -> CosemDateTime:
        """Read a 12-byte date-time octet string."""
        if len(data) != 12:
            raise AxdrError(f"a-xdr: a date-time of {len(data)} bytes", offset=0,
                            expected="12 bytes")

        def opt(value: int) -> int | None:
            return None if value == 0xFF else value

        year = int.from_bytes(data[0:2], "big")
        deviation = int.from_bytes(data[9:11], "big", signed=True)
        return cls(None if year == 0xFFFF else year, opt(data[2]), opt(data[3]), opt(data[5]),
                   opt(data[6]), opt(data[7]), opt(data[8]), opt(data[4]),
                   None if deviation == _NOT_SPECIFIED_DEVIATION else deviation, opt(data[11]))

    @classmethod
    def from_datetime(cls, value: dt.datetime, *, clock_status: int | None = 0) -> CosemDateTime:
        """From a Python datetime; an aware one gives its deviation, a naive one none."""
        offset = value.utcoffset()
        deviation = None if offset is None else -int(offset.total_seconds() // 60)
        return cls(value.year, value.month, value.day, value.hour, value.minute, value.second,
                   value.microsecond // 10000, value.isoweekday(), deviation, clock_status)

    def to_datetime(self) -> dt.datetime:
        """A Python datetime (aware when the deviation is known); AxdrError if a date or time
        field is not specified or not a real date."""
        given = (self.year, self.month, self.day, self.hour, self.minute, self.second)
        fields = [field for field in given if field is not None]
        if len(fields) != len(given):
            raise AxdrError(f"a-xdr: date-time {self} has unspecified fields",
                            expected="a fully specified date-time")
        if self.deviation is not None and not -720 <= self.deviation <= 720:
            raise AxdrError(f"a-xdr: date-time deviation {self.deviation} out of range",
                            expected="-720..720 minutes or not specified")
        tz = None if self.deviation is None else dt.timezone(
            dt.timedelta(minutes=-self.deviation))
        try:
            year, month, day, hour, minute, second = fields
            return dt.datetime(year, month, day, hour, minute, second,
                               (self.hundredths or 0) * 10000, tzinfo=tz)
        except ValueError as error:
            raise AxdrError(f"a-xdr: date-time {self} is not a date: {error}",
                            expected="a real calendar date") from None
