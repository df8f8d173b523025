"""The DUIS RequestID: originator EUI-64, target EUI-64 and a counter.

Form: GB-SMART-METERING.md, "DUIS messages" (``90-B3-D5-1F-30-01-00-00:00-DB-...:1000``);
exact pattern (dashed hex pairs, counter 0..2**64-1): ``RequestIDType`` in DCC's DUIS Schema
V5.4.  The same form is DUIS's ``ResponseIDType``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.domain.eui64 import DUIS_PATTERN, eui64_duis, normalise_eui64
from harness.errors import ProtocolError

__all__ = ["COUNTER_MAX", "RequestId"]

COUNTER_MAX = 2**64 - 1
"""Largest counter the schema's pattern allows (18446744073709551615)."""

_REQUEST_ID = re.compile(rf"^({DUIS_PATTERN}):({DUIS_PATTERN}):(0|[1-9][0-9]{{0,19}})$")


@dataclass(frozen=True)
class RequestId:
    """A parsed RequestID; EUI-64s are kept as 16 upper-case hex digits."""

    originator: str
    target: str
    counter: int

    def __post_init__(self) -> None:
        # Accept any separator style on construction, store the compact normalised form.
        object.__setattr__(self, "originator", normalise_eui64(self.originator))
        object.__setattr__(self, "target", normalise_eui64(self.target))
        if isinstance(self.counter, bool) or not isinstance(self.counter, int):
            raise ValueError(f"RequestID counter must be an int, not {self.counter!r}")
        if not 0 <= self.counter <= COUNTER_MAX:
            raise ValueError(f"RequestID counter {self.counter} is outside 0..{COUNTER_MAX}")

    @classmethod
    def parse(cls, text: str) -> RequestId:
        """Parse ``EUI:EUI:counter`` as DUIS writes it; a ``ProtocolError`` (a ValueError)
        names the fault."""
        match = _REQUEST_ID.fullmatch(text.strip())
        if not match:
            shown = text if len(text) <= 80 else f"{text[:80]}... ({len(text)} characters)"
            raise ProtocolError(
                f"not a DUIS RequestID {shown!r} (expected originator:target:counter, each "
                "EUI-64 as eight dash-separated hex pairs, counter a decimal integer)"
            )
        originator, target, counter = match.groups()
        try:
            return cls(originator, target, int(counter))
        except ValueError as exc:  # a counter above 2**64-1
            raise ProtocolError(str(exc)) from None

    def __str__(self) -> str:
        return f"{eui64_duis(self.originator)}:{eui64_duis(self.target)}:{self.counter}"

    def response_id(self) -> RequestId:
        """The ResponseID a device's response carries: target and originator swapped.

        As in DCC Boxed's Read Firmware Version response (dccboxed-signing-tool test
        resources, readfw-response.xml).
        """
        return RequestId(self.target, self.originator, self.counter)
