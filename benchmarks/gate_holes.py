"""Issue 12 section 3, as counts: every way of putting a reset on the wire, and what got there.

Usage: ``python benchmarks/gate_holes.py``.  On the emulated bench, each attempt below is made
and the emulated ESME's own log of the W1/E2 frames it received is counted, with the audit
entries it left; a hole would show as frames on the wire with no gate, or no audit entry.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from harness.bench.session import BenchSession
from harness.drivers.dcc.base import DccAdapter
from harness.errors import AccessDeniedError, MeterbenchError
from harness.qa import power_up
from harness.triage.audit import AuditLog
from harness.triage.gate import Gate


class Frames(logging.Handler):
    """Counts the frames that change a meter, as the emulated meters log them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("optical port received"):
            self.count += 1


def main() -> None:
    """Make each attempt and print one line per attempt: outcome, frames, audit entries."""
    frames = Frames()
    logger = logging.getLogger("meterbench.emulator.optical")
    logger.setLevel(logging.INFO)
    logger.addHandler(frames)
    folder = Path(tempfile.mkdtemp(prefix="gate-holes-"))
    log = AuditLog.open(f"sqlite:///{folder / 'audit.db'}", create=True)
    with BenchSession.from_file(None) as session:
        bench = session.bench
        assert bench is not None and session.emulator is not None
        slot = bench.slot("esme")
        power_up(slot)
        device = session.emulator.devices["esme"]
        while not device.ready:
            time.sleep(0.02)
        password = slot.secrets()["optical_password"]
        supplier = Gate.open(session.config, role="supplier", operator="ann", audit=log)
        rsa = Gate.open(session.config, role="rsa", operator="bob", audit=log)
        rsa.watch_refusals()

        def direct_probe() -> None:
            with slot.instrument("optical").programming(password) as s:  # type: ignore[attr-defined]
                s.execute("RST.CERT")

        attempts: list[tuple[str, Callable[[], object]]] = [
            ("profile with no gate: reset_certificates()",
             lambda: slot.profile().reset_certificates()),
            ("probe called directly: E2 RST.CERT", direct_probe),
            ("profile with an RSA's gate: reset_certificates()",
             lambda: slot.profile(gate=rsa).reset_certificates()),
            ("profile with an RSA's gate: set_supply('disabled')",
             lambda: slot.profile(gate=rsa).set_supply("disabled")),
            ("DCC adapter called directly: 8.3 Decommission",
             lambda: bench.instrument("dcc", DccAdapter).decommission(device.eui64)),
            ("profile with a supplier's gate: reset_certificates()",
             lambda: slot.profile(gate=supplier).reset_certificates()),
        ]
        print(f"{'attempt':<55} {'outcome':<9} frames  audit entries")
        for name, attempt in attempts:
            before_frames = frames.count
            before = len(list(log.entries()))
            try:
                attempt()
                outcome = "done"
            except AccessDeniedError:
                outcome = "refused"
            except MeterbenchError as exc:
                outcome = f"error: {exc}"[:9]
            entries = list(log.entries())[before:]
            kinds = Counter(e.outcome for e in entries)
            print(f"{name:<55} {outcome:<9} {frames.count - before_frames:>6}  "
                  + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none"))
        rsa.close()


if __name__ == "__main__":
    main()
