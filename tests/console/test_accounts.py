"""Console accounts: scrypt hashes, the accounts file's checks, and the lock-out counter."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.console.accounts import (
    LockOut,
    add_account,
    hash_password,
    load_accounts,
    verify_password,
)
from harness.errors import BenchConfigError


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("correct horse", n=2**10)
    assert stored.startswith("scrypt$1024$8$1$")
    assert verify_password("correct horse", stored)
    assert not verify_password("correct horsf", stored)
    assert hash_password("correct horse", n=2**10) != stored  # a fresh salt each time


def test_a_foreign_or_broken_hash_never_verifies() -> None:
    assert not verify_password("x", "bcrypt$2b$12$abc")
    assert not verify_password("x", "scrypt$notanumber$8$1$AAAA$AAAA")
    with pytest.raises(ValueError, match="empty password"):
        hash_password("")


def test_the_file_holds_hashes_not_passwords(tmp_path: Path) -> None:
    path = tmp_path / "accounts.yaml"
    add_account(path, "ann", "ann-secret-1")
    assert "ann-secret-1" not in path.read_text()
    assert os.stat(path).st_mode & 0o777 == 0o600
    accounts = load_accounts(path, check_owner=False)
    assert accounts.check("ann", "ann-secret-1")
    assert not accounts.check("ann", "wrong")
    assert not accounts.check("nobody", "ann-secret-1")


def test_a_bad_file_is_named_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(BenchConfigError, match="console accounts file not found"):
        load_accounts(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("accounts:\n  ann: hunter2\n")
    with pytest.raises(BenchConfigError, match=r"accounts\.ann.*|not a scrypt password hash"):
        load_accounts(bad, check_owner=False)
    open_to_all = tmp_path / "open.yaml"
    add_account(open_to_all, "ann", "pw-1")
    open_to_all.chmod(0o666)
    with pytest.raises(BenchConfigError, match="anyone can write it"):
        load_accounts(open_to_all)


def test_lock_out_after_the_limit_within_the_window() -> None:
    lock = LockOut(limit=3, window_s=60, lock_s=300)
    assert not lock.failed("ann", now=0)
    assert not lock.failed("ann", now=1)
    assert lock.locked("ann", now=2) == 0
    assert lock.failed("ann", now=2)
    assert lock.locked("ann", now=3) == pytest.approx(299)
    assert lock.locked("ann", now=303) == 0
    assert lock.locked("bob", now=3) == 0  # per name


def test_old_failures_fall_out_of_the_window_and_success_clears() -> None:
    lock = LockOut(limit=3, window_s=60, lock_s=300)
    lock.failed("ann", now=0)
    lock.failed("ann", now=1)
    assert not lock.failed("ann", now=100)  # the first two are out of the window
    lock.succeeded("ann")
    assert not lock.failed("ann", now=101)
    assert not lock.failed("ann", now=102)
