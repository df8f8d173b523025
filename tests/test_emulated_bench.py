"""The emulated bench serves every instrument kind it knows, reachable by the real drivers."""

from __future__ import annotations

from pathlib import Path

from harness.bench.check import check_bench
from harness.bench.session import BenchSession
from harness.config.loader import default_bench_path

RELAY = """
[instruments.relay]
kind = "relay"
backend = "usb-hid"
emulated = true
options = { channels = 4 }
"""


def test_a_bench_with_an_emulated_relay_board(tmp_path: Path) -> None:
    path = tmp_path / "with-relay.toml"
    path.write_text(default_bench_path().read_text() + RELAY)
    session = BenchSession.from_file(path)
    try:
        bench = session.open()
        relay = bench.instrument("relay")
        relay.set(2, True)  # type: ignore[attr-defined]
        assert relay.states() == {1: False, 2: True, 3: False, 4: False}  # type: ignore[attr-defined]
        assert "USBRelay4" in relay.identify()
    finally:
        session.close()


def test_every_instrument_of_the_default_bench_identifies() -> None:
    session = BenchSession.from_file(default_bench_path())
    try:
        results = check_bench(session)
    finally:
        session.close()
    assert {r.name for r in results} == {"psu", "probe_esme", "probe_gsme", "port_ch",
                                            "dongle", "dcc"}
    assert all(r.ok for r in results), results
