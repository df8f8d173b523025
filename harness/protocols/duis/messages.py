"""DUIS Service Requests: parse and build ``sr:Request`` documents (unsigned; see signing.py).

Structure (GB-SMART-METERING.md, "DUIS messages"; DCC's DUIS Schema V5.4 ``Request`` type):
``sr:Request@schemaVersion`` holding ``sr:Header`` (RequestID, optional FirstInSequence and
PrecedingServiceRequestID, CommandVariant, ServiceReference, ServiceReferenceVariant, in that
order), ``sr:Body`` with exactly one element, then an optional ``ds:Signature``.  The body is
mapped generically (xmltree.py); the header must agree with the variant (variants.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lxml import etree

from harness.domain.eui64 import normalise_eui64
from harness.protocols.digits import ascii_int

from .codes import BAD_COMMAND_VARIANT, MALFORMED, UNKNOWN_VARIANT
from .errors import DuisError
from .ids import RequestId
from .namespaces import DS, NS, PROPOSAL_NS
from .variants import VariantSpec, variant_spec
from .xmltree import (
    body_to_dict,
    child_elements,
    element_path,
    local_name,
    namespace_of,
    parse_xml,
    value_to_children,
)

__all__ = ["ServiceRequest", "build_request", "parse_request"]

_SCHEMA_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_HEADER = (
    ("RequestID", True),
    ("FirstInSequence", False),
    ("PrecedingServiceRequestID", False),
    ("CommandVariant", True),
    ("ServiceReference", True),
    ("ServiceReferenceVariant", True),
)


@dataclass
class ServiceRequest:
    """One Service Request: header fields, the body element's local name and its content."""

    request_id: RequestId
    command_variant: int
    service_reference: str
    variant: str
    body_tag: str
    body: dict[str, Any]
    schema_version: str = "5.4"
    proposal: bool = False
    first_in_sequence: bool | None = None
    preceding_request_id: RequestId | None = None

    @property
    def spec(self) -> VariantSpec:
        """The variant's spec (name, Command Variants, ...)."""
        return variant_spec(self.variant)

    @property
    def body_device_id(self) -> str | None:
        """The body's ``DeviceID`` as 16 hex digits, or None if the body has none."""
        value = self.body.get("DeviceID")
        return normalise_eui64(value) if isinstance(value, str) and value else None


def _error(message: str, code: str, source: str, element: etree._Element | None,
           child: str | None = None) -> DuisError:
    """A DuisError located at ``element`` (and a missing ``child`` under it)."""
    if element is None:
        return DuisError(message, response_code=code, source=source)
    return DuisError(
        message,
        response_code=code,
        source=source,
        line=element.sourceline,
        path=element_path(element, child),
    )


def check_consistent(request: ServiceRequest, source: str,
                     header: etree._Element | None = None,
                     body: etree._Element | None = None) -> VariantSpec:
    """Check the header agrees with the variant and the body; return the variant's spec."""
    spec = _located_spec(request.variant, source, header)
    if request.service_reference != spec.service_reference:
        raise _error(
            f"ServiceReference {request.service_reference!r} does not match "
            f"ServiceReferenceVariant {request.variant!r} (expected "
            f"{spec.service_reference!r})",
            UNKNOWN_VARIANT, source, header, "sr:ServiceReference",
        )
    if request.command_variant not in spec.command_variants:
        allowed = ", ".join(str(cv) for cv in sorted(spec.command_variants))
        raise _error(
            f"CommandVariant {request.command_variant} is not applicable to {spec.variant} "
            f"{spec.name} (allowed: {allowed})",
            BAD_COMMAND_VARIANT, source, header, "sr:CommandVariant",
        )
    if spec.body_tag is not None and request.body_tag != spec.body_tag:
        raise _error(
            f"body element {request.body_tag!r} does not match {spec.variant} {spec.name} "
            f"(expected {spec.body_tag!r})",
            UNKNOWN_VARIANT, source, body,
        )
    if request.proposal != spec.proposal:
        kind = "a meterbench proposal" if spec.proposal else "a DUIS request"
        raise _error(f"{spec.variant} is {kind}; proposal flag says otherwise",
                     UNKNOWN_VARIANT, source, body)
    return spec


def _located_spec(variant: str, source: str, header: etree._Element | None) -> VariantSpec:
    """``variant_spec`` located at the header's ServiceReferenceVariant."""
    if header is None:
        return variant_spec(variant, source=source)
    return variant_spec(
        variant,
        source=source,
        line=header.sourceline,
        path=element_path(header, "sr:ServiceReferenceVariant"),
    )


def _text(element: etree._Element, source: str) -> str:
    """An element's stripped text; empty text is an error naming the element."""
    text = (element.text or "").strip()
    if child_elements(element) or not text:
        raise _error(f"sr:{local_name(element)} must hold a non-empty text value",
                     MALFORMED, source, element)
    return text


def _read_header(header: etree._Element, source: str) -> dict[str, etree._Element]:
    """Match the header's children against DUIS's sequence; return them by local name."""
    children = child_elements(header)
    found: dict[str, etree._Element] = {}
    index = 0
    previous = None
    for name, required in _HEADER:
        child = children[index] if index < len(children) else None
        if child is not None and namespace_of(child) == NS and local_name(child) == name:
            found[name] = child
            index += 1
            previous = name
        elif required:
            after = f" (expected after sr:{previous})" if previous else " (expected first)"
            raise _error(f"missing sr:{name}{after}", MALFORMED, source, header, f"sr:{name}")
    if index < len(children):
        extra = children[index]
        raise _error(f"unexpected element in sr:Header: {etree.QName(extra).text}",
                     MALFORMED, source, extra)
    return found


