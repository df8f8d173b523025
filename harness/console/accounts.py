"""Local console accounts: scrypt-hashed passwords in a file the site admin manages, and the
lock-out of a name after repeated failed sign-ins.

The accounts file is YAML (``accounts: {name: "scrypt$n$r$p$salt$hash"}``), at
``$MB_CONSOLE_ACCOUNTS`` or ``/etc/meterbench/console-accounts.yaml``; like the site access
file it is refused when the acting user could edit it (``harness.triage.site.editable_by``).
Roles are not kept here: they come from the site access file (``harness.triage.site``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import BenchConfigError
from harness.triage.site import editable_by

ACCOUNTS_ENV = "MB_CONSOLE_ACCOUNTS"
"""Environment variable naming the accounts file."""
DEFAULT_ACCOUNTS_PATH = Path("/etc/meterbench/console-accounts.yaml")
"""Where the accounts file is looked for when ``MB_CONSOLE_ACCOUNTS`` is not set."""

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
"""scrypt cost (RFC 7914's interactive-login parameters: about 16 MiB, tens of ms)."""


def hash_password(password: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R,
                  p: int = SCRYPT_P) -> str:
    """A self-describing scrypt hash of ``password`` with a fresh 16-byte salt."""
    if not password:
        raise ValueError("an empty password is not accepted")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${n}${r}${p}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (constant-time compare); False for a hash that
    is not one of ours."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        want = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n),
                             r=int(r), p=int(p), dklen=len(want))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, want)


_DUMMY_HASH = hash_password("meterbench-no-such-account", n=2**14)
"""Checked against for an unknown name, so timing does not tell which names exist."""


@dataclass(frozen=True)
class Accounts:
    """The console's accounts: name to password hash; ``source`` says which file."""

    source: str
    hashes: dict[str, str]

    def check(self, name: str, password: str) -> bool:
        """Whether ``name`` is an account and ``password`` its password."""
        stored = self.hashes.get(name)
        ok = verify_password(password, stored if stored is not None else _DUMMY_HASH)
        return ok and stored is not None


def accounts_path(given: str | Path | None = None) -> Path:
    """The accounts file: ``given``, else ``$MB_CONSOLE_ACCOUNTS``, else the default path."""
    if given is not None:
        return Path(given)
    named = os.environ.get(ACCOUNTS_ENV)
    return Path(named) if named else DEFAULT_ACCOUNTS_PATH


def load_accounts(path: str | Path, *, check_owner: bool = True) -> Accounts:
    """The accounts file at ``path``; BenchConfigError naming the file (and key) for a missing,
    editable or malformed one."""
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise BenchConfigError("console accounts file not found", file=source,
                               expected=f"a YAML file (set {ACCOUNTS_ENV} or create "
                                        f"{DEFAULT_ACCOUNTS_PATH}); add accounts with "
                                        "`meterbench console --add-account NAME`")
    if check_owner:
        why = editable_by(path)
        if why is not None:
            raise BenchConfigError(f"console accounts file refused: {why}; operators must not "
                                   "be able to edit it", file=source)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise BenchConfigError(f"cannot read console accounts file: {exc}", file=source) from None
    accounts = data.get("accounts") if isinstance(data, dict) else None
    if not isinstance(accounts, dict):
        raise BenchConfigError("no 'accounts' mapping", file=source, key_path="accounts",
                               expected="accounts: {name: scrypt hash}")
    for name, stored in accounts.items():
        if not isinstance(stored, str) or not stored.startswith("scrypt$"):
            raise BenchConfigError("not a scrypt password hash", file=source,
                                   key_path=f"accounts.{name}",
                                   expected="a hash written by `meterbench console "
                                            "--add-account`")
    return Accounts(source, {str(k): v for k, v in accounts.items()})


def add_account(path: str | Path, name: str, password: str) -> None:
    """Add (or replace) ``name`` in the accounts file at ``path`` (created, mode 0600)."""
    path = Path(path)
    if not name.strip() or any(c.isspace() for c in name):
        raise BenchConfigError(f"account name {name!r} is empty or has spaces", file=str(path))
    data: dict[str, dict[str, str]] = {"accounts": {}}
    if path.exists():
        data = {"accounts": dict(load_accounts(path, check_owner=False).hashes)}
    data["accounts"][name] = hash_password(password)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        yaml.safe_dump(data, out, sort_keys=True)


@dataclass
class LockOut:
    """Failed sign-ins per name: ``limit`` failures within ``window_s`` lock the name out for
    ``lock_s`` (a correct password then is refused too)."""

    limit: int = 5
    window_s: float = 900.0
    lock_s: float = 900.0
    _failures: dict[str, list[float]] = field(default_factory=dict)
    _locked_until: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked(self, name: str, now: float | None = None) -> float:
        """Seconds ``name`` stays locked out (0: not locked)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            return max(0.0, self._locked_until.get(name, 0.0) - now)

    def failed(self, name: str, now: float | None = None) -> bool:
        """Count a failure; True when it locks the name out."""
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._failures.get(name, []) if now - t < self.window_s]
            recent.append(now)
            self._failures[name] = recent
            if len(recent) >= self.limit:
                self._locked_until[name] = now + self.lock_s
                self._failures[name] = []
                return True
            return False

    def succeeded(self, name: str) -> None:
        """A good sign-in clears the name's failures."""
        with self._lock:
            self._failures.pop(name, None)
