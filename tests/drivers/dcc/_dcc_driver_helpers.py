"""Helpers for the DCC adapter's tests: an adapter for an emulated bench, a misbehaving peer."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.config.loader import default_bench_path, load_bench
from harness.config.models import InstrumentConfig
from harness.config.secrets import resolve_references
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.bench import EmulatedBench


@contextmanager
def emulated_bench(*, powered: bool = True) -> Iterator[EmulatedBench]:
    """benches/emulated.toml started, its slots powered and booted (unless ``powered=False``)."""
    bench = EmulatedBench(load_bench(default_bench_path())).start()
    try:
        if powered:
            bench.power_slots()
            deadline = time.monotonic() + 5
            while not all(d.ready for d in bench.devices.values()):
                assert time.monotonic() < deadline, "devices did not boot"
                time.sleep(0.01)
        yield bench
    finally:
        bench.stop()


def adapter_for(bench: EmulatedBench, *, sleep: Callable[[float], None] | None = None,
                **options: Any) -> DuisHttpAdapter:
    """An open adapter to the bench's emulated DCC, signing as its emulator: user."""
    config = bench.config.instruments["dcc"]
    if options:
        config = config.model_copy(update={"options": {**config.options, **options}})
    extra = {"sleep": sleep} if sleep is not None else {}
    # As the bench does: secret references resolved (emulator: ones by the emulated bench)
    # and handed to the driver, which never resolves one itself.
    secrets = resolve_references(config.options, key_path="instruments.dcc.options",
                                 emulator=lambda key: bench.secret("dcc", key))
    return DuisHttpAdapter("dcc", config, bench.addresses["dcc"], secrets=secrets,
                           **extra).open()


class SilentPeer:
    """A TCP server that reads each HTTP request whole, then hangs up without answering
    (``answer`` may answer instead): delivery the client cannot confirm."""

    def __init__(self, answer: Callable[[bytes], bytes | None] = lambda body: None) -> None:
        self.answer = answer
        self.requests: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The peer's base URL."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def _serve(self) -> None:
        """Accept, read one request whole, answer or hang up."""
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length"))
                while len(body) < length:
                    body += conn.recv(65536)
                self.requests.append(body)
                reply = self.answer(body)
                if reply is not None:
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\n"
                                 b"Content-Length: " + str(len(reply)).encode() +
                                 b"\r\nConnection: close\r\n\r\n" + reply)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)


def bench_secrets(config: InstrumentConfig) -> dict[str, str]:
    """What a bench hands a DCC driver: its options' secret references resolved (env:, file:)."""
    return resolve_references(config.options, key_path="instruments.dcc.options")


def instrument_config(**options: Any) -> InstrumentConfig:
    """A DCC instrument's configuration with a real address (not emulated); its receiving
    endpoint is plain HTTP on loopback (said explicitly) unless ``options`` say otherwise."""
    return InstrumentConfig(kind="dcc", backend="duis", address="http://127.0.0.1:1",
                            timeout_s=1.0, options={"receive_plain_http": True, **options})
