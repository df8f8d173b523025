"""The triage specification: numbered clauses a returned device is held to, as typed models.

The specification is data (``spec.yaml``, shipped in this package and read through
importlib.resources); this module validates it into :class:`TriageSpec`, with errors that
name the file and key path, and answers the questions suites and reports ask: a clause by
id, the clauses for a device type, who may run a clause, what an alert code means for the
verdict.  ``meterbench spec`` prints it as Markdown (``harness.triage.spec_markdown``, a layer
above: the document is read from the models, the models know nothing of the document).
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.config._yaml import KeyPathError, parse_yaml, validation_error
from harness.domain.types import DeviceType
from harness.domain.vocabulary import ChFaultReason, FaultCategory
from harness.errors import BenchConfigError, MeterbenchError
from harness.protocols.gbcs_alerts import ALERTS
from harness.triage.access_table import AccessTable, Role, RoleList

__all__ = [
    "AlertRule",
    "Clause",
    "Evidence",
    "Stage",
    "TriageSpec",
    "UnknownClauseError",
    "default_spec",
    "load_spec",
    "parse_spec",
    "spec_text",
]

SPEC_RESOURCE = "spec.yaml"
"""The shipped specification's file name inside the ``harness.triage`` package."""


class UnknownClauseError(MeterbenchError, KeyError):
    """A clause id the specification does not define (a typo in a marker or a table)."""


class Stage(StrEnum):
    """Where in a triage a clause runs."""

    IDENTITY = "identity"
    POWER = "power"
    DIAGNOSTICS = "diagnostics"
    OPTICAL = "optical"
    HAN = "han"
    WAN = "wan"
    RESET = "reset"
    VERIFY = "verify"


_STAGE_OF_PREFIX = {"ID": Stage.IDENTITY, "PWR": Stage.POWER, "OPT": Stage.OPTICAL,
                    "DIAG": Stage.DIAGNOSTICS, "HAN": Stage.HAN, "WAN": Stage.WAN,
                    "RST": Stage.RESET, "VER": Stage.VERIFY}
_CLAUSE_ID = r"^TRI-(?:" + "|".join(_STAGE_OF_PREFIX) + r")-\d{2}$"


