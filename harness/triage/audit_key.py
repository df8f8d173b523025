"""The audit log's key: a site secret the database never holds, named by a secret reference.

The chain is keyed (HMAC-SHA256) so that someone who can write the database but cannot read
this key cannot recompute the tags after an edit.  The key is 32 random bytes written as 64
hex digits in a file of mode 0600 (or an environment variable), named like the bench's
secrets: ``file:PATH`` (the whole file), ``file:PATH#NAME`` (a ``NAME=value`` line),
``env:NAME``, or a plain path.  Where none is given: ``$MB_AUDIT_KEY``, else
``$XDG_CONFIG_HOME/meterbench/audit.key`` (``~/.config/...``).  The database stores only the
key's identifier, an HMAC of a fixed label that reveals nothing of the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from harness.config.secrets import resolve_secret
from harness.errors import BenchConfigError, MeterbenchError

KEY_ENV = "MB_AUDIT_KEY"
"""The environment variable naming the key (a secret reference) without ``--audit-key``."""
KEY_BYTES = 32
"""Length of a key made by :func:`create_key_file` (and the minimum accepted)."""
MAKE_ONE = "make one with `meterbench audit init` (or give --audit-key / MB_AUDIT_KEY)"


class AuditKeyError(MeterbenchError, ValueError):
    """No usable audit key: missing, unreadable, too short, or readable by others."""


def default_key_path() -> Path:
    """``$XDG_CONFIG_HOME/meterbench/audit.key``, or ``~/.config/meterbench/audit.key``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "meterbench" / "audit.key"


@dataclass(frozen=True)
class AuditKey:
    """A resolved key: its bytes (never printed) and where it came from."""

    secret: bytes = field(repr=False)
    source: str

    @property
    def key_id(self) -> str:
        """The key's identifier (16 hex digits), stored in the database instead of the key."""
        return self.mac(b"meterbench audit key id")[:16]

    def mac(self, data: bytes) -> str:
        """HMAC-SHA256 of ``data`` under this key, as 64 hex digits."""
        return hmac.new(self.secret, data, hashlib.sha256).hexdigest()


def reference_path(reference: str) -> Path | None:
    """The file a reference names (None for ``env:``)."""
    if reference.startswith("env:"):
        return None
    text = reference.removeprefix("file:").partition("#")[0]
    return Path(text).expanduser()


def _key_text(reference: str) -> str:
    """The key's text from a reference; AuditKeyError naming the reference when it fails."""
    if reference.startswith("env:"):
        value = os.environ.get(reference[4:])
        if value is None:
            raise AuditKeyError(f"audit key {reference}: environment variable {reference[4:]} "
                                f"is not set; {MAKE_ONE}")
        return value
    path = reference_path(reference)
    assert path is not None
    if "#" in reference:
        try:
            return resolve_secret(reference if reference.startswith("file:")
                                  else "file:" + reference, key_path="audit key")
        except BenchConfigError as exc:
            raise AuditKeyError(f"audit key {reference}: {exc.message}") from None
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise AuditKeyError(f"audit key {path}: not a regular file")
        if info.st_mode & 0o077:
            raise AuditKeyError(f"audit key {path} is readable or writable by others (mode "
                                f"{stat.S_IMODE(info.st_mode):04o}): chmod 600 {path}")
        return path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise AuditKeyError(f"no audit key at {path}; {MAKE_ONE}") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not ASCII hex digits"
        raise AuditKeyError(f"cannot read the audit key {path}: {why}") from None


def load_key(reference: str | None = None) -> AuditKey:
    """The key named by ``reference``, else ``$MB_AUDIT_KEY``, else the default file."""
    ref = reference or os.environ.get(KEY_ENV) or str(default_key_path())
    text = _key_text(ref).strip()
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < KEY_BYTES:
        raise AuditKeyError(f"audit key {ref}: expected at least {2 * KEY_BYTES} hex digits "
                            f"({KEY_BYTES} random bytes); {MAKE_ONE}")
    return AuditKey(secret, ref)


def create_key_file(path: Path) -> AuditKey:
    """Write a new random key to ``path`` (mode 0600, parents 0700); never overwrites one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditKeyError(f"audit key {path} already exists: not replaced") from None
    except OSError as exc:
        raise AuditKeyError(f"cannot create the audit key {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(KEY_BYTES) + "\n")
    return load_key(str(path))


def ensure_key(reference: str | None = None) -> tuple[AuditKey, bool]:
    """The key named (as :func:`load_key`), created first when it is a missing file.

    Returns the key and whether it was created; an ``env:`` or ``#NAME`` reference is never
    created (their holder sets them).
    """
    ref = reference or os.environ.get(KEY_ENV) or str(default_key_path())
    path = reference_path(ref)
    if path is not None and "#" not in ref and not path.exists():
        return create_key_file(path), True
    return load_key(ref), False
