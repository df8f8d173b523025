"""The eligibility table is the domain page's, and ineligible roles get DUIS's E2."""

from __future__ import annotations

import pytest

from harness.protocols.duis import (
    ELIGIBILITY,
    VARIANTS,
    DuisAuthorisationError,
    DuisError,
    UserRole,
    check_eligible,
    codes,
    eligible_roles,
)

ALL = set(UserRole)

# GB-SMART-METERING.md, "DUIS Service Requests relevant to triage, with eligible roles",
# transcribed row by row (ranges expanded the way roles.py documents).
DOMAIN_TABLE = {
    "6.13": "IS GS ED GT RSA",
    "7.4": "IS ES GS RSA ED GT",
    "8.1.1": "IS GS",
    "8.2": "IS ES GS RSA ED GT OU",
    "8.3": "IS GS",
    "8.4": "IS ES GS ED GT RSA OU",
    "8.7.1": "IS GS",
    "8.7.2": "IS GS OU",
    "8.8.1": "IS GS",
    "8.8.2": "IS GS OU",
    "8.9": "IS GS OU",
    "8.11": "IS GS OU",
    "8.14.1": "IS GS",
    "8.14.2": "IS GS",
    "8.14.3": "IS GS",
    "8.14.4": "IS GS",
    "3.3": "IS GS",
    "6.15.1": "IS GS ED GT",
    "6.15.2": "IS GS",
    "6.23": "IS GS",
    "11.2": "IS ES GS RSA ED GT OU",
    "12.2": "IS ES GS ED GT RSA OU",
    **{f"6.2.{n}": "IS GS RSA" for n in (1, 2, 3, 4, 5, 7, 8, 9)},
    "6.2.10": "IS GS",
    "MBP.1": "IS GS",  # meterbench proposal
    "MBP.2": "IS GS",  # meterbench proposal
}


def test_table_is_the_domain_pages() -> None:
    """Every row, exactly; and every variant meterbench parses has a row."""
    assert {v: {r.value for r in roles} for v, roles in ELIGIBILITY.items()} == {
        v: set(roles.split()) for v, roles in DOMAIN_TABLE.items()}
    assert set(ELIGIBILITY) == set(VARIANTS)


@pytest.mark.parametrize("variant", ["8.4", "12.2"])
def test_inventory_update_and_prenotification_are_open_to_all(variant: str) -> None:
    """8.4 and 12.2: all roles, RSA included."""
    assert eligible_roles(variant) == ALL


def test_rsa_reads_but_may_not_commission_or_decommission() -> None:
    """An RSA may read inventory, logs, supply status, firmware; not commission/decommission."""
    for read in ("8.2", "6.13", "7.4", "11.2", "6.2.1"):
        check_eligible(read, UserRole.RSA)
    for change in ("8.1.1", "8.3", "8.11", "6.15.1", "6.15.2", "6.23", "3.3", "8.14.3"):
        with pytest.raises(DuisAuthorisationError) as caught:
            check_eligible(change, UserRole.RSA)
        assert caught.value.response_code == codes.ROLE_NOT_ELIGIBLE == "E2"
        assert "RSA" in caught.value.message and change in caught.value.message


def test_proposals_are_conservative() -> None:
    """Proposed triage and reset: IS and GS only, no RSA, no OU."""
    for variant in ("MBP.1", "MBP.2"):
        assert eligible_roles(variant) == {UserRole.IS, UserRole.GS}
        with pytest.raises(DuisAuthorisationError):
            check_eligible(variant, "RSA")


def test_role_accepts_its_string_and_rejects_others() -> None:
    """Roles are StrEnum values; an unknown role name is a ValueError."""
    check_eligible("8.3", "IS")
    assert UserRole("GS").full_name == "Gas Supplier"
    with pytest.raises(ValueError):
        check_eligible("8.3", "DCC")


def test_unknown_variant_is_a_duis_error() -> None:
    """Eligibility of a variant meterbench does not know: EMB02."""
    with pytest.raises(DuisError) as caught:
        eligible_roles("99.1")
    assert caught.value.response_code == codes.UNKNOWN_VARIANT
