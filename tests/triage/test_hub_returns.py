"""A hub's verdict becomes the DUIS return that fits it: 8.14.3 with its CHFFaultReason as the
DUIS schema spells it, 8.14.4 for no fault; the messages have the shape of DCC's examples
(../shared/reference/duis, read in place)."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from harness.domain.vocabulary import ChFaultReason
from harness.protocols.duis import DCC_EUI64, RequestId, build_request, ch_status_update
from harness.protocols.duis.vocabulary import CHFFaultReason, CHFNoFaultReturnType
from harness.triage.classify import Verdict, VerdictKind
from harness.triage.hub_returns import (
    FAULT_REASON_TOKEN,
    NO_FAULT_TYPE_TOKEN,
    HubReturnError,
    hub_return,
)
from harness.triage.intake import ReturnType

REFERENCE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "duis"
FAULT_EXAMPLE = "8.14.3_COMMUNICATIONS_HUB_STATUS_UPDATE_FAULT_RETURN_REQUEST_DUIS.XML"
NO_FAULT_EXAMPLE = "8.14.4_COMMUNICATIONS_HUB_STATUS_UPDATE_NO_FAULT_RETURN_REQUEST_DUIS.XML"
HUB, ESME = "00DB1234567890A2", "00DB1234567890A0"  # the examples' CHF and other device
EXAMPLE_ID = RequestId("90B3D51F30010000", DCC_EUI64, 1000)  # the examples' RequestID
DSIG = "{http://www.w3.org/2000/09/xmldsig#}Signature"


def example(name: str) -> bytes:
    path = REFERENCE_DIR / name
    if not REFERENCE_DIR.is_dir():
        pytest.skip(f"DCC's reference requests are not beside this checkout ({REFERENCE_DIR})")
    return path.read_bytes()


def shape(xml: bytes) -> list[tuple[str, str]]:
    """(tag, text) of every element in document order, the signature left out."""
    root = etree.fromstring(xml)
    out = [(root.tag, root.get("schemaVersion", ""))]
    for element in root.iter():
        if element is root or not isinstance(element.tag, str):
            continue
        if any(a.tag == DSIG for a in [element, *element.iterancestors()]):
            continue
        out.append((element.tag, (element.text or "").strip()))
    return out


def fault(reason: ChFaultReason) -> Verdict:
    return Verdict(VerdictKind.FAULT, "hardware", reason.value, "evidence")


def built(verdict: Verdict, **context: object) -> bytes:
    hub = hub_return(HUB, verdict, **context)  # type: ignore[arg-type]
    assert hub is not None
    return build_request(ch_status_update(hub.variant, EXAMPLE_ID, hub.device_id, **hub.fields))


def test_every_domain_reason_has_its_schema_token() -> None:
    assert set(FAULT_REASON_TOKEN) == set(ChFaultReason)
    assert set(FAULT_REASON_TOKEN.values()) == set(CHFFaultReason)
    assert set(NO_FAULT_TYPE_TOKEN.values()) == set(CHFNoFaultReturnType)


def test_a_fault_return_is_dccs_example_to_the_letter() -> None:
    """The verdict's words ("damaged case", "prior to installation", hot shoe) become the
    schema's tokens DCC's example carries ("Damaged case", "Fault identified prior to
    installation", "Hot-shoe"): same elements, order and values."""
    xml = built(fault(ChFaultReason.DAMAGED_CASE), return_type=ReturnType.PRIOR_TO_INSTALLATION,
                connection_method="hot shoe", other_device_id=ESME)
    assert shape(xml) == shape(example(FAULT_EXAMPLE))


@pytest.mark.parametrize("reason", list(ChFaultReason))
def test_each_reason_makes_a_fault_return_of_the_examples_shape(reason: ChFaultReason) -> None:
    xml = built(fault(reason), return_type="post installation", connection_method="cradle",
                other_device_id=ESME)
    ours, theirs = shape(xml), shape(example(FAULT_EXAMPLE))
    assert [tag for tag, _ in ours] == [tag for tag, _ in theirs]
    values = dict((tag.split("}")[1], text) for tag, text in ours)
    assert values["CHFFaultReason"] == FAULT_REASON_TOKEN[reason].value
    assert values["CHFFaultReturnType"] == "Fault identified post installation"
    assert values["CHFConnectionMethod"] == "Cradle"


def test_a_no_fault_return_is_dccs_example_to_the_letter() -> None:
    xml = built(Verdict(VerdictKind.NO_FAULT_FOUND, reset=True))
    assert shape(xml) == shape(example(NO_FAULT_EXAMPLE))


def test_the_manifests_no_fault_reason_picks_the_no_fault_type() -> None:
    hub = hub_return(HUB, Verdict(VerdictKind.NO_FAULT_FOUND), return_reason="Lost or stolen hub")
    assert hub is not None and hub.variant == "8.14.4"
    assert hub.fields == {"return_type": CHFNoFaultReturnType.LOST_OR_STOLEN.value}
    other = hub_return(HUB, Verdict(VerdictKind.NO_FAULT_FOUND), return_reason="no HAN")
    assert other is not None and other.fields["return_type"] == "No Fault Return (general)"


@pytest.mark.parametrize("kind", [VerdictKind.INCONCLUSIVE, VerdictKind.SKIPPED,
                                  VerdictKind.ABORTED, VerdictKind.INTERRUPTED])
def test_no_return_without_a_verdict_on_evidence(kind: VerdictKind) -> None:
    assert hub_return(HUB, Verdict(kind, why="bench: psu timeout")) is None


@pytest.mark.parametrize(("context", "named"), [
    ({"connection_method": "cradle", "other_device_id": ESME}, "--hub-return-type"),
    ({"return_type": "post installation", "other_device_id": ESME}, "--hub-connection"),
    ({"return_type": "post installation", "connection_method": "cradle"}, "OtherDeviceID"),
    ({"return_type": "next tuesday", "connection_method": "cradle", "other_device_id": ESME},
     "'next tuesday'"),
    ({"return_type": "post installation", "connection_method": "glue",
      "other_device_id": ESME}, "'glue'"),
])
def test_what_a_fault_return_lacks_is_named(context: dict, named: str) -> None:
    with pytest.raises(HubReturnError, match=named):
        hub_return(HUB, fault(ChFaultReason.LED), **context)


def test_a_fault_without_a_hub_reason_is_refused() -> None:
    with pytest.raises(HubReturnError, match="names no DUIS return reason"):
        hub_return(HUB, Verdict(VerdictKind.FAULT, "metrology"), return_type="post installation",
                   connection_method="esme", other_device_id=ESME)
