"""One device's QA install/uninstall journey: who acts, what DUIS lets them do, what changed.

:meth:`Journey.attempt` is the heart of the suite: the acting role's DCC user sends a Service
Request; where DUIS's eligibility table (``harness.protocols.duis.roles``; the PROPOSED MBP.*
rows are meterbench's) lets the role send it, it must succeed; where not, the DCC must refuse
it with E2 and the SMI read back by 8.2 (the device's entry and the QA hub's HAN) must be
unchanged.  Only if the run chose ``--fallback-supplier`` does the QA environment's Supplier
(the bench's DCC user) then make the step so the rest of the journey can still be shown; that
choice is audited (who, which request, why), and without it the journey stops at the refusal.
Every destructive request (8.11, 8.1.1, 8.3, MBP.2) is sent under the run gate's permit and
audited by the DCC adapter: STARTED before it leaves, DONE, REFUSED or FAILED after.  Each
attempt is kept as a :class:`StepOutcome` and attached to the test report (user property
``meterbench.qa``) for ``meterbench qa``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from harness.bench.bench import Slot
from harness.domain.eui64 import eui64_duis
from harness.domain.types import DeviceType, SmiStatus
from harness.drivers.dcc.base import DESTRUCTIVE_VARIANTS
from harness.drivers.dcc.credentials import DccCredentials
from harness.drivers.dcc.service_requests import ServiceRequestAdapter
from harness.errors import AccessDeniedError
from harness.protocols.duis import ServiceResponse, variant_spec
from harness.protocols.duis.codes import ROLE_NOT_ELIGIBLE
from harness.protocols.installcode import InstallCode
from harness.qa import STEP_PROPERTY as QA_PROP
from harness.qa import QaSite, acting_as, may_send
from harness.triage.gate import Gate

STEPS = ("pre-notification", "whitelist", "HAN join", "commission", "reads", "decommission",
         "back to original")
"""The journey's steps in order: each needs the one before it done."""


@dataclass(frozen=True)
class StepOutcome:
    """One Service Request of the journey: who sent it, what DUIS allows, what happened."""

    slot: str
    device_type: str
    step: str
    variant: str
    request: str  # the variant's name; PROPOSED ones say so
    role: str
    allowed: bool  # by DUIS's eligibility table (meterbench's proposal for MBP.*)
    answer: str  # the DCC's response code to the acting role
    before: str  # SMI status before
    after: str  # SMI status after the acting role's attempt
    done_by: str  # who finally made the step: the role itself, or the QA Supplier
    final: str  # SMI status once the step was made


