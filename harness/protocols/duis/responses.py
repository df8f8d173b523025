"""DUIS Service Responses: build and parse ``sr:Response`` documents.

Structure: DCC's DUIS Schema V5.4 ``Response`` type and DCC Boxed's real responses
(SmartDCCInnovation/dccboxed-signing-tool test resources; duis-parser's
acknowledgement-error.xml): ``sr:Header`` holds optional RequestID and ResponseID, then
ResponseCode and ResponseDateTime; ``sr:Body/sr:ResponseMessage`` holds ServiceReference,
ServiceReferenceVariant and at most one payload (``DSPInventory``, ``GBCSPayload``, ...).
DUIS has no field for a human-readable reason, so meterbench writes ``message`` as an XML
comment ``<!--meterbench reason: ...-->`` in the header: schema-neutral, and outside any
signature (exclusive c14n drops comments).  Device and DCC alerts: ``alerts.py``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .codes import MALFORMED, is_response_code, is_success
from .errors import DuisError
from .ids import RequestId
from .messages import _error, _parse_request_id, _split_root, _text
from .namespaces import DS, NS, PROPOSAL_NS
from .variants import VARIANTS
from .xmltree import (
    body_to_dict,
    child_elements,
    local_name,
    namespace_of,
    parse_xml,
    value_to_children,
)

__all__ = ["REASON_PREFIX", "ServiceResponse", "build_response", "parse_response"]

REASON_PREFIX = "meterbench reason: "
"""How the comment carrying ``ServiceResponse.message`` starts."""


@dataclass
class ServiceResponse:
    """One Service Response; ``body_tag``/``body`` are the payload under ResponseMessage.

    ``request_id`` may be None (DUIS makes RequestID optional) and ``variant`` empty, for an
    answer to a request too malformed to have them.  A text-only payload such as
    ``GBCSPayload`` has its text under the ``"#text"`` key.
    """

    request_id: RequestId | None
    variant: str
    response_code: str
    response_id: str | None = None
    body_tag: str | None = None
    body: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    response_datetime: dt.datetime | None = None
    service_reference: str | None = None
    schema_version: str = "5.4"

    @property
    def success(self) -> bool:
        """Whether the code is I0 or I99."""
        return is_success(self.response_code)

    @classmethod
    def from_error(cls, error: DuisError, request_id: RequestId | None = None,
                   variant: str = "") -> ServiceResponse:
        """The error response a user sees for ``error``: its code, and its text as reason."""
        return cls(request_id=request_id, variant=variant,
                   response_code=error.response_code, message=str(error))


def _format_datetime(value: dt.datetime) -> str:
    """xs:dateTime in UTC with milliseconds, as DCC Boxed writes ResponseDateTime."""
    if value.tzinfo is None:
        raise DuisError("response_datetime needs a time zone", response_code=MALFORMED,
                        source="build_response", path="sr:ResponseDateTime")
    utc = value.astimezone(dt.UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond // 1000:03d}Z"


def _comment_text(message: str) -> str:
    """``message`` made safe inside an XML comment (no ``--``, no trailing ``-``)."""
    text = message.replace("--", "- -")
    return f" {REASON_PREFIX}{text} ".replace("--", "- -")


def build_response(response: ServiceResponse) -> bytes:
    """The ``sr:Response`` XML for ``response`` (UTF-8, unsigned)."""
    where: dict[str, Any] = {"response_code": MALFORMED, "source": "build_response"}
    if not is_response_code(response.response_code):
        raise DuisError(f"not a DUIS-style response code: {response.response_code!r}",
                        path="sr:ResponseCode", **where)
    if response.body and not response.body_tag:
        raise DuisError("a payload needs body_tag", path="sr:ResponseMessage",
                        **where)
    spec = VARIANTS.get(response.variant)
    proposal = spec.proposal if spec else False
    nsmap = {"sr": NS, "ds": DS}
    if proposal:
        nsmap["mbp"] = PROPOSAL_NS
    root, header = response_root(
        nsmap, response.schema_version, response.request_id, response.response_id,
        response.response_code, response.response_datetime, where)
    if response.message:
        header.append(etree.Comment(_comment_text(response.message)))
    message = etree.SubElement(etree.SubElement(root, f"{{{NS}}}Body"),
                               f"{{{NS}}}ResponseMessage")
    if response.variant:
        reference = response.service_reference or (
            spec.service_reference if spec else response.variant
        )
        add_sr(message, "ServiceReference", reference)
        add_sr(message, "ServiceReferenceVariant", response.variant)
    if response.body_tag:
        payload_ns = PROPOSAL_NS if proposal else NS
        payload = etree.SubElement(message, f"{{{payload_ns}}}{response.body_tag}")
        try:
            value_to_children(payload, response.body, payload_ns, response.body_tag)
        except ValueError as exc:
            raise DuisError(str(exc), path="sr:ResponseMessage", **where) from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _header(header: etree._Element, source: str) -> dict[str, etree._Element]:
    """Header children in DUIS's order: RequestID?, ResponseID?, ResponseCode, ResponseDateTime."""
    children = child_elements(header)
    found: dict[str, etree._Element] = {}
    index = 0
    for name, required in (("RequestID", False), ("ResponseID", False),
                           ("ResponseCode", True), ("ResponseDateTime", True)):
        child = children[index] if index < len(children) else None
        if child is not None and namespace_of(child) == NS and local_name(child) == name:
            found[name] = child
            index += 1
        elif required:
            raise _error(f"missing sr:{name}", MALFORMED, source, header, f"sr:{name}")
    if index < len(children):
        raise _error(f"unexpected element in sr:Header: {etree.QName(children[index]).text}",
                     MALFORMED, source, children[index])
    return found