class Evidence(BaseModel):
    """One measurement a clause records: its name, unit and (fixed or per-model) limits."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    unit: str = Field(min_length=1)
    description: str = Field(min_length=1)
    low: float | None = None
    high: float | None = None
    equals: bool | int | float | str | None = None
    per_model: bool = False
    # The DUIS 8.14.3 reason a hub failing on this measurement is returned with, when it is
    # more specific than its clause's (one clause, several observations: the inspection's).
    ch_return_reason: ChFaultReason | None = None

    @model_validator(mode="after")
    def _limits(self) -> Evidence:
        fixed = self.low is not None or self.high is not None
        if self.per_model and (fixed or self.equals is not None):
            raise ValueError("per_model limits come from the device model: "
                             "give no low, high or equals")
        if self.equals is not None and fixed:
            raise ValueError("give either equals or low/high, not both")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"low {self.low:g} is above high {self.high:g}")
        return self

    @property
    def has_fixed_limits(self) -> bool:
        """Whether the spec itself fixes the limits (not per model, not informative)."""
        return self.equals is not None or self.low is not None or self.high is not None

    def limits_text(self) -> str:
        """The limits as a reader sees them: ``= true``, ``≥ 1``, ``per model``, ``—``."""
        if self.per_model:
            return "per model"
        if self.equals is not None:
            value = str(self.equals).lower() if isinstance(self.equals, bool) else self.equals
            return f"= {value}"
        if self.low is not None and self.high is not None:
            return (f"= {self.low:g}" if self.low == self.high
                    else f"{self.low:g} to {self.high:g}")
        if self.low is not None:
            return f"≥ {self.low:g}"
        if self.high is not None:
            return f"≤ {self.high:g}"
        return "—"

    def within(self, value: Any) -> bool | None:
        """Whether ``value`` meets the fixed limits; None when the spec fixes none."""
        if isinstance(self.equals, bool):
            return isinstance(value, bool) and value is self.equals
        if self.equals is not None:
            return bool(value == self.equals)
        if self.low is None and self.high is None:
            return None
        return ((self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))


def _device_types(value: Any) -> Any:
    """Device types as the YAML names them (``ESME``) or numbers them."""
    if isinstance(value, list):
        return [DeviceType.parse(v) if isinstance(v, str | int) else v for v in value]
    return value


class Clause(BaseModel):
    """One numbered requirement: what is checked, where, whether it changes the device, who."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=_CLAUSE_ID)
    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    stage: Stage
    applies_to: Annotated[tuple[DeviceType, ...], BeforeValidator(_device_types)] = Field(
        min_length=1)
    destructive: bool
    fault_categories: tuple[FaultCategory, ...]
    ch_return_reason: ChFaultReason | None = None
    evidence: tuple[Evidence, ...] = Field(min_length=1)
    # The figures the clause's text states (windows, rates, tolerances the spec fixes), read
    # by the code that applies the clause so the two cannot say different things.
    parameters: dict[str, float | str | tuple[str, ...]] = Field(default_factory=dict)
    eligible: RoleList = ()  # resolved from the access table, never written in a clause

    @field_validator("fault_categories")
    @classmethod
    def _real_categories(cls, value: tuple[FaultCategory, ...]) -> tuple[FaultCategory, ...]:
        if FaultCategory.NONE in value:
            raise ValueError("'none' is not a fault category (leave the list empty: a "
                             "failure then makes the verdict INCONCLUSIVE)")
        return value

    @model_validator(mode="after")
    def _stage_and_kind(self) -> Clause:
        prefix = self.id.split("-")[1]
        if _STAGE_OF_PREFIX[prefix] is not self.stage:
            raise ValueError(f"clause {self.id} is in stage {self.stage.value!r}, but its "
                             f"prefix {prefix} means {_STAGE_OF_PREFIX[prefix].value!r}")
        if self.stage is Stage.RESET and not self.destructive:
            raise ValueError(f"clause {self.id} resets the device: it must be destructive")
        named = self.ch_return_reason is not None or any(
            ev.ch_return_reason is not None for ev in self.evidence)
        if named and DeviceType.CHF not in self.applies_to:
            raise ValueError(f"clause {self.id} names a CH return reason but does not apply "
                             "to a CHF")
        return self

    def applies(self, device_type: DeviceType | str | int) -> bool:
        """Whether the clause applies to ``device_type`` (a DeviceType, name or number)."""
        return DeviceType.parse(device_type) in self.applies_to

    def measurement(self, name: str) -> Evidence:
        """The evidence called ``name`` in this clause."""
        for ev in self.evidence:
            if ev.name == name:
                return ev
        raise KeyError(f"{self.id} records no measurement {name!r}")

    def parameter(self, name: str) -> float | str | tuple[str, ...]:
        """The figure ``name`` the clause states (a KeyError naming the clause if it has none)."""
        try:
            return self.parameters[name]
        except KeyError:
            raise KeyError(f"{self.id} states no parameter {name!r}") from None

    def number(self, name: str) -> float:
        """A numeric parameter (a TypeError naming it when the spec wrote text)."""
        value = self.parameter(name)
        if not isinstance(value, int | float):
            raise TypeError(f"{self.id} parameter {name!r} is not a number: {value!r}")
        return float(value)


class RoleInfo(BaseModel):
    """How the document names and explains a role."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    description: str = Field(min_length=1)


class CategoryInfo(BaseModel):
    """A verdict category and the DUIS 8.14.3 return reason a hub faulty in it takes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    ch_return_reason: ChFaultReason | None


