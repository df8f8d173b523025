"""Console sign-in by the site's directory, against a real OpenLDAP server (Debian's slapd,
``tests/console/_slapd.py``): a simple bind as the operator's own entry; the role from the
site file (its ``users``, or the directory groups it maps to roles, never the directory's
own text); a refused directory sign-in audited and counted toward lock-out like a local one;
an empty password (an anonymous bind) refused; a directory that cannot be asked says so."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from harness.console.accounts import LockOut
from harness.console.app import create_app
from harness.errors import BenchConfigError
from harness.triage.access import read_site_access
from tests.console._slapd import PASSWORDS, PEOPLE, SUPPLIERS, Slapd, SlapdUnavailable
from tests.console.conftest import SITE, Kit, csrf_of

pytest.importorskip("ldap3", reason="the directory extra (ldap3) is not installed")


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    """A real LDAP server for this module (skipped without slapd unless MB_REQUIRE_SLAPD=1,
    which CI sets once it has installed it)."""
    try:
        server = Slapd.start()
    except SlapdUnavailable as exc:
        if os.environ.get("MB_REQUIRE_SLAPD") == "1":
            pytest.fail(f"{exc} (MB_REQUIRE_SLAPD=1)", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


def _site(kit: Kit, url: str, extra_users: str = "") -> None:
    (kit.folder / "site.yaml").write_text(
        SITE + extra_users + f'directory:\n  url: "{url}"\n  user_dn: "uid={{name}},{PEOPLE}"\n'
        f'  timeout_s: 2\n  groups:\n    "{SUPPLIERS}": [supplier]\n', encoding="utf-8")


def _post(client: TestClient, name: str, password: str) -> tuple[int, str]:
    token = csrf_of(client.get("/signin").text)
    reply = client.post("/signin", data={"csrf": token, "name": name, "password": password})
    return reply.status_code, reply.text


def test_a_directory_account_signs_in_with_the_role_its_group_maps(kit: Kit,
                                                                   slapd: Slapd) -> None:
    _site(kit, slapd.url, "  eve: [rsa]\n")
    with TestClient(create_app(kit.settings())) as c:
        assert "the site's directory (127.0.0.1)" in c.get("/signin").text
        assert _post(c, "dora", PASSWORDS["dora"])[0] == 200  # no local account: the directory
        assert "dora <small>(supplier)</small>" in c.get("/").text
        c.cookies.clear()
        assert _post(c, "eve", PASSWORDS["eve"])[0] == 200  # the site file names her: rsa
        assert "eve <small>(rsa)</small>" in c.get("/").text
        c.cookies.clear()
        assert _post(c, "ann", "ann-secret-1")[0] == 200  # local accounts still sign in
    entries = kit.audit()
    assert ("dora", "supplier", "sign in", "done") in entries
    assert ("eve", "rsa", "sign in", "done") in entries
    assert ("ann", "supplier", "sign in", "done") in entries


def test_the_directorys_own_text_grants_no_role(kit: Kit, slapd: Slapd) -> None:
    _site(kit, slapd.url)  # eve's entry says "title: supplier", in no mapped group
    with TestClient(create_app(kit.settings())) as c:
        assert _post(c, "eve", PASSWORDS["eve"])[0] == 200
        assert "eve <small>(none)</small>" in c.get("/").text
    assert ("eve", "none", "sign in", "done") in kit.audit()


def test_refused_directory_sign_ins_are_audited_and_lock_the_name_out(kit: Kit,
                                                                     slapd: Slapd) -> None:
    _site(kit, slapd.url)
    settings = kit.settings(lockout=LockOut(limit=3))
    with TestClient(create_app(settings)) as c:
        assert _post(c, "dora", "")[0] == 401  # an anonymous bind proves nothing
        assert _post(c, "dora", "not-her-password")[0] == 401
        status, page = _post(c, "dora", "still-not-it")
        assert status == 401 and "locked out" in page
        status, page = _post(c, "dora", PASSWORDS["dora"])  # right, but locked out now
        assert status == 401 and "is locked out" in page
        assert _post(c, "dora,ou=groups", "x")[0] == 401  # no DN injection through the name
    refused = [e for e in kit.audit() if e[0].startswith("dora") and e[3] == "refused"]
    assert len(refused) == 5 and ("dora", "supplier", "sign in", "done") not in kit.audit()


def test_a_directory_that_cannot_be_asked_refuses_without_locking_out(kit: Kit) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _site(kit, f"ldap://127.0.0.1:{port}")
    with TestClient(create_app(kit.settings(lockout=LockOut(limit=1)))) as c:
        status, page = _post(c, "dora", PASSWORDS["dora"])
        assert status == 401 and "the directory cannot be asked" in page
        assert "locked out" not in _post(c, "dora", PASSWORDS["dora"])[1]
    assert ("dora", "none", "sign in", "refused") in kit.audit()


def test_a_password_in_clear_over_the_network_is_refused_in_the_site_file(tmp_path: Path
                                                                          ) -> None:
    path = tmp_path / "site.yaml"
    path.write_text('directory:\n  url: "ldap://ldap.example.org"\n'
                    '  user_dn: "uid={name},ou=people,dc=example,dc=org"\n')
    with pytest.raises(BenchConfigError, match=r"in clear; use ldaps://, or start_tls: true"):
        read_site_access(path)
    path.write_text('directory:\n  url: "ldaps://ldap.example.org"\n  user_dn: "uid=x"\n')
    with pytest.raises(BenchConfigError, match=r"directory.user_dn"):
        read_site_access(path)
