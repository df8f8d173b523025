"""The console in a real browser (Playwright driving the system's Chromium): sign in, start a
campaign on the emulated fast bench, answer its prompts by typing the label as a scanner
would, watch the device move through its stages, see its verdict and its page; an RSA cannot
start a campaign that resets; a refused sign-in is in the audit trail.

Needs the ``console-test`` extra (playwright) and ``/usr/bin/chromium`` (Debian's chromium
package); skipped without them, never downloading a browser.  Screenshots of the main pages
go to ``$MB_SHOTS_DIR`` (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.console.app import create_app
from tests.console.conftest import PASSWORDS, Kit
from tests.console.test_auth import FAST_BENCH
from tests.console.test_prompts import serving

sync_api = pytest.importorskip("playwright.sync_api", reason="the console-test extra "
                               "(playwright) is not installed")
CHROMIUM = Path(os.environ.get("MB_CHROMIUM", "/usr/bin/chromium"))
if not CHROMIUM.exists():
    if os.environ.get("MB_REQUIRE_CHROMIUM") == "1":  # CI installed it: a skip would hide this
        raise RuntimeError(f"MB_REQUIRE_CHROMIUM=1 but no Chromium at {CHROMIUM}")
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("MB_SHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                     args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def sign_in(page: object, base: str, name: str, password: str | None = None) -> None:
    page.goto(f"{base}/signin")  # type: ignore[attr-defined]
    page.fill('input[name="name"]', name)  # type: ignore[attr-defined]
    page.fill('input[name="password"]', password or PASSWORDS[name])  # type: ignore[attr-defined]
    page.click('#signin button[type="submit"]')  # type: ignore[attr-defined]


def test_a_campaign_run_from_the_browser(kit: Kit, browser: object, shots: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(kit.settings([FAST_BENCH], base_url=base, time_scale=10))
    with serving(app, port):
        page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
        sign_in(page, base, "ann", "not-her-password")
        assert "Sign-in refused" in page.inner_text("#signin-error")
        page.screenshot(path=str(shots / "signin-refused.png"))
        sign_in(page, base, "ann")
        page.wait_for_selector("#live.on")  # the event stream is open
        page.fill('form.start[data-bench="emulated-fast"] input[name="devices"]', "1")
        page.click('form.start[data-bench="emulated-fast"] button')
        page.wait_for_selector('form.start[data-bench="emulated-fast"] button:disabled')
        stages: set[str] = set()
        amps_seen = False
        labelled = ""
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            for li in page.query_selector_all("#bench-emulated-fast ul.now li"):
                text = li.inner_text()  # "item1: diagnostics (0:02, 18.1 mA)"
                stages.add(text.split(": ", 1)[1].split(" (")[0])
                amps_seen = amps_seen or text.endswith(" mA)") or text.endswith(" A)")
            if page.query_selector('#bench-emulated-fast[data-state="finished"]'):
                break
            form = page.query_selector("#prompt-list form.prompt")
            if form is None:
                page.wait_for_timeout(100)
                continue
            try:
                kind = form.get_attribute("data-kind")
                if kind == "label":
                    if not labelled:
                        page.screenshot(path=str(shots / "line-prompt.png"))
                    labelled = form.inner_text().rsplit("label reads ", 1)[1].split()[0]
                    # The field has the focus: type as a keyboard-wedge scanner does, then Enter.
                    assert page.evaluate("document.activeElement.name") == "reply"
                    page.keyboard.type(labelled)
                    page.keyboard.press("Enter")
                elif kind == "inspect":
                    form.query_selector('input[name="reply"]').press("Enter")  # all sound
                else:
                    form.query_selector("button.done").click()
            except sync_api.Error as exc:  # the live view redrew the prompt: look again
                if "not attached" not in str(exc):
                    raise
                continue
            page.wait_for_load_state()
        else:
            pytest.fail("the campaign did not finish in 90 s")
        assert labelled, "no label prompt was asked"
        assert len(stages) >= 2, f"the device was not seen moving through its stages: {stages}"
        assert amps_seen, "no live current draw was shown"
        page.screenshot(path=str(shots / "line-finished.png"))
        page.click("#bench-emulated-fast a[href^='/campaigns/']")
        page.wait_for_selector("#verdict-counts")
        counts = page.inner_text("#verdict-counts")
        assert "all 1" in counts
        page.screenshot(path=str(shots / "campaign.png"), full_page=True)
        page.click("#devices a[href^='/devices/']")
        facts = page.inner_text("#facts")
        assert labelled in facts
        verdict = page.inner_text("#facts td[class^='v-']")
        assert verdict in ("NO_FAULT_FOUND", "FAULT", "INCONCLUSIVE")
        assert page.inner_text("#disposition")
        # The current-draw chart is an image of its own, fetched after the page.
        page.wait_for_function("document.querySelector('img[alt=\"Current draw from "
                               "power-on\"]')?.naturalWidth > 0")
        page.screenshot(path=str(shots / "device.png"), full_page=True)
        page.goto(f"{base}/devices?q={labelled}")
        assert "1 in all" in page.inner_text("main")
        tablet = browser.new_page(viewport={"width": 768, "height": 1024})  # type: ignore[attr-defined]
        sign_in(tablet, base, "ann")
        tablet.wait_for_selector("#live.on")
        tablet.screenshot(path=str(shots / "line-tablet.png"), full_page=True)

        rsa = browser.new_context().new_page()  # type: ignore[attr-defined]
        sign_in(rsa, base, "bob")
        rsa.click('form.start[data-bench="emulated-fast"] button')
        refused = rsa.inner_text("#refused")
        assert "role 'rsa'" in refused and "eligible: supplier" in refused
        rsa.screenshot(path=str(shots / "start-refused.png"))
        page.goto(f"{base}/audit")
        trail = page.inner_text("#audit")
        page.screenshot(path=str(shots / "audit.png"), full_page=True)
    assert "sign in\trefused" in trail
    entries = kit.audit()
    assert ("ann", "none", "sign in", "refused") in entries
    assert ("bob", "rsa", "start campaign", "refused") in entries
    assert ("ann", "supplier", "start campaign", "done") in entries
    assert sum(e[2] == "answer prompt" and e[0] == "ann" for e in entries) >= 2


def test_another_hosts_bench_on_the_line(kit: Kit, browser: object, shots: Path,
                                         postgres_url: str) -> None:
    from harness.results.bench_owner import FacilityBenchLock
    from harness.results.store import ResultStore

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = kit.settings([FAST_BENCH], base_url=base)
    settings.db, settings.facility_poll_s = postgres_url, 0.1
    with ResultStore.open(postgres_url) as store:
        cid = store.start_campaign(bench="bench-B", operator="dan", role="supplier",
                                   batch_name="week-49.csv")
        far = FacilityBenchLock(store, "bench-B").acquire(campaign_id=cid)  # another host's
        far.set_device("item7", cid)
        far.set_live(stage="diagnostics", amps=0.0181)
        with serving(create_app(settings), port):
            page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
            sign_in(page, base, "ann")
            page.wait_for_selector("#live.on")
            card = page.wait_for_selector("#facility-bench-bench-B")
            text = card.inner_text()
            assert "on " in text and f"pid {os.getpid()}" in text and "RUNNING" in text.upper()
            assert "item7: diagnostics (" in text and "18.1 mA" in text
            assert f"campaign #{cid}" in text
            assert page.query_selector('form.start[data-bench="bench-B"]') is None  # not ours
            far.set_live(stage="reset", amps=0.25)  # it moves on: the card follows, live
            page.wait_for_selector("#facility-bench-bench-B ul.now li:has-text('item7: reset')")
            assert "250.0 mA" in page.inner_text("#facility-bench-bench-B")
            page.screenshot(path=str(shots / "line-facility.png"), full_page=True)
            far.release()
            page.wait_for_selector("#facility-bench-bench-B", state="detached")


def test_an_answered_prompt_hands_the_focus_to_the_next(kit: Kit, browser: object) -> None:
    """Two prompts wait; once the first is answered, the focus is in the next prompt's field,
    where a scanner's keystrokes must land."""
    from tests.console.test_prompts import TOKEN, pretend_running

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(kit.settings([FAST_BENCH], base_url=base))
    pretend_running(app)
    with serving(app, port), httpx.Client(base_url=base) as run:
        for body in ({"key": "item1", "slot": "esme", "text": "Place the meter (item1) in "
                      "slot esme", "kind": "confirm"},
                     {"key": "item1", "slot": "esme", "text": "Scan or type the label of the "
                      "device in slot esme", "kind": "label"}):
            assert run.post("/api/run/ask", json=body,
                            headers={"X-Console-Token": TOKEN}).status_code == 200
        page = browser.new_page(viewport={"width": 1200, "height": 900})  # type: ignore[attr-defined]
        sign_in(page, base, "ann")
        page.wait_for_selector("#live.on")
        page.wait_for_selector('#prompt-list form.prompt[data-kind="label"]')
        page.click('#prompt-list form.prompt[data-kind="confirm"] button.done')
        page.wait_for_function(
            "document.activeElement && document.activeElement.name === 'reply' && "
            "document.activeElement.closest('form').dataset.kind === 'label'", timeout=5000)
