"""Access control: an RSA may read but not reset, unless a (site) table grants it by clause."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from pydantic import ValidationError

from harness.errors import AccessDeniedError, BenchConfigError
from harness.triage.access import OperatorContext, Role, authorise, check, load_site_access
from harness.triage.audit import AuditLog
from harness.triage.spec import UnknownClauseError, default_spec
from harness.triage.spec_markdown import render_markdown

DESTRUCTIVE = ["TRI-DIAG-05", "TRI-HAN-04", "TRI-RST-01", "TRI-RST-02", "TRI-RST-03", "TRI-RST-04"]
READS = [c.id for c in default_spec().clauses if not c.destructive]


def test_destructive_clauses_are_the_expected_ones() -> None:
    assert [c.id for c in default_spec().clauses if c.destructive] == DESTRUCTIVE


@pytest.mark.parametrize("clause_id", DESTRUCTIVE)
def test_rsa_is_refused_each_destructive_clause(clause_id: str) -> None:
    title = default_spec().clause(clause_id).title
    with pytest.raises(AccessDeniedError) as info:
        check("rsa", clause_id)
    message = str(info.value)
    assert "'rsa' (Registered Supplier Agent)" in message
    assert clause_id in message and title in message and "destructive" in message
    assert message.endswith("eligible: supplier, map, manufacturer")
    assert info.value.context["eligible"] == ["supplier", "map", "manufacturer"]
    assert isinstance(info.value, PermissionError)


@pytest.mark.parametrize("clause_id", READS)
def test_rsa_may_run_every_read(clause_id: str) -> None:
    check(Role.RSA, clause_id)


@pytest.mark.parametrize("role", ["supplier", "map", "manufacturer"])
def test_other_roles_may_run_everything(role: str) -> None:
    for clause in default_spec().clauses:
        check(role, clause)


def test_refusal_survives_pickling() -> None:
    with pytest.raises(AccessDeniedError) as info:
        check("rsa", "TRI-RST-01")
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.context["clause"] == "TRI-RST-01"


def test_roles_and_operator_context() -> None:
    assert Role.parse(" RSA ") is Role.RSA and Role.MAP.full_name == "Meter Asset Provider"
    with pytest.raises(BenchConfigError, match="unknown role 'janitor'"):
        check("janitor", "TRI-ID-01")
    ann = OperatorContext(name=" Ann ", role="Supplier")
    assert (ann.name, ann.role) == ("Ann", Role.SUPPLIER)
    assert ann.may("TRI-RST-01")
    bob = OperatorContext(name="bob", role=Role.RSA)
    assert not bob.may("TRI-RST-01") and bob.may("TRI-VER-01")
    with pytest.raises(AccessDeniedError):
        bob.check("TRI-RST-03")
    with pytest.raises(ValidationError):
        OperatorContext(name="  ", role="rsa")
    with pytest.raises(UnknownClauseError):
        check("supplier", "TRI-RST-99")


# -- a site's own access table -----------------------------------------------------------------


def _site(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "access.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_site_override_grants_an_rsa_one_reset_clause(tmp_path: Path) -> None:
    path = _site(tmp_path, "site: Leeds returns\naccess:\n  clauses:\n"
                           "    TRI-RST-02: [rsa, supplier]\n")
    spec = load_site_access(path)
    assert spec.site == "Leeds returns"
    assert spec.clause("TRI-RST-02").eligible == (Role.SUPPLIER, Role.RSA)
    check("rsa", "TRI-RST-02", spec=spec)
    check("rsa", default_spec().clause("TRI-RST-02"), spec=spec)  # the site's table decides
    with pytest.raises(AccessDeniedError, match="TRI-RST-01"):
        check("rsa", "TRI-RST-01", spec=spec)
    with pytest.raises(AccessDeniedError, match=r"eligible: supplier, rsa$"):
        check("map", "TRI-RST-02", spec=spec)
    # the shipped specification is untouched
    with pytest.raises(AccessDeniedError):
        check("rsa", "TRI-RST-02")
    assert "Access table of Leeds returns." in render_markdown(spec)


def test_site_override_of_the_defaults(tmp_path: Path) -> None:
    path = _site(tmp_path, "access:\n  defaults:\n    non_destructive: [supplier, map]\n")
    spec = load_site_access(path)
    with pytest.raises(AccessDeniedError, match="non-destructive"):
        check("rsa", "TRI-ID-01", spec=spec)
    check("map", "TRI-ID-01", spec=spec)
    assert spec.access.defaults.destructive == default_spec().access.defaults.destructive
    assert spec.site == str(path)


@pytest.mark.parametrize(("text", "key_path", "words"), [
    ("access:\n  clauses:\n    TRI-RST-09: [supplier]\n", "access.clauses.TRI-RST-09",
     "no clause 'TRI-RST-09'"),
    ("access:\n  clauses:\n    TRI-RST-02: [supplier, janitor]\n",
     "access.clauses.TRI-RST-02[1]", "unknown value 'janitor'"),
    ("acess:\n  clauses: {}\n", "acess", "unknown key"),
    ("access:\n  defaults:\n    destructive: rsa\n", "access.defaults.destructive",
     "expected a list"),
    ("access:\n  clauses:\n    TRI-RST-02: [rsa]\n    TRI-RST-02: [map]\n",
     "line 4, column 5", "duplicate key"),
])
def test_bad_site_file_names_file_and_key_path(tmp_path: Path, text: str, key_path: str,
                                               words: str) -> None:
    path = _site(tmp_path, text)
    with pytest.raises(BenchConfigError) as info:
        load_site_access(path)
    assert info.value.file == str(path) and info.value.key_path == key_path
    assert words in str(info.value)


def test_missing_site_file(tmp_path: Path) -> None:
    with pytest.raises(BenchConfigError, match="access file not found"):
        load_site_access(tmp_path / "nope.yaml")


def test_authorise_records_a_refusal_and_nothing_else(tmp_path: Path) -> None:
    with AuditLog.open(tmp_path / "audit.db", create=True) as log:
        rsa = OperatorContext(name="bob", role="rsa")
        with pytest.raises(AccessDeniedError):
            authorise(rsa, "TRI-RST-01", audit=log, bench="bench-1", device_id="00DB120000000001")
        clause = authorise(OperatorContext(name="ann", role="supplier"), "TRI-RST-01",
                           audit=log, bench="bench-1")
        assert clause.id == "TRI-RST-01"
        entries = list(log.entries())
    assert len(entries) == 1
    refusal = entries[0]
    assert (refusal.operator, refusal.role, refusal.clause, refusal.outcome) == (
        "bob", "rsa", "TRI-RST-01", "refused")
    assert refusal.device_id == "00DB120000000001" and refusal.bench == "bench-1"
    assert refusal.detail["eligible"] == ["supplier", "map", "manufacturer"]
