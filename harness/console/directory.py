"""Console sign-in by the site's directory: an LDAP simple bind as the operator's own entry
(over LDAPS or StartTLS, or in clear to a loopback server only), then, where the site file
maps directory groups to roles, an LDAP compare of each mapped group's member attribute.

The client is ``ldap3`` (pure Python, LGPL-3.0), imported only when a site configures a
directory and installed with the optional extra ``meterbench[directory]``: the core package
never depends on it.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any

from harness.errors import MeterbenchError
from harness.triage.access_table import Role
from harness.triage.directory import DirectoryConfig

EXTRA = "meterbench[directory]"


class DirectoryUnavailable(MeterbenchError, RuntimeError):
    """The directory cannot be asked (client not installed, server unreachable, TLS refused):
    no answer about the password either way."""


@dataclass(frozen=True)
class DirectoryAnswer:
    """What the directory said of a sign-in: accepted or not (and why), and the roles its
    mapped groups grant (in the site file's order)."""

    accepted: bool
    why: str = ""
    group_roles: tuple[Role, ...] = ()


def _ldap3() -> Any:
    try:
        import ldap3
    except ImportError:
        raise DirectoryUnavailable(f"the site configures a directory but its LDAP client is "
                                   f"not installed: pip install '{EXTRA}'") from None
    return ldap3


class Directory:
    """The site's directory as the console asks it."""

    def __init__(self, config: DirectoryConfig) -> None:
        self.config = config
        _ldap3()  # a console that cannot ask the directory says so at start

    def user_dn(self, name: str) -> str:
        """The operator's entry, the name escaped as an RDN value (no DN injection)."""
        from ldap3.utils.dn import escape_rdn

        return self.config.user_dn.replace("{name}", escape_rdn(name))

    def _server(self) -> Any:
        ldap3 = _ldap3()
        c = self.config
        tls = None
        if c.scheme == "ldaps" or c.start_tls:
            tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, version=ssl.PROTOCOL_TLS_CLIENT,
                            ca_certs_file=str(c.ca_file) if c.ca_file else None)
        return ldap3.Server(c.host, port=c.port, use_ssl=c.scheme == "ldaps", tls=tls,
                            connect_timeout=c.timeout_s, get_info=ldap3.NONE)

    def authenticate(self, name: str, password: str) -> DirectoryAnswer:
        """Bind as ``name`` with ``password``: accepted, or refused with why; roles from the
        mapped groups the entry is a member of. DirectoryUnavailable when it cannot tell."""
        if not password:  # an empty password is an anonymous bind: it proves nothing
            return DirectoryAnswer(False, "empty password")
        if not name or any(ord(ch) < 32 for ch in name):
            return DirectoryAnswer(False, "no such name in the directory")
        ldap3 = _ldap3()
        from ldap3.core.exceptions import LDAPException

        dn = self.user_dn(name)
        conn = ldap3.Connection(self._server(), user=dn, password=password,
                                authentication=ldap3.SIMPLE,
                                receive_timeout=max(1, round(self.config.timeout_s)),
                                raise_exceptions=False, auto_bind=ldap3.AUTO_BIND_NONE)
        try:
            conn.open()
            if self.config.start_tls and not conn.start_tls():
                raise DirectoryUnavailable(f"{self.config.url}: StartTLS refused "
                                           f"({conn.result.get('description')})")
            if not conn.bind():
                code = conn.result.get("result")
                if code == 49:  # invalidCredentials: unknown entry or wrong password
                    return DirectoryAnswer(False, "unknown account or wrong password")
                raise DirectoryUnavailable(f"{self.config.url}: bind failed "
                                           f"({conn.result.get('description')})")
            roles: list[Role] = []
            for group, granted in self.config.groups.items():
                if conn.compare(group, self.config.member_attribute, dn):
                    roles.extend(r for r in granted if r not in roles)
            return DirectoryAnswer(True, group_roles=tuple(roles))
        except LDAPException as exc:
            raise DirectoryUnavailable(f"{self.config.url}: {exc}") from None
        finally:
            conn.unbind()
