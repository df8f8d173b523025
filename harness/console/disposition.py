"""What an operator does with a device once it has a verdict, said in words at the bench.

A console is read standing at a bench: a device that needs attention says why (the verdict's
own reason is shown beside this) and where it goes next.  Tamper or physical damage is
quarantined as evidence (a meter may be part of a theft investigation), other faults go to
the manufacturer's returns (scrap where the model is out of warranty, a site's call), an
INCONCLUSIVE device to the quarantine bin to be triaged again, a clean one back to stock.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Disposition:
    """Where the device goes (a short instruction) and why, in words."""

    bin: str
    what_to_do: str
    attention: bool


def disposition(verdict: str, category: str | None) -> Disposition:
    """The disposition of a device with this verdict and fault category."""
    if verdict == "NO_FAULT_FOUND":
        return Disposition("back to stock", "No fault found: label it triaged and put it back "
                           "to stock for reuse.", False)
    if verdict == "FAULT":
        if category == "tamper/physical":
            return Disposition("quarantine bin (evidence)", "Tamper or physical damage: bag "
                               "it, keep it in the quarantine bin as evidence and tell the "
                               "supervisor; do not reuse or scrap it.", True)
        return Disposition("manufacturer returns / scrap", f"Fault ({category or 'unclassified'}"
                           "): put it in the manufacturer-returns cage; scrap it only if the "
                           "supervisor says it is out of warranty.", True)
    if verdict == "INCONCLUSIVE":
        return Disposition("quarantine bin (re-triage)", "The triage could not decide: put it "
                           "in the quarantine bin; it is triaged again on another bench.", True)
    if verdict in ("SKIPPED", "ABORTED", "INTERRUPTED"):
        return Disposition("back to the queue", "Not triaged: put it back in the incoming "
                           "queue; a later run triages it.", True)
    return Disposition("ask the supervisor", f"Unknown verdict {verdict!r}.", True)
