"""Roles come from the site, not the operator: the site file, its protection, and narrowing."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from harness.bench.session import BenchSession
from harness.config.models import BenchConfig
from harness.errors import AccessDeniedError, BenchConfigError
from harness.triage.access import Role
from harness.triage.gate import Gate
from harness.triage.site import (
    EMULATED_SITE,
    SITE_ENV,
    choose_role,
    current_user,
    editable_by,
    load_site,
    resolve_site,
)

OPERATOR = 4242  # a non-root uid that owns nothing here


@pytest.fixture(autouse=True)
def _no_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SITE_ENV, raising=False)  # and no machine-wide file either:
    monkeypatch.setattr("harness.triage.site.DEFAULT_SITE_PATH", Path("/nonexistent/site.yaml"))


def emulated() -> BenchConfig:
    """The default, all-emulated bench."""
    return BenchSession.from_file(None).config


def physical() -> BenchConfig:
    """The same bench with every instrument at a (lab) address: real instruments."""
    config = emulated()
    instruments = {name: i.model_copy(update={"emulated": False, "address": "socket://lab:1"})
                   for name, i in config.instruments.items()}
    return config.model_copy(update={"instruments": instruments})


def site_file(folder: Path, text: str) -> Path:
    """A site file as an administrator writes it: root's, mode 644."""
    path = folder / "site.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    folder.chmod(0o755)
    return path


SITE = """
site: Returns facility
users:
  {me}: [rsa]
  ann: [supplier, rsa]
"""


def test_no_site_file_on_real_instruments_grants_no_destructive_right() -> None:
    gate = Gate.open(physical(), audit=None)
    assert gate.role is None and gate.role_name == "none"
    assert gate.may("TRI-ID-01") and not gate.may("TRI-RST-01") and not gate.may("TRI-DIAG-05")
    with pytest.raises(AccessDeniedError, match=r"granted no role by no site file"):
        gate.check("TRI-RST-01")
    assert "destructive clauses will be refused" in gate.describe()
    with pytest.raises(AccessDeniedError, match=r"--role supplier refused.*TRI-RST-01"):
        Gate.open(physical(), role="supplier", audit=None)
    assert Gate.open(physical(), role="rsa", audit=None).role is Role.RSA  # narrows: no more


def test_an_all_emulated_bench_uses_the_built_in_site_and_says_so() -> None:
    gate = Gate.open(emulated(), audit=None)
    assert gate.role is Role.SUPPLIER and gate.site.source == EMULATED_SITE
    assert "all-emulated bench" in gate.describe()
    assert Gate.open(emulated(), role="RSA", audit=None).role is Role.RSA


def test_unknown_role_is_a_usage_error_naming_it() -> None:
    with pytest.raises(BenchConfigError, match="unknown role 'hacker'"):
        Gate.open(emulated(), role="hacker", audit=None)


def test_the_site_file_grants_and_role_only_narrows(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    path = site_file(tmp_path, SITE.format(me=current_user()))
    monkeypatch.setenv(SITE_ENV, str(path))
    gate = Gate.open(emulated(), audit=None)  # the site file wins over the emulated site
    assert gate.role is Role.RSA and gate.site.source == str(path)
    assert not gate.may("TRI-RST-01")
    with pytest.raises(AccessDeniedError, match=r"--role supplier refused: the site .* grants "
                                                r"user '.+' rsa.*can only narrow"):
        Gate.open(emulated(), role="supplier", audit=None)
    site = load_site(path)
    assert choose_role(site, "ann", None) is Role.SUPPLIER  # the first grant is the default
    assert choose_role(site, "ann", "rsa") is Role.RSA
    assert choose_role(site, "nobody", None) is None


def test_a_site_access_patch_applies_to_the_gate(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    path = site_file(tmp_path, SITE.format(me=current_user())
                     + "access:\n  clauses:\n    TRI-RST-02: [supplier, rsa]\n")
    monkeypatch.setenv(SITE_ENV, str(path))
    gate = Gate.open(emulated(), audit=None)
    assert gate.may("TRI-RST-02") and not gate.may("TRI-RST-01")


def test_a_missing_or_bad_site_file_is_named(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SITE_ENV, str(tmp_path / "absent.yaml"))
    with pytest.raises(BenchConfigError, match=r"absent\.yaml"):
        resolve_site(emulated=True)
    bad = site_file(tmp_path, "users:\n  ann: [janitor]\n")
    monkeypatch.setenv(SITE_ENV, str(bad))
    with pytest.raises(BenchConfigError, match=r"users\.ann"):
        resolve_site(emulated=True)


def test_a_site_file_the_operator_could_edit_is_refused(tmp_path: Path) -> None:
    path = site_file(tmp_path, "users: {}\n")
    assert editable_by(path, OPERATOR, set()) is None  # root's, 644, root's folder
    assert editable_by(path, 0, set()) is None  # root administers it
    path.chmod(0o666)
    assert "can write it" in (editable_by(path, OPERATOR, set()) or "")
    assert editable_by(path, 0, set()) == "anyone can write it"  # refused even to root
    path.chmod(0o664)
    assert editable_by(path, OPERATOR, {os.stat(path).st_gid}) is not None  # group-writable
    path.chmod(0o644)
    tmp_path.chmod(0o777)
    assert "folder" in (editable_by(path, OPERATOR, set()) or "")  # it could be replaced
    tmp_path.chmod(0o777 | stat.S_ISVTX)  # sticky, like /tmp: others' files stay theirs
    assert editable_by(path, OPERATOR, set()) is None
    tmp_path.chmod(0o755)
    if os.geteuid() == 0:
        os.chown(path, OPERATOR, -1)
        with pytest.raises(BenchConfigError, match="operators must not be able to edit it"):
            load_site(path, uid=OPERATOR)


def test_meterbench_triage_refuses_an_unknown_role_with_status_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != SITE_ENV}
    proc = subprocess.run([sys.executable, "-m", "harness", "triage", "--role", "hacker",
                           "--devices", "1"], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "unknown role 'hacker'" in proc.stderr and "Traceback" not in proc.stderr


def test_the_plugin_refuses_an_unknown_role_or_more_than_granted(
        pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest("--mb-role", "hacker")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--role: unknown role 'hacker'*"])
    path = site_file(tmp_path, SITE.format(me=current_user()))
    monkeypatch.setenv(SITE_ENV, str(path))
    result = pytester.runpytest("--mb-role", "manufacturer")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--role manufacturer refused*can only narrow*"])
    pytester.runpytest("--mb-role", "rsa").assert_outcomes(passed=1)
