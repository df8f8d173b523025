"""Hardened XML parsing and the generic element tree <-> dict mapping of DUIS bodies.

The parser never resolves entities, loads a DTD or touches the network, and refuses any
DOCTYPE (no DUIS message has one), so billion-laughs and XXE inputs are rejected outright.
Bodies map as xmltodict does: an element with children becomes a dict of local names (a
repeated name becomes a list), a leaf becomes its stripped text, attributes become ``@name``
keys and text beside attributes ``#text``.  That is meterbench's convention, not DUIS's.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .codes import MALFORMED
from .errors import DuisError
from .namespaces import PREFIXES

__all__ = [
    "Body",
    "element_path",
    "element_to_value",
    "local_name",
    "namespace_of",
    "parse_xml",
    "value_to_children",
]

Body = dict[str, Any]
_MAX_BYTES = 16 * 1024 * 1024  # DUIS firmware images are <= 10,240,000 base64 chars


def _parser() -> etree.XMLParser:
    """A fresh parser per call (lxml parsers are not thread-safe): no entities, DTD, network."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
    )


def parse_xml(data: bytes, source: str) -> etree._Element:
    """Parse ``data`` safely; a DuisError (EMB01) names the line and column of any fault."""
    if not isinstance(data, bytes | bytearray):
        raise DuisError(
            f"expected bytes, got {type(data).__name__}", response_code=MALFORMED, source=source
        )
    if len(data) > _MAX_BYTES:
        raise DuisError(
            f"message of {len(data)} bytes exceeds the {_MAX_BYTES}-byte limit",
            response_code=MALFORMED,
            source=source,
        )
    if not data.strip():
        raise DuisError("empty message", response_code=MALFORMED, source=source)
    try:
        root = etree.fromstring(bytes(data), parser=_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        raise DuisError(
            f"not well-formed XML: {exc.msg}"
            + (f" (column {column})" if column is not None else ""),
            response_code=MALFORMED,
            source=source,
            line=line,
        ) from None
    if root.getroottree().docinfo.doctype:
        raise DuisError(
            "a DOCTYPE is not allowed in a DUIS message",
            response_code=MALFORMED,
            source=source,
            line=1,
        )
    return root


def local_name(element: etree._Element) -> str:
    """The element's name without namespace."""
    return etree.QName(element).localname


def namespace_of(element: etree._Element) -> str | None:
    """The element's namespace URI (None if it has none)."""
    return etree.QName(element).namespace


def _step(element: etree._Element) -> str:
    """One path step, ``prefix:name`` with the conventional prefix of its namespace."""
    qname = etree.QName(element)
    prefix = PREFIXES.get(qname.namespace or "", None)
    if qname.namespace and prefix is None:
        return f"{{{qname.namespace}}}{qname.localname}"
    return f"{prefix}:{qname.localname}" if prefix else qname.localname


def element_path(element: etree._Element, child: str | None = None) -> str:
    """``/sr:Request/sr:Header/...`` for ``element`` (plus a missing ``child`` step if given).

    Repeated siblings get an index (``sr:Device[2]``) so the path names exactly one element.
    """
    steps = []
    node: etree._Element | None = element
    while node is not None:
        step = _step(node)
        parent = node.getparent()
        if parent is not None:
            same = [c for c in parent if isinstance(c.tag, str) and c.tag == node.tag]
            if len(same) > 1:
                step += f"[{same.index(node) + 1}]"
        steps.append(step)
        node = parent
    path = "/" + "/".join(reversed(steps))
    return f"{path}/{child}" if child else path


def child_elements(element: etree._Element) -> list[etree._Element]:
    """Element children only (comments and processing instructions skipped)."""
    return [c for c in element if isinstance(c.tag, str)]


def element_to_value(element: etree._Element, source: str, namespace: str) -> Any:
    """Map one element (in ``namespace``) to str / dict / list as described above."""
    children = child_elements(element)
    attributes = {f"@{etree.QName(k).localname}": v for k, v in element.attrib.items()}
    text = (element.text or "").strip()
    if not children:
        if not attributes:
            return text
        value: dict[str, Any] = dict(attributes)
        if text:
            value["#text"] = text
        return value
    if text or any((c.tail or "").strip() for c in children):
        raise DuisError(
            "mixed content (text beside child elements) is not allowed",
            response_code=MALFORMED,
            source=source,
            line=element.sourceline,
            path=element_path(element),
        )
    result: dict[str, Any] = dict(attributes)
    for child in children:
        if namespace_of(child) != namespace:
            raise DuisError(
                f"element in namespace {namespace_of(child)!r}, expected {namespace!r}",
                response_code=MALFORMED,
                source=source,
                line=child.sourceline,
                path=element_path(child),
            )
        name = local_name(child)
        item = element_to_value(child, source, namespace)
        if name in result:
            existing = result[name]
            if isinstance(existing, list):
                existing.append(item)
            else:
                result[name] = [existing, item]
        else:
            result[name] = item
    return result


def body_to_dict(element: etree._Element, source: str, namespace: str) -> Body:
    """A body-level element as a dict: a text-only element gives ``{"#text": ...}``."""
    value = element_to_value(element, source, namespace)
    if isinstance(value, str):
        return {"#text": value} if value else {}
    return value


def value_to_children(parent: etree._Element, value: Any, namespace: str, path: str) -> None:
    """Write ``value`` (str / dict / list, as produced above) as the content of ``parent``.

    Raises ValueError naming the key path of anything that cannot be written.
    """
    if value is None:
        return
    if isinstance(value, bool):
        parent.text = "true" if value else "false"
        return
    if isinstance(value, str | int):
        parent.text = str(value)
        return
    if not isinstance(value, dict):
        raise ValueError(f"{path}: cannot write {type(value).__name__} as XML content")
    for key, item in value.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"{path}: element names must be non-empty strings, not {key!r}")
        if key == "#text":
            parent.text = str(item)
            continue
        if key.startswith("@"):
            parent.set(key[1:], str(item))
            continue
        items = item if isinstance(item, list) else [item]
        for index, one in enumerate(items):
            if one is None:
                continue
            child = etree.SubElement(parent, f"{{{namespace}}}{key}")
            step = f"{path}.{key}" + (f"[{index}]" if isinstance(item, list) else "")
            value_to_children(child, one, namespace, step)
