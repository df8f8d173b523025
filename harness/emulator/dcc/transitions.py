"""Which Smart Metering Inventory status may follow which, and what moves a device there.

The statuses are GB-SMART-METERING.md's ("Smart Metering Inventory (SMI) statuses").  The page
gives no transitions, so every row of :data:`TRANSITIONS` is MODELLED: each names the Service
Request (or the DCC-internal event) that makes it in this emulator, after what each DUIS
Service Request is for.  The rows marked PROPOSAL belong to meterbench's proposed reset
request (SECMP0013's original solution), which is not in DUIS.  A transition not in the table
is refused with DUIS ``E5`` (device SMI status incompatible with the Service Request).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.domain.types import SmiStatus

__all__ = ["INITIAL_STATUSES", "TRANSITIONS", "Transition", "allowed_targets", "transition"]

_S = SmiStatus


@dataclass(frozen=True)
class Transition:
    """One allowed status change and the events that make it (all modelled, see module doc)."""

    source: SmiStatus
    target: SmiStatus
    triggers: tuple[str, ...]


def _t(source: SmiStatus, target: SmiStatus, *triggers: str) -> Transition:
    """Shorthand for one table row."""
    return Transition(source, target, triggers)


_IN_SERVICE = (_S.PENDING, _S.WHITELISTED, _S.INSTALLED_NOT_COMMISSIONED, _S.COMMISSIONED)

TRANSITIONS: dict[tuple[SmiStatus, SmiStatus], Transition] = {
    (t.source, t.target): t
    for t in (
        # Installing a meter: whitelisted in its CHF (8.11), joined over the HAN (the CHF's
        # "device joining succeeded" alert 0x8F49 tells the DCC), commissioned (8.1.1).
        _t(_S.PENDING, _S.WHITELISTED, "8.11 add to CHF device log"),
        _t(_S.WHITELISTED, _S.PENDING, "8.11 remove from CHF device log before joining",
           "8.4 update inventory"),
        _t(_S.WHITELISTED, _S.INSTALLED_NOT_COMMISSIONED, "HAN join reported by the CHF",
           "8.4 update inventory"),
        _t(_S.INSTALLED_NOT_COMMISSIONED, _S.PENDING, "8.4 update inventory (install undone)"),
        # Installing a hub: 8.14.1 / 8.14.2; the DCC commissions CHF and GPF on the SM WAN.
        _t(_S.PENDING, _S.INSTALLED_NOT_COMMISSIONED, "8.14.1 / 8.14.2 CH install",
           "8.4 update inventory"),
        _t(_S.INSTALLED_NOT_COMMISSIONED, _S.COMMISSIONED, "8.1.1 commission device",
           "DCC commissions a CHF/GPF on the SM WAN", "8.4 update inventory (CH)"),
        # Removal.
        _t(_S.INSTALLED_NOT_COMMISSIONED, _S.DECOMMISSIONED, "8.3 decommission device"),
        _t(_S.COMMISSIONED, _S.DECOMMISSIONED, "8.3 decommission device"),
        *(_t(s, _S.WITHDRAWN, "8.4 update inventory (CH)", "8.14.3 / 8.14.4 CH return")
          for s in (_S.PENDING, _S.WHITELISTED, _S.INSTALLED_NOT_COMMISSIONED,
                    _S.DECOMMISSIONED)),
        _t(_S.COMMISSIONED, _S.WITHDRAWN, "8.14.3 / 8.14.4 CH return after installation",
           "8.4 update inventory (CH)"),
        # Re-use of a device that left service: pre-notified again, or the PROPOSED reset.
        _t(_S.DECOMMISSIONED, _S.PENDING, "12.2 pre-notification (re-use)",
           "8.4 update inventory", "PROPOSAL MBP.2 reset device"),
        _t(_S.WITHDRAWN, _S.PENDING, "12.2 pre-notification (re-use)",
           "8.4 update inventory", "PROPOSAL MBP.2 reset device"),
        # DCC-internal: suspension (e.g. firmware not on the approved list) and recovery.
        *(_t(s, _S.SUSPENDED, "DCC suspends the device") for s in _IN_SERVICE),
        *(_t(_S.SUSPENDED, s, "DCC lifts the suspension") for s in _IN_SERVICE),
        _t(_S.COMMISSIONED, _S.RECOVERY, "DCC starts recovery"),
        _t(_S.RECOVERY, _S.RECOVERED, "DCC completes recovery"),
        _t(_S.RECOVERED, _S.COMMISSIONED, "DCC returns the device to service"),
    )
}
"""Allowed ``(source, target)`` status changes with what triggers each (all modelled)."""

INITIAL_STATUSES: frozenset[SmiStatus] = frozenset({_S.PENDING, _S.NOT_APPLICABLE})
"""Statuses a device may enter the inventory with by a request: Pending (12.2), and Not
Applicable for devices the SMI lists without a lifecycle (modelled: Type 2 devices)."""


def transition(source: SmiStatus, target: SmiStatus) -> Transition | None:
    """The allowed transition from ``source`` to ``target``, or None."""
    return TRANSITIONS.get((source, target))


def allowed_targets(source: SmiStatus) -> list[SmiStatus]:
    """Every status ``source`` may change to, in the enum's order."""
    return [t for t in SmiStatus if (source, t) in TRANSITIONS]
