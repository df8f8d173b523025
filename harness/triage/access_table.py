"""The operator roles and the access table as data: who may run a clause, before any site.

Below both the triage specification (which carries a table) and the enforcement in
``harness.triage.access`` (which reads site files against a specification), so neither has to
import the other's layer; ``harness.triage.access`` re-exports every name here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from harness.errors import BenchConfigError

__all__ = [
    "AccessDefaults",
    "AccessDefaultsPatch",
    "AccessPatch",
    "AccessTable",
    "Role",
    "RoleList",
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
