"""Who may run which triage clause: the access table laid over a specification, and enforced.

DESIGN.md principle 7: destructive operations need an eligible role.  The default table is
in the spec YAML (``access``) and follows GB-SMART-METERING.md, "DUIS Service Requests
relevant to triage": every role may run a clause that only reads, but an RSA is given no
commission, decommission or credential update there, so a destructive clause (a reset, a
supply switch) is open to an RSA only where a table grants it by clause.  A site may replace
parts of the table with its own YAML file (:func:`load_site_access`), which also says which
operating-system user may act in which role; ``harness.triage.site`` finds and protects that
file, and ``harness.triage.gate`` enforces the result where commands are issued.  The roles
and the table as data live one layer down, in ``harness.triage.access_table`` (the
specification carries a table), and are re-exported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.config._yaml import parse_yaml, validation_error
from harness.errors import AccessDeniedError, BenchConfigError
from harness.triage.access_table import (
    AccessDefaults,
    AccessDefaultsPatch,
    AccessPatch,
    AccessTable,
    Role,
    RoleList,
)
from harness.triage.directory import DirectoryConfig
from harness.triage.spec import Clause, TriageSpec, default_spec

if TYPE_CHECKING:
    from harness.triage.audit import AuditLog

__all__ = [
    "AccessDefaults",
    "AccessDefaultsPatch",
    "AccessPatch",
    "AccessTable",
    "OperatorContext",
    "Role",
    "RoleList",
    "SiteAccess",
    "authorise",
    "check",
    "load_site_access",
    "read_site_access",
]


class SiteAccess(BaseModel):
    """A site access file: an optional site name, who may act in which roles (``users``:
    operating-system login, or ``"*"`` for anyone else, to the roles granted, the first being
    the default) and the ``access`` patch to the spec's table (``harness.triage.site``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str | None = None
    users: dict[str, tuple[Role, ...]] = Field(default_factory=dict)
    access: AccessPatch = Field(default_factory=AccessPatch)
    directory: DirectoryConfig | None = None  # console sign-in by the site's directory

    @field_validator("users", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {k: [r.strip().lower() if isinstance(r, str) else r for r in v]
                if isinstance(v, list) else v for k, v in value.items()}


def load_site_access(path: str | Path, spec: TriageSpec | None = None) -> TriageSpec:
    """``spec`` (default: the shipped one) with the site file at ``path`` laid over its table.

    Every mistake is a BenchConfigError naming the file and key path: a bad role, an unknown
    clause id, a key that does not exist.
    """
    return read_site_access(path, spec)[0]


def read_site_access(path: str | Path, spec: TriageSpec | None = None
                     ) -> tuple[TriageSpec, SiteAccess]:
    """:func:`load_site_access`, also returning the parsed file (its ``users`` grants)."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchConfigError("access file not found", file=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchConfigError(f"cannot read access file: {exc}", file=source) from None
    data = parse_yaml(text, source)
    try:
        site = SiteAccess.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from None
    base = spec if spec is not None else default_spec()
    for clause_id in site.access.clauses:
        if clause_id not in base.clause_ids:
            raise BenchConfigError(
                f"no clause {clause_id!r} in the triage specification", file=source,
                key_path=f"access.clauses.{clause_id}", expected="a clause id such as TRI-RST-01",
            )
    return base.with_access(base.access.merged(site.access), site=site.site or source), site


def _clause(clause: Clause | str, spec: TriageSpec | None) -> Clause:
    """The clause as ``spec`` (or, for an id without a spec, the shipped spec) defines it."""
    if spec is not None:
        return spec.clause(clause if isinstance(clause, str) else clause.id)
    if isinstance(clause, str):
        return default_spec().clause(clause)
    return clause


def check(role: Role | str, clause: Clause | str, *, spec: TriageSpec | None = None) -> None:
    """Return if ``role`` may run ``clause``; otherwise raise AccessDeniedError saying who may.

    Call it before anything is sent to the device, so a refusal leaves the device untouched.
    """
    who = Role.parse(role)
    c = _clause(clause, spec)
    if who in c.eligible:
        return
    eligible = ", ".join(r.value for r in c.eligible) or "no role"
    kind = "destructive" if c.destructive else "non-destructive"
    raise AccessDeniedError(
        f"role {who.value!r} ({who.full_name}) may not run {c.id} ({c.title}; {kind}): "
        f"eligible: {eligible}",
        role=who.value, clause=c.id, destructive=c.destructive,
        eligible=[r.value for r in c.eligible],
    )


class OperatorContext(BaseModel):
    """Who runs a triage and in which role (``--operator NAME --role R``)."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(min_length=1)
    role: Role

    @field_validator("name", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value

    @field_validator("role", mode="before")
    @classmethod
    def _role(cls, value: Any) -> Any:
        return Role.parse(value) if isinstance(value, str) else value

    def check(self, clause: Clause | str, *, spec: TriageSpec | None = None) -> None:
        """:func:`check` for this operator's role."""
        check(self.role, clause, spec=spec)

    def may(self, clause: Clause | str, *, spec: TriageSpec | None = None) -> bool:
        """Whether this operator's role may run ``clause``."""
        return self.role in _clause(clause, spec).eligible


def authorise(operator: OperatorContext, clause: Clause | str, *, spec: TriageSpec | None = None,
              audit: AuditLog | None = None, bench: str = "",
              device_id: str | None = None) -> Clause:
    """Check ``operator`` for ``clause``; a refusal is appended to ``audit``, then re-raised.

    Issue 6: a destructive clause with an ineligible role is refused before anything is sent
    to the device, and the refusal is recorded.  Returns the clause on success.
    """
    c = _clause(clause, spec)
    try:
        check(operator.role, c, spec=spec)
    except AccessDeniedError as exc:
        if audit is not None:
            audit.append(operator=operator.name, role=operator.role.value, bench=bench,
                         device_id=device_id, clause=c.id, action="run", outcome="refused",
                         detail={"reason": str(exc), "eligible": exc.context["eligible"],
                                 "destructive": c.destructive})
        raise
    return c
