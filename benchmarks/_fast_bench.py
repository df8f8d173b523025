"""The emulated bench files the benchmarks run on: the shipped one and a fast (socket) one.

Over RFC 2217 pyserial's client polls 50 ms for every baud change, which dwarfs what the
harness itself costs; speed figures are therefore also taken with the optical probes on plain
sockets: ``benches/emulated-fast.toml`` when the checkout has it, else a copy of
``benches/emulated.toml`` with ``transport = "socket"`` written to a temporary folder.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "benches" / "emulated.toml"
FAST = REPO / "benches" / "emulated-fast.toml"
_RFC2217 = 'transport = "rfc2217"'


def fast_bench_file(tmp: Path) -> Path:
    """The socket-transport emulated bench: the checkout's own, or a copy made in ``tmp``."""
    if FAST.exists():
        return FAST
    text = SHIPPED.read_text()
    if _RFC2217 not in text:
        raise SystemExit(f"{SHIPPED}: no optical probe with {_RFC2217} to switch to sockets")
    path = tmp / "emulated-socket.toml"
    path.write_text(text.replace(_RFC2217, 'transport = "socket"'))
    return path


def bench_files(tmp: Path, transports: list[str]) -> list[tuple[str, Path]]:
    """(optical transport, bench file) for each of ``transports`` (``socket``, ``rfc2217``)."""
    files = {"socket": lambda: fast_bench_file(tmp), "rfc2217": lambda: SHIPPED}
    unknown = sorted(set(transports) - set(files))
    if unknown:
        raise SystemExit(f"--transports: unknown {', '.join(unknown)} (socket or rfc2217)")
    return [(name, files[name]()) for name in transports]


def shown(path: Path) -> str:
    """A bench file as the tables show it: relative to the checkout when inside it."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)
