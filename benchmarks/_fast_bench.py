"""The emulated bench files the benchmarks run on: the shipped one and the fast one.

Over RFC 2217 pyserial's client polls 50 ms for every baud change, which dwarfs what the
harness itself costs; speed figures are therefore taken on the fast bench
(``benches/emulated-fast.toml``, its optical probes in process: ``transport = "inprocess"``),
or, when the checkout has none, on a copy of ``benches/emulated.toml`` with that transport
written to a temporary folder. ``socket`` is the fast bench with its probes on plain sockets
instead (each exchange then costs two thread wake-ups).
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "benches" / "emulated.toml"
FAST = REPO / "benches" / "emulated-fast.toml"
_RFC2217 = 'transport = "rfc2217"'
_IN_PROCESS = 'transport = "inprocess"'
TRANSPORTS = ("inprocess", "socket", "rfc2217")


def fast_bench_file(tmp: Path, transport: str = "inprocess") -> Path:
    """The fast bench with its optical probes on ``transport`` (``inprocess`` or
    ``socket``): the checkout's own, or a copy made in ``tmp``."""
    source, mark = (FAST, _IN_PROCESS) if FAST.exists() else (SHIPPED, _RFC2217)
    if source == FAST and transport == "inprocess":
        return FAST
    text = source.read_text()
    if mark not in text:
        raise SystemExit(f"{source}: no optical probe with {mark} to switch to {transport}")
    path = tmp / f"emulated-{transport}.toml"
    path.write_text(text.replace(mark, f'transport = "{transport}"'))
    return path


def bench_files(tmp: Path, transports: list[str]) -> list[tuple[str, Path]]:
    """(optical transport, bench file) for each of ``transports`` (TRANSPORTS)."""
    unknown = sorted(set(transports) - set(TRANSPORTS))
    if unknown:
        raise SystemExit(f"--transports: unknown {', '.join(unknown)} "
                         f"({', '.join(TRANSPORTS)})")
    return [(name, SHIPPED if name == "rfc2217" else fast_bench_file(tmp, name))
            for name in transports]


def shown(path: Path) -> str:
    """A bench file as the tables show it: relative to the checkout when inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)
