"""Bench and transport trouble, injected on the emulated bench's side of the wire.

Not a device fault: what a bench suffers (a garbled byte on the optical line during a baud
switch, an answer lost so the instrument times out, a supply that does not answer one query).
Tests and ``benchmarks/bench_trouble.py`` arm it to prove that triage never charges such
trouble to a device (issue 14 §2). Each counter is consumed as the trouble happens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class LineTrouble:
    """Trouble armed on one emulated instrument's line: the next ``drop`` answers are lost,
    the next ``garble`` answers (at a baud above 300 when ``after_baud_switch``) have one
    byte flipped; ``happened`` counts what was done."""

    drop: int = 0
    garble: int = 0
    after_baud_switch: bool = False
    happened: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def apply(self, data: bytes, baud: int = 300) -> bytes:
        """The answer ``data`` as the troubled line delivers it (b"" when lost)."""
        with self._lock:
            if self.drop > 0:
                self.drop -= 1
                self.happened += 1
                return b""
            if self.garble > 0 and data and (not self.after_baud_switch or baud > 300):
                self.garble -= 1
                self.happened += 1
                i = len(data) // 2
                return data[:i] + bytes([data[i] ^ 0x5A]) + data[i + 1:]
            return data

    def silence(self) -> bool:
        """Whether to swallow this answer (a query that gets none: an instrument timeout)."""
        with self._lock:
            if self.drop > 0:
                self.drop -= 1
                self.happened += 1
                return True
            return False