def _reason(header: etree._Element) -> str:
    """The meterbench reason comment's text, or empty."""
    for node in header:
        if isinstance(node, etree._Comment):
            text = (node.text or "").strip()
            if text.startswith(REASON_PREFIX.strip()):
                return text[len(REASON_PREFIX.strip()):].strip()
    return ""


def header_fields(header: etree._Element, source: str
                  ) -> tuple[dict[str, etree._Element], str, dt.datetime]:
    """A response's or an alert's header: its fields, checked ResponseCode and timestamp."""
    fields = _header(header, source)
    code = _text(fields["ResponseCode"], source)
    if not is_response_code(code):
        raise _error(f"not a DUIS-style response code: {code!r}", MALFORMED, source,
                     fields["ResponseCode"])
    stamp_text = _text(fields["ResponseDateTime"], source)
    try:
        stamp = dt.datetime.fromisoformat(stamp_text)
    except ValueError:
        raise _error(f"not an xs:dateTime: {stamp_text!r}", MALFORMED, source,
                     fields["ResponseDateTime"]) from None
    return fields, code, stamp


def parse_response(data: bytes, *, source: str = "response") -> ServiceResponse:
    """Parse a DUIS Service Response; a DuisError says what is wrong and where."""
    root = parse_xml(data, source)
    header, body = _split_root(root, source, "Response")
    fields, code, stamp = header_fields(header, source)
    inner = child_elements(body)
    if len(inner) != 1 or (namespace_of(inner[0]), local_name(inner[0])) != (
        NS, "ResponseMessage"
    ):
        found = ", ".join(etree.QName(e).text for e in inner) or "nothing"
        raise _error(f"sr:Body must hold one sr:ResponseMessage (alerts are not handled "
                     f"here: use parse_message), "
                     f"found {found}", MALFORMED, source, body)
    message = inner[0]
    parts = child_elements(message)
    reference = variant = ""
    if parts and local_name(parts[0]) == "ServiceReference" and namespace_of(parts[0]) == NS:
        reference = _text(parts.pop(0), source)
        if not parts or local_name(parts[0]) != "ServiceReferenceVariant":
            raise _error("missing sr:ServiceReferenceVariant", MALFORMED, source, message,
                         "sr:ServiceReferenceVariant")
        variant = _text(parts.pop(0), source)
    if len(parts) > 1:
        raise _error(f"sr:ResponseMessage holds {len(parts)} payload elements, expected at "
                     "most one", MALFORMED, source, parts[1])
    spec = VARIANTS.get(variant)
    payload_ns = PROPOSAL_NS if spec and spec.proposal else NS
    body_tag = None
    payload: dict[str, Any] = {}
    if parts:
        if namespace_of(parts[0]) != payload_ns:
            raise _error(f"payload in namespace {namespace_of(parts[0])!r}, expected "
                         f"{payload_ns!r}", MALFORMED, source, parts[0])
        body_tag = local_name(parts[0])
        payload = body_to_dict(parts[0], source, payload_ns)
    response_id = fields.get("ResponseID")
    request_id = fields.get("RequestID")
    return ServiceResponse(
        request_id=_parse_request_id(request_id, source) if request_id is not None else None,
        variant=variant,
        response_code=code,
        response_id=(
            str(_parse_request_id(response_id, source)) if response_id is not None else None
        ),
        body_tag=body_tag,
        body=payload,
        message=_reason(header),
        response_datetime=stamp,
        # None means "the variant's own", so a built-then-parsed response compares equal
        service_reference=(
            None if not reference or (spec and reference == spec.service_reference)
            else reference
        ),
        schema_version=root.get("schemaVersion", ""),
    )


def add_sr(parent: etree._Element, name: str, text: str) -> None:
    """Append ``<sr:name>text</sr:name>`` to ``parent``."""
    etree.SubElement(parent, f"{{{NS}}}{name}").text = text


def response_root(nsmap: dict[str, str], schema_version: str, request_id: object | None,
                  response_id: object | None, response_code: str,
                  when: dt.datetime | None, where: dict[str, Any]
                  ) -> tuple[etree._Element, etree._Element]:
    """An ``sr:Response`` and its filled ``sr:Header``: what a DUIS response and a DUIS alert
    share (RequestID, ResponseID, ResponseCode, ResponseDateTime)."""
    root = etree.Element(f"{{{NS}}}Response", nsmap=nsmap)
    root.set("schemaVersion", schema_version)
    header = etree.SubElement(root, f"{{{NS}}}Header")
    if request_id is not None:
        add_sr(header, "RequestID", str(request_id))
    if response_id is not None:
        try:
            add_sr(header, "ResponseID", str(RequestId.parse(str(response_id))))
        except ValueError as exc:
            raise DuisError(str(exc), path="sr:ResponseID", **where) from None
    add_sr(header, "ResponseCode", response_code)
    add_sr(header, "ResponseDateTime", _format_datetime(when or dt.datetime.now(dt.UTC)))
    return root, header
