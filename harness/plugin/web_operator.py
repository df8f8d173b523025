"""The person at the bench, answering in the operator console (``meterbench console``).

When the console starts a campaign it sets ``MB_CONSOLE_URL`` and ``MB_CONSOLE_TOKEN`` in the
run's environment; the run's operator is then a :class:`WebOperator`: the same prompts as the
terminal's (:class:`~harness.plugin.operator.ConsoleOperator`, whose steps and replies it keeps:
empty is done, ``s`` skips, ``a`` aborts, the label line as a scanner types it), posted to the
console and answered at whichever screen the operator stands.  Each answer is recorded as the
terminal's are, with the console account that gave it.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

from harness.plugin.operator import ConsoleOperator

if TYPE_CHECKING:
    from harness.bench.session import BenchSession

URL_ENV = "MB_CONSOLE_URL"
"""The console's base URL (loopback), set by the console for the runs it starts."""
TOKEN_ENV = "MB_CONSOLE_TOKEN"
"""The run's secret: the console accepts a run's prompts and events only with it."""
BENCH_ENV = "MB_CONSOLE_BENCH"
"""Which of the console's benches the run is on."""
POLL_S = 20.0
"""How long one request waits for an answer before asking again."""


def kind_of(text: str) -> str:
    """What a prompt asks for: ``label`` (a scanned line), ``inspect`` (words), or ``confirm``."""
    if text.startswith("Scan or type the label"):
        return "label"
    if text.startswith("Inspect the hub"):
        return "inspect"
    return "confirm"


def post_json(url: str, token: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    """POST ``body`` as JSON with the run's token; the JSON reply."""
    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "X-Console-Token": token})
    with urllib.request.urlopen(request, timeout=timeout) as reply:
        data: dict[str, Any] = json.loads(reply.read().decode("utf-8"))
        return data


class WebOperator(ConsoleOperator):
    """Prompts in the operator console; each waits ``timeout_s`` for an answer (none: skip).

    On an emulated bench the prompt also shows the emulated device's label, so a person (or a
    browser test) can type what a scanner would read off a real one."""

    uses_terminal = False

    def __init__(self, url: str, token: str, bench: str, timeout_s: float = 300.0,
                 session: BenchSession | None = None) -> None:
        super().__init__(timeout_s)
        self.url = url.rstrip("/")
        self.token = token
        self.bench = bench
        self.session = session
        self._slot: str | None = None
        self._key = self._hint = ""

    @classmethod
    def from_env(cls, session: BenchSession | None, timeout_s: float) -> WebOperator | None:
        """The console's operator when this run was started by a console, else None."""
        url, token = os.environ.get(URL_ENV), os.environ.get(TOKEN_ENV)
        if not url or not token:
            return None
        return cls(url, token, os.environ.get(BENCH_ENV, ""), timeout_s, session)

    def load(self, key: str, slot: str, hint: str, needs_probe: bool, *,
             inspect: bool = False) -> Any:
        """The terminal's prompts, in the browser (see ConsoleOperator.load)."""
        self._slot, self._key, self._hint = slot, key, hint
        return super().load(key, slot, hint, needs_probe, inspect=inspect)

    def _emulated_label(self) -> str | None:
        emulator = self.session.emulator if self.session is not None else None
        device = emulator.devices.get(self._slot) if emulator and self._slot else None
        return device.label.serial if device is not None else None

    def ask(self, text: str) -> str | None:
        """Post one prompt and wait for its answer; None after the timeout (or when the
        console cannot be reached: no answer, as a closed terminal)."""
        kind = kind_of(text)
        body = {"bench": self.bench, "key": self._key, "slot": self._slot, "hint": self._hint,
                "text": text, "kind": kind, "timeout_s": self.timeout_s,
                "emulated_label": self._emulated_label() if kind == "label" else None}
        deadline = time.monotonic() + self.timeout_s
        try:
            prompt = post_json(f"{self.url}/api/run/ask", self.token, body, 10.0)
            while (left := deadline - time.monotonic()) > 0:
                wait = min(POLL_S, left)
                reply = post_json(f"{self.url}/api/run/answer", self.token,
                                  {"id": prompt["id"], "wait_s": wait}, wait + 10.0)
                if reply.get("answered"):
                    return str(reply.get("reply", ""))  # who answered: the audit log
            post_json(f"{self.url}/api/run/answer", self.token,
                      {"id": prompt["id"], "wait_s": 0, "expire": True}, 10.0)
        except (OSError, urllib.error.URLError, ValueError, KeyError):
            return None
        return None