def _parse_bool(element: etree._Element, source: str) -> bool:
    """An xs:boolean."""
    text = _text(element, source)
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise _error(f"not an xs:boolean: {text!r}", MALFORMED, source, element)


def _parse_request_id(element: etree._Element, source: str) -> RequestId:
    """A RequestID element, located on error."""
    try:
        return RequestId.parse(_text(element, source))
    except ValueError as exc:  # ProtocolError, or a counter out of range
        raise _error(str(exc), MALFORMED, source, element) from None


def _split_root(root: etree._Element, source: str, name: str
                ) -> tuple[etree._Element, etree._Element]:
    """Check the root is ``sr:{name}`` with schemaVersion; return its Header and Body."""
    if namespace_of(root) != NS or local_name(root) != name:
        raise _error(f"root element is {etree.QName(root).text}, expected sr:{name} in "
                     f"namespace {NS}", MALFORMED, source, root)
    version = root.get("schemaVersion")
    if version is None or not _SCHEMA_VERSION.match(version):
        raise _error(f"sr:{name} needs a decimal schemaVersion attribute, got {version!r}",
                     MALFORMED, source, root)
    children = child_elements(root)
    names = [(namespace_of(c), local_name(c)) for c in children]
    expected = [(NS, "Header"), (NS, "Body")]
    if names[:2] != expected:
        missing = next((n for n in ("Header", "Body") if (NS, n) not in names), None)
        if missing:
            raise _error(f"missing sr:{missing}", MALFORMED, source, root, f"sr:{missing}")
        raise _error("sr:Header must come first, then sr:Body", MALFORMED, source, root)
    for index, extra in enumerate(children[2:]):
        if index > 0 or (namespace_of(extra), local_name(extra)) != (DS, "Signature"):
            raise _error(f"unexpected element {etree.QName(extra).text} (only one "
                         "ds:Signature may follow sr:Body)", MALFORMED, source, extra)
    return children[0], children[1]


def _single_body_element(body: etree._Element, source: str) -> etree._Element:
    """The one element inside sr:Body."""
    inner = child_elements(body)
    if len(inner) != 1:
        raise _error(f"sr:Body must hold exactly one element, found {len(inner)}",
                     MALFORMED, source, body)
    return inner[0]


def parse_request(data: bytes, *, source: str = "request") -> ServiceRequest:
    """Parse a DUIS request (signed or not); a DuisError says what is wrong and where."""
    root = parse_xml(data, source)
    header, body = _split_root(root, source, "Request")
    fields = _read_header(header, source)
    request_id = _parse_request_id(fields["RequestID"], source)
    cv_text = _text(fields["CommandVariant"], source)
    command_variant = ascii_int(cv_text, 1)
    if command_variant is None or not 1 <= command_variant <= 9:
        raise _error(f"CommandVariant must be an integer 1..9, got {cv_text!r}",
                     MALFORMED, source, fields["CommandVariant"])
    preceding = fields.get("PrecedingServiceRequestID")
    first = fields.get("FirstInSequence")
    inner = _single_body_element(body, source)
    variant = _text(fields["ServiceReferenceVariant"], source)
    spec = _located_spec(variant, source, header)
    expected_ns = PROPOSAL_NS if spec.proposal else NS
    if namespace_of(inner) != expected_ns:
        raise _error(f"body element is in namespace {namespace_of(inner)!r}; {variant} "
                     f"needs {expected_ns!r}", UNKNOWN_VARIANT, source, inner)
    request = ServiceRequest(
        request_id=request_id,
        command_variant=command_variant,
        service_reference=_text(fields["ServiceReference"], source),
        variant=variant,
        body_tag=local_name(inner),
        body=body_to_dict(inner, source, expected_ns),
        schema_version=root.get("schemaVersion", ""),
        proposal=spec.proposal,
        first_in_sequence=_parse_bool(first, source) if first is not None else None,
        preceding_request_id=(
            _parse_request_id(preceding, source) if preceding is not None else None
        ),
    )
    check_consistent(request, source, header, inner)
    return request


def build_request(request: ServiceRequest) -> bytes:
    """The unsigned ``sr:Request`` XML for ``request`` (UTF-8, with declaration)."""
    spec = check_consistent(request, "build_request")
    if not _SCHEMA_VERSION.match(request.schema_version):
        raise DuisError(f"schema_version must be decimal, got {request.schema_version!r}",
                        response_code=MALFORMED, source="build_request")
    nsmap = {"sr": NS, "ds": DS}
    if spec.proposal:
        nsmap["mbp"] = PROPOSAL_NS
    root = etree.Element(f"{{{NS}}}Request", nsmap=nsmap)
    root.set("schemaVersion", request.schema_version)
    header = etree.SubElement(root, f"{{{NS}}}Header")

    def add(parent: etree._Element, name: str, text: str) -> None:
        etree.SubElement(parent, f"{{{NS}}}{name}").text = text

    add(header, "RequestID", str(request.request_id))
    if request.first_in_sequence is not None:
        add(header, "FirstInSequence", "true" if request.first_in_sequence else "false")
    if request.preceding_request_id is not None:
        add(header, "PrecedingServiceRequestID", str(request.preceding_request_id))
    add(header, "CommandVariant", str(request.command_variant))
    add(header, "ServiceReference", request.service_reference)
    add(header, "ServiceReferenceVariant", request.variant)
    body = etree.SubElement(root, f"{{{NS}}}Body")
    body_ns = PROPOSAL_NS if spec.proposal else NS
    inner = etree.SubElement(body, f"{{{body_ns}}}{request.body_tag}")
    try:
        value_to_children(inner, request.body, body_ns, request.body_tag)
    except ValueError as exc:
        raise DuisError(str(exc), response_code=MALFORMED, source="build_request") from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