class AlertRule(BaseModel):
    """What an alert code means for the verdict: its category and whether it alone decides."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    category: FaultCategory | None
    fault: bool
    # The context in which the code is what a field history leaves behind, not a fault
    # (harness.triage.log_rules applies it with the windows and rates the clauses state):
    # removal (before the device's removal), supply (beside a supply loss: a brown-out),
    # credentials (beside a credential update: a change of supplier).
    excused_by: Literal["removal", "supply", "credentials"] | None = None


def _alert_code(key: Any) -> int:
    """``"0x8F48"`` (or an integer) as a known GBCS alert code."""
    code = key if isinstance(key, int) else int(str(key), 16) if re.fullmatch(
        r"0[xX][0-9A-Fa-f]{1,4}", str(key)) else None
    if code is None:
        raise KeyPathError(f"alerts.{key}", "not an alert code (write it as \"0x8F48\")")
    if code not in ALERTS:
        raise KeyPathError(f"alerts.{key}", f"0x{code:04X} is not a GBCS alert code "
                                            "meterbench knows (harness.protocols.gbcs_alerts)")
    return code


class TriageSpec(BaseModel):
    """The whole specification: roles, access table, categories, alert rules and clauses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    roles: dict[Role, RoleInfo]
    access: AccessTable
    fault_categories: dict[FaultCategory, CategoryInfo]
    alerts: dict[int, AlertRule]
    clauses: tuple[Clause, ...] = Field(min_length=1)
    site: str | None = Field(default=None, exclude=True)  # whose access table, if not ours

    @model_validator(mode="before")
    @classmethod
    def _raw_checks(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for i, raw in enumerate(data.get("clauses") or ()):
            if isinstance(raw, dict) and "eligible" in raw:
                raise KeyPathError(f"clauses[{raw.get('id', i)}].eligible",
                                   "eligible roles are set in the access table "
                                   "(access.clauses), not in a clause")
        alerts = data.get("alerts")
        if isinstance(alerts, dict):
            data = {**data, "alerts": {_alert_code(k): v for k, v in alerts.items()}}
        return data

    @model_validator(mode="after")
    def _cross_checks(self) -> TriageSpec:
        missing = [r.value for r in Role if r not in self.roles]
        if missing:
            raise KeyPathError("roles", f"roles not described: {', '.join(missing)}")
        wanted = [c for c in FaultCategory if c is not FaultCategory.NONE]
        if FaultCategory.NONE in self.fault_categories:
            raise KeyPathError("fault_categories.none", "'none' is not a fault category")
        absent = [c.value for c in wanted if c not in self.fault_categories]
        if absent:
            raise KeyPathError("fault_categories", f"categories missing: {', '.join(absent)}")
        seen: set[str] = set()
        names: dict[str, str] = {}
        for clause in self.clauses:
            if clause.id in seen:
                raise KeyPathError(f"clauses[{clause.id}].id", f"duplicate clause id {clause.id}")
            seen.add(clause.id)
            for ev in clause.evidence:
                if ev.name in names:
                    raise KeyPathError(f"clauses[{clause.id}].evidence.{ev.name}",
                                       f"measurement {ev.name!r} is already recorded by "
                                       f"{names[ev.name]}")
                names[ev.name] = clause.id
        for clause_id in self.access.clauses:
            if clause_id not in seen:
                raise KeyPathError(f"access.clauses.{clause_id}",
                                   f"no clause {clause_id!r} in this specification")
        return self._resolved(self.access, self.site)

    def _resolved(self, table: AccessTable, site: str | None) -> TriageSpec:
        """A copy whose clauses carry the roles ``table`` makes eligible."""
        clauses = tuple(c.model_copy(update={"eligible": table.eligible(c.id, c.destructive)})
                        for c in self.clauses)
        return self.model_copy(update={"access": table, "clauses": clauses, "site": site})

    def with_access(self, table: AccessTable, *, site: str | None = None) -> TriageSpec:
        """The same specification under another access table (a site's)."""
        unknown = [k for k in table.clauses if k not in self.clause_ids]
        if unknown:
            raise UnknownClauseError(f"access table names unknown clauses: {', '.join(unknown)}")
        return self._resolved(table, site)

    # -- lookups ------------------------------------------------------------------------------

    @property
    def clause_ids(self) -> tuple[str, ...]:
        """Every clause id, in document order."""
        return tuple(c.id for c in self.clauses)

    def clause(self, clause_id: str) -> Clause:
        """The clause ``clause_id``; an unknown id is an UnknownClauseError naming it."""
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise UnknownClauseError(f"no clause {clause_id!r} in the triage specification",
                                 clause=clause_id)

    def __contains__(self, clause_id: object) -> bool:
        return clause_id in self.clause_ids

    def clauses_for(self, device_type: DeviceType | str | int, *, stage: Stage | str | None = None,
                    destructive: bool | None = None) -> tuple[Clause, ...]:
        """The clauses that apply to ``device_type``, optionally of one stage or kind."""
        return tuple(c for c in self.clauses if c.applies(device_type)
                     and (stage is None or c.stage == Stage(stage))
                     and (destructive is None or c.destructive == destructive))

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages in the order the document first uses them (the order a triage runs)."""
        return tuple(dict.fromkeys(c.stage for c in self.clauses))

    def measurement(self, name: str) -> tuple[Clause, Evidence]:
        """The clause recording measurement ``name``, and its evidence entry."""
        for c in self.clauses:
            for ev in c.evidence:
                if ev.name == name:
                    return c, ev
        raise KeyError(f"no clause records a measurement {name!r}")

    def alert_rule(self, code: int) -> AlertRule | None:
        """What ``code`` means for the verdict (None: not a code the spec knows)."""
        return self.alerts.get(int(code))

    def ch_return_reason(self, category: FaultCategory | str,
                         clause: Clause | str | None = None,
                         measurement: str | None = None) -> ChFaultReason | None:
        """The DUIS 8.14.3 reason for a hub faulty in ``category``: the failing measurement's
        own, else its clause's, else the category's (an unknown clause id falls back to the
        category: findings a bench charges outside a clause still get a reason)."""
        c: Clause | None = None
        if isinstance(clause, Clause):
            c = clause
        elif clause is not None and clause in self:
            c = self.clause(clause)
        if c is not None:
            for ev in c.evidence:
                if measurement is not None and ev.name == measurement \
                        and ev.ch_return_reason is not None:
                    return ev.ch_return_reason
            if c.ch_return_reason is not None:
                return c.ch_return_reason
        known = {c.value: info for c, info in self.fault_categories.items()}
        info = known.get(str(category))
        return info.ch_return_reason if info is not None else None

    def ch_return_reasons(self) -> dict[ChFaultReason, list[tuple[str, str | None]]]:
        """Every DUIS 8.14.3 reason a hub can be returned with, and the (clause, measurement)
        failures that give it (measurement None: any failure of the clause)."""
        found: dict[ChFaultReason, list[tuple[str, str | None]]] = {}
        for c in self.clauses_for(DeviceType.CHF):
            for ev in c.evidence:
                if ev.ch_return_reason is not None:
                    found.setdefault(ev.ch_return_reason, []).append((c.id, ev.name))
            for category in c.fault_categories:
                reason = self.ch_return_reason(category, c)
                if reason is not None and (c.id, None) not in found.get(reason, []):
                    found.setdefault(reason, []).append((c.id, None))
        return found


def _resource() -> importlib.resources.abc.Traversable:
    return importlib.resources.files("harness.triage").joinpath(SPEC_RESOURCE)


def spec_text(path: str | Path | None = None) -> str:
    """The YAML text of the specification at ``path`` (default: the shipped one)."""
    if path is None:
        return _resource().read_text(encoding="utf-8")
    source = str(path)
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BenchConfigError("specification file not found", file=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BenchConfigError(f"cannot read specification file: {exc}", file=source) from None


def parse_spec(data: Any, *, source: str = "<spec>") -> TriageSpec:
    """Validate already-parsed YAML; every error is a BenchConfigError naming ``source``."""
    try:
        return TriageSpec.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from None
    except KeyPathError as exc:  # raised outside a field (e.g. a bad alert key)
        raise BenchConfigError(exc.message, file=source, key_path=exc.key_path) from None


def load_spec(path: str | Path | None = None) -> TriageSpec:
    """Load and validate a specification file (default: the one shipped with meterbench)."""
    source = str(path) if path is not None else f"harness/triage/{SPEC_RESOURCE}"
    return parse_spec(parse_yaml(spec_text(path), source), source=source)


@functools.cache
def default_spec() -> TriageSpec:
    """The shipped specification, loaded once per process."""
    return load_spec()
