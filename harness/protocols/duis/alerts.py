"""DUIS alerts as the DCC posts them to a user's endpoint; telling a response from an alert.

Structure: an alert is an ``sr:Response`` (same header as a Service Response) whose
``sr:Body`` holds ``sr:DeviceAlertMessage`` (``AlertCode``, ``ThrottledAlertSequenceId?``,
``ThrottledAlertCount?``, ``GBCSPayload``) or ``sr:DCCAlertMessage`` (``DCCAlertCode``,
``ThrottledAlertSequenceId?``, ``ThrottledAlertCount?``, ``DCCAlert``) instead of
``sr:ResponseMessage`` (SmartDCCInnovation/duis-parser src/duis.ts, the
``SimplifiedDuisResponse_DeviceAlertMessage`` / ``_DCCAlertMessage`` types; DCC Boxed's
receiving node, dccboxed-nodered-nodes src/dccboxed-receive.ts).  ``GBCSPayload`` is
optional here: the emulated DCC encodes no GBCS, so its device alerts carry none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from harness.protocols.digits import ascii_int

from .codes import MALFORMED, SUCCESS, is_response_code
from .errors import DuisError
from .ids import RequestId
from .messages import _error, _parse_request_id, _split_root, _text
from .namespaces import DS, NS
from .responses import (
    ServiceResponse,
    add_sr,
    header_fields,
    parse_response,
    response_root,
)
from .xmltree import (
    body_to_dict,
    child_elements,
    local_name,
    namespace_of,
    parse_xml,
    value_to_children,
)

__all__ = ["DCC_ALERT", "DEVICE_ALERT", "DuisAlert", "build_alert", "parse_alert",
           "parse_message"]

DEVICE_ALERT = "DeviceAlertMessage"
DCC_ALERT = "DCCAlertMessage"
_ALERT_TAGS = {DEVICE_ALERT: "AlertCode", DCC_ALERT: "DCCAlertCode"}
_MAX_DIGITS = 20  # xs:nonNegativeInteger counters; DUIS's fit in 64 bits
_THROTTLE = ("ThrottledAlertSequenceId", "ThrottledAlertCount")


@dataclass
class DuisAlert:
    """One device alert (``kind`` DeviceAlertMessage) or DCC alert (DCCAlertMessage).

    ``code`` is as DUIS writes it (a device alert's four hex digits, e.g. ``8F49``; a DCC
    alert's code, e.g. ``N1``); ``details`` is a DCC alert's ``DCCAlert`` content.
    """

    kind: str
    code: str
    response_code: str = SUCCESS
    request_id: RequestId | None = None
    response_id: str | None = None
    response_datetime: dt.datetime | None = None
    gbcs_payload: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    throttled_sequence_id: int | None = None
    throttled_count: int | None = None
    schema_version: str = "5.4"

    @property
    def device_alert_code(self) -> int | None:
        """A device alert's code as a number (0x8F49), None for a DCC alert."""
        return int(self.code, 16) if self.kind == DEVICE_ALERT else None


def build_alert(alert: DuisAlert) -> bytes:
    """The ``sr:Response`` XML carrying ``alert`` (UTF-8, unsigned)."""
    where: dict[str, Any] = {"response_code": MALFORMED, "source": "build_alert"}
    if alert.kind not in _ALERT_TAGS:
        raise DuisError(f"alert kind {alert.kind!r} is not one of {', '.join(_ALERT_TAGS)}",
                        path="sr:Body", **where)
    if not is_response_code(alert.response_code):
        raise DuisError(f"not a DUIS-style response code: {alert.response_code!r}",
                        path="sr:ResponseCode", **where)
    root, _ = response_root({"sr": NS, "ds": DS}, alert.schema_version, alert.request_id,
                             alert.response_id, alert.response_code, alert.response_datetime,
                             where)
    message = etree.SubElement(etree.SubElement(root, f"{{{NS}}}Body"),
                               f"{{{NS}}}{alert.kind}")
    add_sr(message, _ALERT_TAGS[alert.kind], alert.code)
    for name, value in zip(_THROTTLE, (alert.throttled_sequence_id, alert.throttled_count),
                           strict=True):
        if value is not None:
            add_sr(message, name, str(value))
    if alert.kind == DEVICE_ALERT:
        if alert.gbcs_payload is not None:
            add_sr(message, "GBCSPayload", alert.gbcs_payload)
    else:
        details = etree.SubElement(message, f"{{{NS}}}DCCAlert")
        try:
            value_to_children(details, alert.details, NS, "DCCAlert")
        except ValueError as exc:
            raise DuisError(str(exc), path=f"sr:{DCC_ALERT}/sr:DCCAlert", **where) from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _body_message(root: etree._Element, source: str) -> tuple[etree._Element, etree._Element]:
    """The header and the one element under ``sr:Body`` of an ``sr:Response``."""
    header, body = _split_root(root, source, "Response")
    inner = child_elements(body)
    if len(inner) != 1 or namespace_of(inner[0]) != NS:
        found = ", ".join(etree.QName(e).text for e in inner) or "nothing"
        raise _error(f"sr:Body must hold one of sr:ResponseMessage, sr:{DEVICE_ALERT} or "
                     f"sr:{DCC_ALERT}, found {found}", MALFORMED, source, body)
    return header, inner[0]


def _int(element: etree._Element, source: str) -> int:
    """A non-negative integer element, located on error."""
    text = _text(element, source)
    value = ascii_int(text, _MAX_DIGITS)
    if value is None:
        shown = text if len(text) <= 40 else f"{text[:40]}... ({len(text)} characters)"
        raise _error(f"not a non-negative integer of at most {_MAX_DIGITS} ASCII digits: "
                     f"{shown!r}", MALFORMED, source, element)
    return value


def _alert_from(root: etree._Element, header: etree._Element, message: etree._Element,
                source: str) -> DuisAlert:
    """Read a DeviceAlertMessage / DCCAlertMessage under its parsed header."""
    kind = local_name(message)
    fields, code, stamp = header_fields(header, source)
    parts = child_elements(message)
    code_tag = _ALERT_TAGS[kind]
    if not parts or (namespace_of(parts[0]), local_name(parts[0])) != (NS, code_tag):
        raise _error(f"sr:{kind} must start with sr:{code_tag}", MALFORMED, source, message,
                     f"sr:{code_tag}")
    alert = DuisAlert(kind=kind, code=_text(parts.pop(0), source), response_code=code,
                      response_datetime=stamp, schema_version=root.get("schemaVersion", ""))
    for name in _THROTTLE:
        if parts and local_name(parts[0]) == name and namespace_of(parts[0]) == NS:
            value = _int(parts.pop(0), source)
            if name == "ThrottledAlertSequenceId":
                alert.throttled_sequence_id = value
            else:
                alert.throttled_count = value
    last = "GBCSPayload" if kind == DEVICE_ALERT else "DCCAlert"
    if parts and local_name(parts[0]) == last and namespace_of(parts[0]) == NS:
        element = parts.pop(0)
        if kind == DEVICE_ALERT:
            alert.gbcs_payload = _text(element, source)
        else:
            alert.details = body_to_dict(element, source, NS)
    elif kind == DCC_ALERT:
        raise _error(f"missing sr:{last}", MALFORMED, source, message, f"sr:{last}")
    if parts:
        raise _error(f"unexpected element in sr:{kind}: {etree.QName(parts[0]).text}",
                     MALFORMED, source, parts[0])
    if "RequestID" in fields:
        alert.request_id = _parse_request_id(fields["RequestID"], source)
    if "ResponseID" in fields:
        alert.response_id = str(_parse_request_id(fields["ResponseID"], source))
    return alert


def parse_alert(data: bytes, *, source: str = "alert") -> DuisAlert:
    """Parse a DUIS device or DCC alert; a DuisError says what is wrong and where."""
    root = parse_xml(data, source)
    header, message = _body_message(root, source)
    if local_name(message) not in _ALERT_TAGS:
        raise _error(f"sr:Body holds sr:{local_name(message)}, not an alert", MALFORMED,
                     source, message)
    return _alert_from(root, header, message, source)


def parse_message(data: bytes, *, source: str = "message") -> ServiceResponse | DuisAlert:
    """Parse what a DCC posts to a user: a Service Response or an alert (by ``sr:Body``)."""
    root = parse_xml(data, source)
    header, message = _body_message(root, source)
    if local_name(message) in _ALERT_TAGS:
        return _alert_from(root, header, message, source)
    return parse_response(data, source=source)
