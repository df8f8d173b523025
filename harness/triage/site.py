"""The site's access configuration: which operating-system user may act in which role.

DESIGN.md principle 7: the role comes from the site, not from the operator.  The site file
(YAML, at ``$MB_SITE_CONFIG``, default ``/etc/meterbench/site.yaml``) maps operating-system
logins to the roles granted, the first being the default, with ``"*"`` for anyone else, and
may patch the spec's access table (``harness.triage.access``)::

    site: Returns facility, Leeds
    users:
      ann: [supplier, rsa]
      "*": [rsa]
    access:
      clauses: {TRI-RST-02: [supplier, rsa]}

Operators must not be able to edit it: a file the acting (non-root) user owns or can write,
or whose folder they can write, is refused.  ``--role`` only narrows: a role is accepted if
the site grants it, or if it may run no clause the granted roles may not.  Without a site file
nobody has a role: only clauses open to every role run (no destructive one).  An all-emulated
bench without a site file uses :data:`EMULATED_SITE`, which lets anyone act in any role (the
supplier by default), since there is no hardware to harm; the run header says so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import AccessDeniedError, BenchConfigError
from harness.triage.access import Role, read_site_access
from harness.triage.directory import DirectoryConfig
from harness.triage.spec import TriageSpec, default_spec

__all__ = ["DEFAULT_SITE_PATH", "SITE_ENV", "Site", "choose_role", "current_user",
           "editable_by", "load_site", "resolve_site", "rights"]

SITE_ENV = "MB_SITE_CONFIG"
"""Environment variable naming the site file."""
DEFAULT_SITE_PATH = Path("/etc/meterbench/site.yaml")
"""Where the site file is looked for when ``MB_SITE_CONFIG`` is not set."""

EMULATED_SITE = "built-in emulated site"
"""The source named for :func:`resolve_site`'s all-emulated fallback."""


@dataclass(frozen=True)
class Site:
    """A site's grants and access table; ``source`` says where they came from."""

    source: str
    spec: TriageSpec
    users: Mapping[str, tuple[Role, ...]] = field(default_factory=dict)
    name: str | None = None
    emulated: bool = False
    directory: DirectoryConfig | None = None  # where the console checks passwords too

    def granted(self, user: str) -> tuple[Role, ...]:
        """The roles ``user`` may act in, the default first (empty: no role)."""
        if user in self.users:
            return self.users[user]
        return self.users.get("*", ())


def current_user() -> str:
    """The acting operating-system user (from the effective uid, not the environment; on
    Windows, which has no uid, the login of the process's token)."""
    if not hasattr(os, "geteuid"):  # the name only labels the run: Windows refuses site files
        try:
            return os.getlogin()
        except OSError:
            import getpass

            return getpass.getuser()
    import pwd  # POSIX only

    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _writable(st: os.stat_result, uid: int, gids: set[int]) -> bool:
    """Whether the mode bits let ``uid`` (in ``gids``) write."""
    if st.st_uid == uid:
        return True  # the owner can always chmod it writable
    if st.st_gid in gids and st.st_mode & stat.S_IWGRP:
        return True
    return bool(st.st_mode & stat.S_IWOTH)


def editable_by(path: Path, uid: int | None = None, gids: set[int] | None = None) -> str | None:
    """Why user ``uid`` (default: the acting one) could change the file at ``path``, or None.

    A file anyone may write is refused whoever acts.  Otherwise root is not refused (it
    administers the site); any other user must neither own nor be able to write the file, nor
    its folder (it could be replaced). On Windows the mode bits say nothing of who may write
    (ACLs decide), so a site file is refused there: no role is granted by a file an operator
    might edit."""
    if uid is None and not hasattr(os, "geteuid"):
        return "on Windows meterbench cannot tell who may edit it (its ACLs are not checked)"
    uid = os.geteuid() if uid is None else uid
    st = path.stat()
    if st.st_mode & stat.S_IWOTH:
        return "anyone can write it"
    if uid == 0:
        return None
    gids = set(os.getgroups()) | {os.getegid()} if gids is None else gids
    if _writable(st, uid, gids):
        return "the acting user owns it or can write it"
    parent = path.resolve().parent
    pst = parent.stat()
    if _writable(pst, uid, gids) and not (pst.st_mode & stat.S_ISVTX and st.st_uid != uid):
        return f"the acting user can write its folder {parent}"
    return None


