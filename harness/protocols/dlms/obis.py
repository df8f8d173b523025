"""OBIS codes (IEC 62056-6-1) as values: six bytes A.B.C.D.E.F with their textual forms.

``Obis.parse`` reads ``"1.0.1.8.0.255"`` and the IEC form ``"1-0:1.8.0*255"`` (also
``"1-0:1.8.0.255"``); ``str()`` gives the dotted form, ``.iec`` the IEC form, ``bytes()`` /
``Obis.from_bytes`` the 6-byte logical name carried in APDUs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import astuple, dataclass

from harness.protocols.dlms.errors import DlmsError

__all__ = ["Obis"]

_DOTTED = re.compile(r"(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})")
_IEC = re.compile(r"(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})[*.](\d{1,3})")


@dataclass(frozen=True, order=True)
class Obis:
    """A logical name: the six value groups A to F, each 0..255 (F defaults to 255)."""

    a: int
    b: int
    c: int
    d: int
    e: int
    f: int = 255

    def __post_init__(self) -> None:
        groups = astuple(self)
        if not all(isinstance(g, int) and not isinstance(g, bool) and 0 <= g <= 255
                   for g in groups):
            raise DlmsError(f"obis: {groups!r} is not six value groups",
                            expected="six integers 0..255")

    def __iter__(self) -> Iterator[int]:
        return iter(astuple(self))

    @classmethod
    def parse(cls, text: str) -> Obis:
        """Read ``A.B.C.D.E.F`` or ``A-B:C.D.E*F``; anything else is a DlmsError."""
        match = _DOTTED.fullmatch(text.strip()) or _IEC.fullmatch(text.strip())
        if match is None:
            raise DlmsError(f"obis: {text!r} is not an OBIS code",
                            expected="A.B.C.D.E.F or A-B:C.D.E*F")
        return cls.of(*(int(group) for group in match.groups()))

    @classmethod
    def of(cls, *groups: int) -> Obis:
        """Build from six integers, each checked to be 0..255."""
        if len(groups) != 6:
            raise DlmsError(f"obis: {groups!r} is not six value groups",
                            expected="six integers 0..255")
        return cls(*groups)

    @classmethod
    def from_bytes(cls, data: bytes) -> Obis:
        """From the 6-byte logical name."""
        if len(data) != 6:
            raise DlmsError(f"obis: a logical name of {len(data)} bytes", expected="6 bytes")
        return cls(*data)

    def __bytes__(self) -> bytes:
        return bytes(tuple(self))

    def __str__(self) -> str:
        return ".".join(str(group) for group in self)

    @property
    def iec(self) -> str:
        """The IEC 62056-6-1 form, ``1-0:1.8.0*255``."""
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}*{self.f}"
