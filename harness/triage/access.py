"""Who may run which triage clause: operator roles, the access table and its enforcement.

DESIGN.md principle 7: destructive operations need an eligible role.  The default table is
in the spec YAML (``access``) and follows GB-SMART-METERING.md, "DUIS Service Requests
relevant to triage": every role may run a clause that only reads, but an RSA is given no
commission, decommission or credential update there, so a destructive clause (a reset, a
supply switch) is open to an RSA only where a table grants it by clause.  A site may replace
parts of the table with its own YAML file (:func:`load_site_access`), which also says which
operating-system user may act in which role; ``harness.triage.site`` finds and protects that
file, and ``harness.triage.gate`` enforces the result where commands are issued.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from harness.errors import AccessDeniedError, BenchConfigError
from harness.triage._yaml import parse_yaml, validation_error

if TYPE_CHECKING:
    from harness.triage.audit import AuditLog
    from harness.triage.spec import Clause, TriageSpec

__all__ = [
    "AccessDefaults",
    "AccessPatch",
    "AccessTable",
    "OperatorContext",
    "Role",
    "SiteAccess",
    "authorise",
    "check",
    "load_site_access",
    "read_site_access",
]


class Role(StrEnum):
    """The operator roles a run may be given (``meterbench triage --role``)."""

    SUPPLIER = "supplier"
    RSA = "rsa"
    MAP = "map"
    MANUFACTURER = "manufacturer"

    @property
    def full_name(self) -> str:
        """The role's full name, as a report prints it."""
        return _TITLES[self]

    @classmethod
    def parse(cls, text: Role | str) -> Role:
        """Accept a role value (case-insensitive); anything else is a usage error."""
        if isinstance(text, Role):
            return text
        try:
            return cls(str(text).strip().lower())
        except ValueError:
            raise BenchConfigError(
                f"unknown role {text!r}", key_path="role",
                expected="one of " + ", ".join(r.value for r in cls),
            ) from None


_TITLES = {
    Role.SUPPLIER: "Supplier",
    Role.RSA: "Registered Supplier Agent",
    Role.MAP: "Meter Asset Provider",
    Role.MANUFACTURER: "Manufacturer",
}

RoleList = Annotated[tuple[Role, ...], AfterValidator(lambda t: tuple(r for r in Role if r in t))]
"""Roles as a table lists them: each once, in the enum's order (so tables print stably)."""


class AccessDefaults(BaseModel):
    """Who may run a clause the table does not name: by whether it is destructive."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    non_destructive: RoleList
    destructive: RoleList


class AccessTable(BaseModel):
    """Defaults plus per-clause grants; a clause listed in ``clauses`` gets exactly those."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: AccessDefaults
    clauses: dict[str, RoleList] = Field(default_factory=dict)

    def eligible(self, clause_id: str, destructive: bool) -> RoleList:
        """The roles that may run ``clause_id``."""
        if clause_id in self.clauses:
            return self.clauses[clause_id]
        return self.defaults.destructive if destructive else self.defaults.non_destructive

    def merged(self, patch: AccessPatch) -> AccessTable:
        """This table with a site's patch laid over it (the patch wins where it speaks)."""
        d = patch.defaults
        defaults = AccessDefaults(
            non_destructive=self.defaults.non_destructive if d is None or d.non_destructive
            is None else d.non_destructive,
            destructive=self.defaults.destructive if d is None or d.destructive is None
            else d.destructive,
        )
        return AccessTable(defaults=defaults, clauses={**self.clauses, **patch.clauses})


class AccessDefaultsPatch(BaseModel):
    """A site's replacement for either default (or both)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    non_destructive: RoleList | None = None
    destructive: RoleList | None = None


class AccessPatch(BaseModel):
    """The ``access`` mapping of a site file: the parts of the table it replaces."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    defaults: AccessDefaultsPatch | None = None
    clauses: dict[str, RoleList] = Field(default_factory=dict)


class SiteAccess(BaseModel):
    """A site access file: an optional site name, who may act in which roles (``users``:
    operating-system login, or ``"*"`` for anyone else, to the roles granted, the first being
    the default) and the ``access`` patch to the spec's table (``harness.triage.site``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    site: str | None = None
    users: dict[str, tuple[Role, ...]] = Field(default_factory=dict)
    access: AccessPatch = Field(default_factory=AccessPatch)

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
    from harness.triage.spec import default_spec

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
        from harness.triage.spec import default_spec

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