def load_site(path: str | Path, *, uid: int | None = None) -> Site:
    """The site file at ``path``; refused (BenchConfigError) when the acting user could edit
    it, with every mistake named by file and key path."""
    path = Path(path)
    if not path.exists():
        raise BenchConfigError("site access file not found", file=str(path),
                               expected=f"a YAML site file (set {SITE_ENV} or create "
                                        f"{DEFAULT_SITE_PATH})")
    why = editable_by(path, uid)
    if why is not None:
        raise BenchConfigError(f"site access file refused: {why}; operators must not be able to "
                               "edit it (make root its owner, mode 644, in a root-owned folder)",
                               file=str(path))
    spec, parsed = read_site_access(path)
    return Site(source=str(path), spec=spec, users=dict(parsed.users), name=parsed.site,
                directory=parsed.directory)


def resolve_site(*, emulated: bool) -> Site:
    """The site in force: ``$MB_SITE_CONFIG`` (which must exist), else the default file if
    present, else the built-in emulated site on an all-emulated bench, else no grants."""
    named = os.environ.get(SITE_ENV)
    if named:
        return load_site(named)
    if DEFAULT_SITE_PATH.exists():
        return load_site(DEFAULT_SITE_PATH)
    if emulated:
        return Site(source=EMULATED_SITE, spec=default_spec(), emulated=True,
                    users={"*": (Role.SUPPLIER, Role.RSA, Role.MAP, Role.MANUFACTURER)},
                    name="emulated bench (no site file)")
    return Site(source=f"no site file ({SITE_ENV} unset, {DEFAULT_SITE_PATH} absent)",
                spec=default_spec())


def rights(spec: TriageSpec, role: Role | None) -> frozenset[str]:
    """The clauses ``role`` may run; with no role, the clauses open to every role."""
    if role is None:
        return frozenset(c.id for c in spec.clauses if set(c.eligible) >= set(Role))
    return frozenset(c.id for c in spec.clauses if role in c.eligible)


def choose_role(site: Site, user: str, requested: str | Role | None) -> Role | None:
    """The role ``user`` acts in: ``requested`` if the site grants it or it narrows what the
    site grants, else the site's default for the user (None: no role).

    An unknown role is a BenchConfigError naming it; asking for more than the site grants is
    an AccessDeniedError saying what the site grants."""
    granted = site.granted(user)
    if requested is None or (isinstance(requested, str) and not requested.strip()):
        return granted[0] if granted else None
    known = "one of " + ", ".join(r.value for r in site.spec.roles)
    try:
        role = Role.parse(requested)
    except BenchConfigError:
        raise BenchConfigError(f"unknown role {requested!r}", file="--role",
                               expected=known) from None
    if role not in site.spec.roles:
        raise BenchConfigError(f"unknown role {requested!r}", file="--role", expected=known)
    if role in granted:
        return role
    allowed: frozenset[str] = rights(site.spec, None)
    for g in granted:
        allowed |= rights(site.spec, g)
    extra = sorted(rights(site.spec, role) - allowed)
    if not extra:
        return role  # it narrows what the site grants
    grants = ", ".join(r.value for r in granted) or "no role"
    raise AccessDeniedError(
        f"--role {role.value} refused: the site ({site.source}) grants user {user!r} {grants}, "
        f"and {role.value} could run {', '.join(extra)} besides; --role can only narrow what "
        "the site grants", role=role.value, user=user, granted=[r.value for r in granted])
