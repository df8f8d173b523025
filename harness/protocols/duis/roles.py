"""DUIS user roles and which of them may send each Service Request.

The table is GB-SMART-METERING.md, "DUIS Service Requests relevant to triage, with eligible
roles", row by row; how a row with a range maps onto single variants is said beside it.
An RSA may read (logs, configuration, supply status, inventory, firmware version) but gets
no commission, decommission or credential update.  The ``MBP.*`` rows are meterbench's
PROPOSAL for SECMP0013's triage/reset requests (not in DUIS): conservatively IS and GS only,
since the domain page leaves any reset by an RSA to an explicit grant of the access table.
"""

from __future__ import annotations

from enum import StrEnum

from .codes import ROLE_NOT_ELIGIBLE
from .errors import DuisAuthorisationError
from .variants import variant_spec

__all__ = ["ELIGIBILITY", "UserRole", "check_eligible", "eligible_roles"]


class UserRole(StrEnum):
    """DUIS user roles (GB-SMART-METERING.md)."""

    IS = "IS"  # import supplier
    ES = "ES"  # export supplier
    GS = "GS"  # gas supplier
    ED = "ED"  # electricity distributor
    GT = "GT"  # gas transporter
    RSA = "RSA"  # registered supplier agent
    OU = "OU"  # other user

    @property
    def full_name(self) -> str:
        """The role's full name."""
        return _TITLES[self]


_TITLES = {
    UserRole.IS: "Import Supplier",
    UserRole.ES: "Export Supplier",
    UserRole.GS: "Gas Supplier",
    UserRole.ED: "Electricity Distributor",
    UserRole.GT: "Gas Transporter",
    UserRole.RSA: "Registered Supplier Agent",
    UserRole.OU: "Other User",
}


def _roles(text: str) -> frozenset[UserRole]:
    """``"IS GS RSA"`` -> the set of roles."""
    return frozenset(UserRole(word) for word in text.split())


_ALL = frozenset(UserRole)

ELIGIBILITY: dict[str, frozenset[UserRole]] = {
    "6.13": _roles("IS GS ED GT RSA"),
    # "6.2.x | IS GS (RSA for 6.2.1-6.2.9)": 6.2.10 is the only listed variant above 6.2.9.
    **{f"6.2.{n}": _roles("IS GS RSA") for n in (1, 2, 3, 4, 5, 7, 8, 9)},
    "6.2.10": _roles("IS GS"),
    "7.4": _roles("IS ES GS RSA ED GT"),
    "8.1.1": _roles("IS GS"),
    "8.2": _roles("IS ES GS RSA ED GT OU"),
    "8.3": _roles("IS GS"),
    "8.4": _ALL,  # "all, RSA included"
    # "8.7.x / 8.8.x | IS GS (OU for non-critical)": 8.7.2 and 8.8.2 are the non-critical ones.
    "8.7.1": _roles("IS GS"),
    "8.7.2": _roles("IS GS OU"),
    "8.8.1": _roles("IS GS"),
    "8.8.2": _roles("IS GS OU"),
    "8.9": _roles("IS GS OU"),
    "8.11": _roles("IS GS OU"),
    **{f"8.14.{n}": _roles("IS GS") for n in (1, 2, 3, 4)},
    "3.3": _roles("IS GS"),
    # "6.15.x, 6.23 | IS GS (+ED/GT for KRP)": 6.15.1 is the KRP variant (its body is
    # UpdateSecurityCredentialsKRP in DUIS Schema V5.4).
    "6.15.1": _roles("IS GS ED GT"),
    "6.15.2": _roles("IS GS"),
    "6.23": _roles("IS GS"),
    "11.2": _roles("IS ES GS RSA ED GT OU"),
    "12.2": _ALL,  # "all"
    # PROPOSAL (not DUIS): meterbench's conservative choice, IS and GS only.
    "MBP.1": _roles("IS GS"),
    "MBP.2": _roles("IS GS"),
}
"""Eligible roles per Service Reference Variant."""


def eligible_roles(variant: str) -> frozenset[UserRole]:
    """Roles that may send ``variant``; a DuisError (EMB02) for a variant meterbench lacks."""
    variant_spec(variant, path=f"ServiceReferenceVariant {variant!r}")
    roles = ELIGIBILITY.get(variant)
    if roles is None:  # a known variant must have a row: a gap here is a meterbench bug
        raise AssertionError(f"no eligibility row for known variant {variant}")
    return roles


def check_eligible(variant: str, role: UserRole | str) -> None:
    """Raise DuisAuthorisationError (DUIS E2) unless ``role`` may send ``variant``."""
    user_role = UserRole(role)
    roles = eligible_roles(variant)
    if user_role not in roles:
        spec = variant_spec(variant)
        allowed = ", ".join(sorted(r.value for r in roles))
        raise DuisAuthorisationError(
            f"user role {user_role.value} ({user_role.full_name}) may not send {variant} "
            f"{spec.name}; eligible: {allowed}",
            response_code=ROLE_NOT_ELIGIBLE,
            path=f"ServiceReferenceVariant {variant}",
            role=user_role.value,
            variant=variant,
        )
