"""The site's directory, as its access file configures it: where operators sign in with the
password they already have (an LDAP simple bind as their own entry) and, optionally, which
directory groups grant which roles.

Only the configuration lives here (no LDAP client): ``harness.console.directory`` binds.
A role never comes from the directory's own text: the site file's ``users`` grant roles as
ever, and a directory group grants a role only where this section maps it::

    directory:
      url: ldaps://ldap.example.org
      user_dn: "uid={name},ou=people,dc=example,dc=org"
      ca_file: /etc/ssl/certs/example-ca.pem
      groups:
        "cn=returns-suppliers,ou=groups,dc=example,dc=org": [supplier]
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.triage.access_table import Role

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (a password sent to it in clear stays on it)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DirectoryConfig(BaseModel):
    """The ``directory`` section of a site access file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(description="ldaps://host[:port], or ldap://host[:port] with start_tls")
    user_dn: str = Field(description="an operator's entry, {name} standing for the name typed")
    start_tls: bool = False
    ca_file: Path | None = None
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    member_attribute: str = Field(default="member", pattern=r"^[A-Za-z][A-Za-z0-9-]*$")
    groups: dict[str, tuple[Role, ...]] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError(f"{value!r}: expected ldaps://host[:port] or ldap://host[:port]")
        if parts.path not in ("", "/") or parts.query:
            raise ValueError(f"{value!r}: a server only (no base DN or query in the URL)")
        return value.strip()

    @field_validator("user_dn")
    @classmethod
    def _template(cls, value: str) -> str:
        if value.count("{name}") != 1 or "=" not in value:
            raise ValueError(f"{value!r}: expected a DN with {{name}} once, such as "
                             "uid={name},ou=people,dc=example,dc=org")
        return value

    @field_validator("groups", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: [r.strip().lower() if isinstance(r, str) else r for r in v]
                if isinstance(v, list) else v for k, v in value.items()}

    @model_validator(mode="after")
    def _no_password_in_clear(self) -> DirectoryConfig:
        if self.scheme == "ldap" and not self.start_tls and not is_loopback(self.host):
            raise ValueError(f"{self.url}: passwords would cross the network in clear; use "
                             "ldaps://, or start_tls: true")
        return self

    @property
    def scheme(self) -> str:
        """``ldap`` or ``ldaps``."""
        return urlsplit(self.url).scheme

    @property
    def host(self) -> str:
        """The server's host name or address."""
        return urlsplit(self.url).hostname or ""

    @property
    def port(self) -> int:
        """The server's port (636 for ldaps, 389 for ldap unless given)."""
        return urlsplit(self.url).port or (636 if self.scheme == "ldaps" else 389)
