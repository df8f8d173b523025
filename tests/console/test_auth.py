"""Who is acting: sign-in audited (refused ones too), lock-out, CSRF on every form, the role
from the site file, and a destructive start refused to an ineligible role."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from harness.console.accounts import LockOut
from harness.console.app import create_app
from tests.console.conftest import PASSWORDS, Kit, csrf_of

FAST_BENCH = Path(__file__).parents[2] / "benches" / "emulated-fast.toml"


@pytest.fixture
def client(kit: Kit) -> Iterator[TestClient]:
    app = create_app(kit.settings([FAST_BENCH], lockout=LockOut(limit=3)))
    with TestClient(app) as c:
        yield c


def sign_in(client: TestClient, name: str, password: str | None = None) -> str:
    """Sign in; the new session's CSRF token."""
    token = csrf_of(client.get("/signin").text)
    reply = client.post("/signin", data={"csrf": token, "name": name,
                                         "password": password or PASSWORDS[name]})
    assert reply.status_code == 200, reply.text
    return csrf_of(reply.text)


def test_every_page_asks_for_a_sign_in_first(client: TestClient) -> None:
    for path in ("/", "/campaigns", "/devices", "/audit", "/devices/1", "/campaigns/1"):
        reply = client.get(path, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"].startswith("/signin")
    assert client.get("/events").status_code == 401
    assert client.get("/line.json").status_code == 401


def test_sign_in_and_its_refusals_are_audited_with_the_site_role(client: TestClient,
                                                                 kit: Kit) -> None:
    token = csrf_of(client.get("/signin").text)
    refused = client.post("/signin", data={"csrf": token, "name": "ann", "password": "nope"})
    assert refused.status_code == 401
    assert "unknown account or wrong password" in refused.text
    sign_in(client, "ann")
    assert kit.audit() == [("ann", "none", "sign in", "refused"),
                           ("ann", "supplier", "sign in", "done")]
    assert "ann <small>(supplier)</small>" in client.get("/").text


def test_an_unknown_name_is_refused_like_a_wrong_password(client: TestClient, kit: Kit) -> None:
    token = csrf_of(client.get("/signin").text)
    reply = client.post("/signin", data={"csrf": token, "name": "mallory", "password": "x"})
    assert reply.status_code == 401
    assert kit.audit() == [("mallory", "none", "sign in", "refused")]


def test_lock_out_refuses_even_the_right_password(client: TestClient, kit: Kit) -> None:
    token = csrf_of(client.get("/signin").text)
    for _ in range(3):
        client.post("/signin", data={"csrf": token, "name": "bob", "password": "guess"})
    reply = client.post("/signin", data={"csrf": token, "name": "bob",
                                         "password": PASSWORDS["bob"]})
    assert reply.status_code == 401 and "locked out" in reply.text
    assert client.get("/", follow_redirects=False).status_code == 303  # not signed in
    assert [e[3] for e in kit.audit()] == ["refused"] * 4
    sign_in(client, "ann")  # another name is not locked


def test_a_form_without_the_session_token_is_refused(client: TestClient, kit: Kit) -> None:
    token = csrf_of(client.get("/signin").text)
    no_token = client.post("/signin", data={"name": "ann", "password": PASSWORDS["ann"]})
    assert no_token.status_code == 403
    wrong = client.post("/signin", data={"csrf": token + "x", "name": "ann",
                                         "password": PASSWORDS["ann"]})
    assert wrong.status_code == 403
    assert kit.audit() == []  # refused before any password was checked
    sign_in(client, "ann")
    for path in ("/benches/emulated-fast/start", "/prompts/1", "/signout"):
        assert client.post(path, data={"devices": "1"}).status_code == 403, path
    assert "emulated-fast" in client.get("/").text  # still signed in, nothing started
    assert client.get("/line.json").json()["benches"][0]["state"] == "idle"


def test_a_session_token_does_not_survive_sign_in(client: TestClient) -> None:
    before = csrf_of(client.get("/signin").text)
    after = sign_in(client, "ann")
    assert before != after  # a fresh session: a token seen before sign-in is worth nothing
    assert client.post("/signout", data={"csrf": before}).status_code == 403


def test_an_rsa_may_not_start_a_campaign_that_resets(client: TestClient, kit: Kit) -> None:
    token = sign_in(client, "bob")
    reply = client.post("/benches/emulated-fast/start", data={"csrf": token, "devices": "1"})
    assert reply.status_code == 403
    text = html.unescape(reply.text)
    assert "role 'rsa' (Registered Supplier Agent) may not run TRI-RST-01" in text
    assert "eligible: supplier" in text and "nor TRI-RST-02" in text
    assert client.get("/line.json").json()["benches"][0]["state"] == "idle"
    assert kit.audit()[-1] == ("bob", "rsa", "start campaign", "refused")


def test_no_role_no_start(client: TestClient, kit: Kit) -> None:
    token = sign_in(client, "cat")
    assert "cat <small>(none)</small>" in client.get("/").text
    reply = client.post("/benches/emulated-fast/start", data={"csrf": token, "devices": "1"})
    assert reply.status_code == 403 and "granted no role" in reply.text
    assert kit.audit()[-1] == ("cat", "none", "start campaign", "refused")


def test_sign_out_is_audited_and_ends_the_session(client: TestClient, kit: Kit) -> None:
    token = sign_in(client, "ann")
    assert client.post("/signout", data={"csrf": token}, follow_redirects=False).status_code \
        == 303
    assert client.get("/", follow_redirects=False).status_code == 303
    assert kit.audit()[-1] == ("ann", "supplier", "sign out", "done")
