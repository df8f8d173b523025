"""MPxN arithmetic: the MPAN core's check digit (a dummy MPAN for triage and QA is still an
MPAN: its 13-digit core carries a valid check digit, GB-SMART-METERING.md)."""

from __future__ import annotations

__all__ = ["mpan_check_digit"]

_MPAN_WEIGHTS = (3, 5, 7, 13, 17, 19, 23, 29, 31, 37, 41, 43)


def mpan_check_digit(first12: str) -> int:
    """The MPAN core's check digit (MRA): weighted digit sum mod 11 mod 10."""
    return sum(int(d) * w for d, w in zip(first12, _MPAN_WEIGHTS, strict=True)) % 11 % 10
