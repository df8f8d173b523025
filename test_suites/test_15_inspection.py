"""Stage 1b, inspection (Communications Hub): what the person at the bench saw of the hub's
case, connector, seals, LEDs and exposure, as TRI-ID-03's measurements (each fails with its
own DUIS 8.14.3 return reason, harness.triage.inspection)."""

from __future__ import annotations

import pytest

from harness.plugin.device import Dut
from harness.triage.inspection import HUB_INSPECTION, INSPECTION_CLAUSE

pytestmark = pytest.mark.device_type("CHF")


@pytest.mark.spec(INSPECTION_CLAUSE)
def test_physical_condition(dut: Dut, measure) -> None:
    """Each observation of the inspection is sound."""
    seen = dut.record.notes.get("inspection")
    if seen is None:
        reason = f"{INSPECTION_CLAUSE}: nobody inspected the hub (no operator at the bench)"
        dut.record.not_assessed.append(reason)
        pytest.skip(f"not assessed: {reason}")
    for item in HUB_INSPECTION:
        measure(item.measurement, bool(seen[item.measurement]), expected=True,
                category=item.category)
