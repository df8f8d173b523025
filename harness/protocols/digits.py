"""Strict ASCII decimal numbers for parsers of hostile bytes.

``str.isdigit()`` is true for superscripts and other scripts' digits that ``int()`` refuses or
reads differently, and ``int()`` refuses more than 4,300 digits with a ``ValueError``: a parser
that trusts either lets a stray exception out.  ``ascii_int`` checks form and length first.
"""

from __future__ import annotations

import re

__all__ = ["ascii_int"]

_DIGITS = re.compile(r"[0-9]+")


def ascii_int(text: str, max_digits: int) -> int | None:
    """``text`` as a non-negative integer if it is 1..``max_digits`` ASCII digits, else None."""
    if not 0 < len(text) <= max_digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)