@dataclass
class Journey:
    """One ESME or GSME slot taken through the QA environment (module doc)."""

    slot: Slot
    device_id: str
    device_type: DeviceType
    install_code: InstallCode | str
    mpxn: str
    site: QaSite
    dcc: ServiceRequestAdapter
    role: str
    actor: DccCredentials
    supplier: DccCredentials
    original: dict[str, Any] | None  # the device's 8.2 entry before the journey (None: unknown)
    failed: str | None = None
    done: list[str] = field(default_factory=list)
    pre_notified_firmware: str | None = None
    outcomes: list[StepOutcome] = field(default_factory=list)
    gate: Gate | None = None  # the run's access gate: permits and audits every destructive SR
    stopped: str | None = None  # why the journey cannot go on (a step refused, no fallback)

    @property
    def duis_id(self) -> str:
        """The device's EUI-64 as DUIS writes it."""
        return eui64_duis(self.device_id)

    # -- steps -------------------------------------------------------------------------------

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Run one step once the one before it is done; a failed (or deselected) step makes
        the later ones "not run" rather than misleading."""
        if self.failed is not None:
            pytest.skip(f"not run: the {self.failed} step failed")
        if self.stopped is not None:
            pytest.skip(f"not run: {self.stopped}")
        previous = STEPS[STEPS.index(name) - 1] if STEPS.index(name) else None
        if previous is not None and previous not in self.done:
            pytest.skip(f"not run: the {previous} step did not run")
        try:
            yield
        except _Refused as refused:  # as DUIS wants, and the journey stops there
            self.stopped = str(refused)
            return
        except pytest.skip.Exception:
            raise
        except BaseException:
            self.failed = name
            raise
        self.done.append(name)

    def smi(self) -> tuple[dict[str, Any] | None, list[str]]:
        """What 8.2 says now: the device's entry and the devices in the QA hub's HAN."""
        return self.site.entry(self.device_id), self.site.hub_devices()

    def status(self) -> SmiStatus | None:
        """The device's SMI status (8.2)."""
        return self.site.status(self.device_id)

    def as_supplier(self) -> Any:
        """Sign as the QA environment's Supplier inside the block."""
        return acting_as(self.dcc, self.supplier)

    @contextmanager
    def permitted(self, variant: str, why: str) -> Iterator[None]:
        """The block may send ``variant`` if it is destructive: under the run gate's permit,
        each request audited by the adapter (STARTED before it leaves, then DONE, REFUSED or
        FAILED); a run without a gate sends none (the adapter refuses)."""
        if variant not in DESTRUCTIVE_VARIANTS or self.gate is None:
            yield
            return
        with self.gate.service_requests(device_id=self.device_id,
                                        instruments=frozenset({self.dcc.name}), why=why):
            yield

    def attempt(self, node: pytest.Item, step: str, variant: str,
                send: Callable[[], ServiceResponse]) -> ServiceResponse:
        """Send ``variant`` as the acting role (``send`` must pass ``check=False``) and check
        the answer against DUIS's eligibility table (module doc).  A step the DCC refused the
        role is made by the QA Supplier only if the run chose ``--fallback-supplier`` (an
        audited choice); otherwise the journey stops there."""
        allowed = may_send(self.role, variant)
        before = self.smi()
        with acting_as(self.dcc, self.actor), self.permitted(variant, f"QA {step} as {self.role}"):
            response = send()
        after = self.smi()
        done_by = self.role
        stop: str | None = None
        if allowed:
            assert response.success, (f"{variant} as {self.role} was refused: "
                                      f"{response.response_code} {response.message}")
        else:
            assert response.response_code == ROLE_NOT_ELIGIBLE, (
                f"{variant} as {self.role} should be refused with {ROLE_NOT_ELIGIBLE}, got "
                f"{response.response_code} {response.message}")
            assert after == before, f"the refused {variant} changed the SMI: {before} -> {after}"
            why = (f"{variant} refused to {self.role} ({ROLE_NOT_ELIGIBLE}); the QA journey goes "
                   "on as the QA environment's Supplier")
            if self.gate is None or not self.gate.fallback_supplier:
                done_by = "nobody"
                stop = (f"{variant} was refused to {self.role}; pass --fallback-supplier to make "
                        "it as the QA Supplier (audited)")
                if self.gate is not None:  # the refusal of the fallback is audited too
                    with suppress(AccessDeniedError), self.gate.fallback_to_supplier(
                            variant, device_id=self.device_id, why=why):
                        pass
            else:
                with self.gate.fallback_to_supplier(variant, device_id=self.device_id, why=why), \
                        self.as_supplier(), self.permitted(variant, f"QA {step}, fallback"):
                    response = send()
                assert response.success, (f"{variant} as the QA Supplier was refused: "
                                          f"{response.response_code} {response.message}")
                done_by = "QA Supplier"
        outcome = StepOutcome(
            slot=self.slot.name, device_type=self.device_type.name, step=step, variant=variant,
            request=variant_spec(variant).name, role=self.role, allowed=allowed,
            answer=response.response_code if allowed else ROLE_NOT_ELIGIBLE,
            before=_status(before[0]), after=_status(after[0]), done_by=done_by,
            final=_status(self.site.entry(self.device_id)) if not allowed else _status(after[0]))
        self.outcomes.append(outcome)
        node.user_properties.append((QA_PROP, asdict(outcome)))
        if stop is not None:
            raise _Refused(stop)
        return response

    def observed(self, node: pytest.Item, step: str, what: str, before: SmiStatus) -> None:
        """Keep a transition no request made (e.g. the CHF reporting a join) with the rest."""
        now = _status(self.site.entry(self.device_id))
        outcome = StepOutcome(
            slot=self.slot.name, device_type=self.device_type.name, step=step, variant="-",
            request=what, role=self.role, allowed=True, answer="-", before=str(before),
            after=now, done_by="device and CHF", final=now)
        self.outcomes.append(outcome)
        node.user_properties.append((QA_PROP, asdict(outcome)))

    def expect(self, wanted: SmiStatus | None) -> dict[str, Any] | None:
        """The device's 8.2 entry, asserted to be ``wanted`` (None: not in the SMI)."""
        entry = self.site.entry(self.device_id)
        got = None if entry is None else SmiStatus(entry["DeviceStatus"])
        assert got is wanted, f"{self.duis_id}: SMI status {got}, expected {wanted}"
        return entry

    def restore(self) -> None:
        """Best effort, as the QA Supplier: bring a device an unfinished journey (a step failed
        or was not run) left installed back to its original SMI state (8.3 then the PROPOSED
        MBP.2, or 8.11 remove; then 8.4 delete if the SMI did not know it)."""
        if STEPS[-1] in self.done:
            return
        if self.gate is None or self.gate.role_name == "supplier":
            self._restore(self.supplier)
        elif not self.gate.fallback_supplier:
            self._restore(self.actor)  # what the role may do; the DCC refuses the rest
        else:
            with self.gate.fallback_to_supplier("restore", device_id=self.device_id,
                                                why="an unfinished QA journey is put back as "
                                                    "the QA environment's Supplier"):
                self._restore(self.supplier)

    def _restore(self, credentials: DccCredentials) -> None:
        """:meth:`restore`'s requests, signed as ``credentials``."""
        with acting_as(self.dcc, credentials), self.permitted("8.3", "QA restore"):
            status = self.status()
            if status in (SmiStatus.INSTALLED_NOT_COMMISSIONED, SmiStatus.COMMISSIONED):
                self.dcc.decommission(self.device_id, check=False)
                status = self.status()
            if status is SmiStatus.DECOMMISSIONED:
                self.dcc.reset(self.device_id, check=False)
            elif status is SmiStatus.WHITELISTED:
                self.dcc.remove_from_whitelist(self.site.hub_id, self.device_id, check=False)
            if self.original is None and self.status() is SmiStatus.PENDING:
                self.dcc.update_inventory(self.device_id, delete=True, check=False)


class _Refused(Exception):
    """A step the DCC refused to the role, as DUIS wants, with no fallback: the journey stops."""


def _status(entry: dict[str, Any] | None) -> str:
    """An 8.2 entry's status, or that the SMI does not know the device."""
    return "not in SMI" if entry is None else str(entry["DeviceStatus"])
