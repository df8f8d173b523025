"""A throw-away OpenLDAP server for the directory sign-in tests: Debian's ``slapd`` on a
loopback port with an mdb database in a temporary folder, its entries added with its own
``slapadd`` before it starts (no mock of the bind: the console binds to a real server).

Two people (``dora`` in the suppliers group, ``eve`` in no group) under
``ou=people,dc=example,dc=org``; the group ``cn=returns-suppliers,ou=groups,...``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SLAPD = Path("/usr/sbin/slapd")
SLAPADD = Path("/usr/sbin/slapadd")
SUFFIX = "dc=example,dc=org"
PEOPLE = f"ou=people,{SUFFIX}"
SUPPLIERS = f"cn=returns-suppliers,ou=groups,{SUFFIX}"
PASSWORDS = {"dora": "dora-directory-1", "eve": "eve-directory-2"}


class SlapdUnavailable(RuntimeError):
    """slapd is not installed here (apt-get install slapd)."""


CONFIG = """include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {base}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "cn=admin,{suffix}"
rootpw admin-not-used
directory {base}/data
"""

ENTRIES = f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
o: Example
dc: example

dn: {PEOPLE}
objectClass: organizationalUnit
ou: people

dn: ou=groups,{SUFFIX}
objectClass: organizationalUnit
ou: groups

dn: uid=dora,{PEOPLE}
objectClass: inetOrgPerson
uid: dora
cn: Dora Supplier
sn: Supplier
title: manufacturer
userPassword: {PASSWORDS["dora"]}

dn: uid=eve,{PEOPLE}
objectClass: inetOrgPerson
uid: eve
cn: Eve NoGroup
sn: NoGroup
title: supplier
userPassword: {PASSWORDS["eve"]}

dn: {SUPPLIERS}
objectClass: groupOfNames
cn: returns-suppliers
member: uid=dora,{PEOPLE}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Slapd:
    """One running slapd: its folder, port and process."""

    base: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """Its LDAP URL (in clear: it listens on loopback only)."""
        return f"ldap://127.0.0.1:{self.port}"

    @classmethod
    def start(cls) -> Slapd:
        """Make the database, add the entries and start the server; SlapdUnavailable when
        slapd is not installed."""
        if not SLAPD.exists() or not SLAPADD.exists():
            raise SlapdUnavailable(f"no {SLAPD} (apt-get install slapd)")
        base = Path(tempfile.mkdtemp(prefix="meterbench-slapd-"))
        (base / "data").mkdir()
        conf = base / "slapd.conf"
        conf.write_text(CONFIG.format(base=base, suffix=SUFFIX))
        (base / "entries.ldif").write_text(ENTRIES)
        subprocess.run([str(SLAPADD), "-f", str(conf), "-l", str(base / "entries.ldif")],
                       check=True, capture_output=True, timeout=60)
        port = _free_port()
        process = subprocess.Popen([str(SLAPD), "-f", str(conf), "-h",
                                    f"ldap://127.0.0.1:{port}/", "-d", "0"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server = cls(base, port, process)
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return server
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    server.stop()
                    raise SlapdUnavailable(f"slapd did not start (exit {process.poll()})"
                                           ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server and delete its folder."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.base, ignore_errors=True)
