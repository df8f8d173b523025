"""Operator prompts in the browser: a run's WebOperator asks through the console, a signed-in
operator answers (audited), and the run gets the terminal's outcome (done, skip, abort, the
scanned label); only a run holding its bench's token may ask."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.testclient import TestClient

from harness.console.app import create_app
from harness.plugin.operator import Answer
from harness.plugin.web_operator import WebOperator, kind_of
from tests.console.conftest import PASSWORDS, Kit, csrf_of
from tests.console.test_auth import FAST_BENCH, sign_in

TOKEN = "run-token-for-the-test"


@contextmanager
def serving(app: Starlette, port: int = 0) -> Iterator[str]:
    """The app under uvicorn on a loopback port (default: a free one); its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", timeout_graceful_shutdown=1))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def pretend_running(app: Starlette) -> None:
    """Give the bench a run's token, as starting a campaign does."""
    app.state.console.line.benches["emulated-fast"].token = TOKEN


def test_kinds_of_prompt() -> None:
    assert kind_of("Scan or type the label of the device in slot esme") == "label"
    assert kind_of("Inspect the hub in slot ch (case: ...)") == "inspect"
    assert kind_of("Place the meter (item1) in slot esme") == "confirm"


def test_only_the_runs_token_may_ask(kit: Kit) -> None:
    app = create_app(kit.settings([FAST_BENCH]))
    with TestClient(app) as client:
        body = {"key": "item1", "slot": "esme", "text": "Place it", "kind": "confirm"}
        assert client.post("/api/run/ask", json=body).status_code == 403  # no run yet
        pretend_running(app)
        assert client.post("/api/run/ask", json=body,
                           headers={"X-Console-Token": "guess"}).status_code == 403
        asked = client.post("/api/run/ask", json=body, headers={"X-Console-Token": TOKEN})
        assert asked.status_code == 200
        token = sign_in(client, "ann")
        shown = client.get("/line.json").json()["prompts"]
        assert [p["text"] for p in shown] == ["Place it"]
        pid = asked.json()["id"]
        assert client.post(f"/prompts/{pid}", data={"csrf": token, "choice": "skip"}).status_code \
            == 200
        assert client.post(f"/prompts/{pid}", data={"csrf": token}).status_code == 409
        got = client.post("/api/run/answer", json={"id": pid, "wait_s": 0},
                          headers={"X-Console-Token": TOKEN}).json()
        assert got == {"answered": True, "reply": "s", "by": "ann"}
        assert client.get("/line.json").json()["prompts"] == []
    assert kit.audit()[-1] == ("ann", "supplier", "answer prompt", "done")


def answer_each(base: str, replies: list[str], done: list[str]) -> None:
    """Sign in as ann and answer the prompts as they come, with ``replies`` in turn."""
    with httpx.Client(base_url=base) as web:
        token = csrf_of(web.get("/signin").text)
        token = csrf_of(web.post("/signin", data={"csrf": token, "name": "ann",
                                                 "password": PASSWORDS["ann"]},
                                 follow_redirects=True).text)
        deadline = time.monotonic() + 20
        while replies and time.monotonic() < deadline:
            for p in web.get("/line.json").json()["prompts"]:
                reply = replies.pop(0)
                choice = reply if reply in ("skip", "abort") else "done"
                web.post(f"/prompts/{p['id']}", data={"csrf": token, "choice": choice,
                                                      "reply": reply})
                done.append(p["text"])
            time.sleep(0.05)


@pytest.mark.parametrize(("replies", "answer", "serial"), [
    (["", "SN123 0011223344556677", ""], Answer.DONE, "SN123"),
    (["", "skip"], Answer.SKIP, None),
    (["abort"], Answer.ABORT, None),
])
def test_the_web_operator_gets_the_terminals_outcome(kit: Kit, replies: list[str],
                                                     answer: Answer, serial: str | None) -> None:
    app = create_app(kit.settings([FAST_BENCH]))
    pretend_running(app)
    with serving(app) as base:
        asked: list[str] = []
        person = threading.Thread(target=answer_each, args=(base, list(replies), asked))
        person.start()
        loading = WebOperator(base, TOKEN, "emulated-fast", timeout_s=20).load(
            "item1", "esme", "the meter", True)
        person.join(20)
    assert loading.answer is answer
    assert len(asked) == len(replies)
    if serial is not None:
        assert loading.label is not None and loading.label.serial == serial
        assert loading.label.device_id == "0011223344556677"
        assert loading.prompts[1].endswith(": SN123 0011223344556677")
    else:
        assert "by the operator at 'Place the meter (item1) in slot esme'" in loading.why \
            or "at 'Scan or type the label" in loading.why
    answers = [e for e in kit.audit() if e[2] == "answer prompt"]
    assert len(answers) == len(replies) and all(e[0] == "ann" for e in answers)


def test_no_answer_in_time_skips_the_device(kit: Kit) -> None:
    app = create_app(kit.settings([FAST_BENCH]))
    pretend_running(app)
    with serving(app) as base:
        loading = WebOperator(base, TOKEN, "emulated-fast", timeout_s=0.3).load(
            "item1", "esme", "the meter", False)
        with httpx.Client(base_url=base) as web:
            assert web.get("/line.json").status_code == 401
    assert loading.answer is Answer.SKIP and "no answer within 0.3 s" in loading.why
    assert app.state.console.line.snapshot()["prompts"] == []  # the run gave up on it


def test_a_console_that_is_gone_is_no_answer() -> None:
    loading = WebOperator("http://127.0.0.1:9", TOKEN, "b", timeout_s=1).load(
        "item1", "esme", "the meter", False)
    assert loading.answer is Answer.SKIP


def test_the_live_feed_moves_the_bench_and_says_what_to_do(kit: Kit) -> None:
    app = create_app(kit.settings([FAST_BENCH]))
    with TestClient(app) as client:
        pretend_running(app)
        sign_in(client, "ann")
        run = {"X-Console-Token": TOKEN}

        def feed(*events: dict[str, object]) -> dict[str, Any]:
            for event in events:
                assert client.post("/api/run/event", json=event, headers=run).status_code == 200
            bench: dict[str, Any] = client.get("/line.json").json()["benches"][0]
            return bench

        bench = feed({"kind": "start", "campaign_id": 7, "total": 2, "queue": ["item1", "item2"]},
                     {"kind": "stage", "device": "item1", "stage": "power"})
        assert (bench["queue"], bench["queued"]) == (["item2"], 1)
        bench = feed({"kind": "stage", "device": "item1", "stage": "diagnostics"},
                     {"kind": "stage", "device": "item2", "stage": "power"},
                     {"kind": "current", "device": "item2", "amps": 0.0213},
                     {"kind": "current", "device": "item2", "amps": "not a number"},
                     {"kind": "verdict", "device": "item1", "verdict": "FAULT",
                      "category": "tamper/physical", "why": "TRI-DIAG-03: cover opened"})
    assert bench["state"] == "running" and bench["campaign_id"] == 7
    assert (bench["done"], bench["total"]) == (1, 2)
    assert (bench["queue"], bench["queued"]) == ([], 0)
    assert [(d["device"], d["stage"], d["amps"]) for d in bench["devices"]] == \
        [("item2", "power", 0.0213)]
    [attention] = bench["attention"]
    assert attention["device"] == "item1" and attention["bin"] == "quarantine bin (evidence)"
    assert "cover opened" in attention["why"]
