"""The QA environment on the Service Request route: a test hub, dummy MPxNs, DCC users by role.

Used by the QA install/uninstall suite (``test_suites/qa``, run by ``meterbench qa``) and by
the ``duis`` device profile (``harness.devices.remote``), which triages through the DCC.
"""

from __future__ import annotations

from harness.qa.site import IN_SERVICE, QaSite, dummy_mpxn, power_up
from harness.qa.users import QA_ROLES, acting_as, credentials_for, duis_roles, may_send

__all__ = [
    "IN_SERVICE",
    "QA_ROLES",
    "STEP_PROPERTY",
    "QaSite",
    "acting_as",
    "credentials_for",
    "duis_roles",
    "dummy_mpxn",
    "may_send",
    "power_up",
]

STEP_PROPERTY = "meterbench.qa"
"""The test-report user property carrying one QA step's outcome (``meterbench qa`` reads it)."""
