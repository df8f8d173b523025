"""The DCC user who acts in each QA role, and what DUIS lets that role send.

An operator role (``--role supplier|rsa``) is a DUIS user role set: a Supplier holds IS and
GS, a Registered Supplier Agent RSA (GB-SMART-METERING.md, "DUIS Service Requests ... with
eligible roles").  Which DCC user acts in a role is named in the DCC instrument's bench
options, by secret reference as its own credentials are::

    options = { signing_key = "env:DCC_KEY", signing_certificate = "certs/supplier.pem",
                users = { rsa = { signing_key = "env:RSA_KEY",
                                  signing_certificate = "certs/rsa.pem" } } }

Without a ``users`` entry, the Supplier is the adapter's own user, and on an emulated DCC the
role is played by the emulator's built-in test user of that name (``supplier``, ``rsa``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.bench.bench import Bench
from harness.config.secrets import resolve_references
from harness.drivers.dcc.base import DccAdapter
from harness.drivers.dcc.credentials import DccCredentials, load_credentials
from harness.errors import BenchConfigError
from harness.protocols.duis import UserRole, eligible_roles

__all__ = ["QA_ROLES", "acting_as", "credentials_for", "duis_roles", "may_send"]

QA_ROLES: dict[str, frozenset[UserRole]] = {
    "supplier": frozenset({UserRole.IS, UserRole.GS}),
    "rsa": frozenset({UserRole.RSA}),
}
"""Operator roles that are DCC users, and the DUIS user roles each holds."""


def duis_roles(role: str) -> frozenset[UserRole]:
    """The DUIS user roles of operator ``role``; BenchConfigError for one that is no DCC user."""
    try:
        return QA_ROLES[role]
    except KeyError:
        raise BenchConfigError(f"role {role!r} is not a DCC user: the Service Request route runs "
                               "as a supplier or an rsa", key_path="--role",
                               expected=" or ".join(QA_ROLES)) from None


def may_send(role: str, variant: str) -> bool:
    """Whether DUIS's eligibility table lets ``role`` send Service Reference Variant ``variant``
    (meterbench's PROPOSED MBP.* rows included)."""
    return bool(duis_roles(role) & eligible_roles(variant))


def credentials_for(bench: Bench, dcc: DccAdapter, role: str) -> DccCredentials:
    """The DCC user acting in ``role`` on ``bench`` (see the module doc for where from)."""
    duis_roles(role)
    prefix = f"instruments.{dcc.name}.options.users.{role}"
    users = dcc.config.options.get("users") or {}
    if not isinstance(users, dict) or not isinstance(users.get(role, {}), dict):
        raise BenchConfigError("users must be a table of role = { signing_key, "
                               "signing_certificate }", file=bench.source,
                               key_path=f"instruments.{dcc.name}.options.users")

    def emulated(key: str) -> str | None:
        return bench.emulated_secret(dcc.name, f"{role}/{key}")

    base = Path(bench.source).parent if bench.source != "<bench>" else None
    if role in users:
        options = dict(users[role])
        secrets = resolve_references(options, key_path=prefix, base=base, emulator=emulated)
        return load_credentials(options, secrets=secrets, prefix=prefix, base=base)
    if role == "supplier" and dcc.credentials is not None:
        return dcc.credentials
    if dcc.config.emulated:
        options = {"signing_key": "emulator:", "signing_certificate": "emulator:"}
        secrets = resolve_references(options, key_path=prefix, emulator=emulated)
        return load_credentials(options, secrets=secrets, prefix=prefix)
    raise BenchConfigError(f"no DCC user for role {role!r}", file=bench.source, key_path=prefix,
                           expected="signing_key and signing_certificate secret references")


@contextmanager
def acting_as(dcc: DccAdapter, credentials: DccCredentials) -> Iterator[DccAdapter]:
    """Sign as ``credentials`` inside the block, then as before."""
    before = dcc.credentials
    dcc.use_credentials(credentials)
    try:
        yield dcc
    finally:
        if before is not None:
            dcc.use_credentials(before)
