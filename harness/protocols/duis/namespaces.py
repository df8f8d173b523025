"""XML namespaces of DUIS messages, and the one meterbench adds for its proposals.

``NS`` and the ``sr`` prefix: GB-SMART-METERING.md, "DUIS messages", and DCC's DUIS Schema V5.4
(SmartDCCInnovation/dccboxed-signing-tool, src/main/resources).  ``DS`` is W3C XML-DSig.
``PROPOSAL_NS`` is meterbench's own: SECMP0013's triage/reset Service Requests do not exist in
DUIS (GB-SMART-METERING.md), so what meterbench models for them lives outside DUIS's namespace.
"""

from __future__ import annotations

__all__ = ["DS", "NS", "PREFIXES", "PROPOSAL_NS"]

NS = "http://www.dccinterface.co.uk/ServiceUserGateway"
"""The DUIS Service User Gateway namespace (prefix ``sr``)."""

DS = "http://www.w3.org/2000/09/xmldsig#"
"""W3C XML Signature namespace (prefix ``ds``)."""

PROPOSAL_NS = "urn:meterbench:proposed-service-requests:not-duis:1"
"""meterbench's namespace for its PROPOSED triage/reset requests: NOT part of DUIS."""

PREFIXES: dict[str, str] = {NS: "sr", DS: "ds", PROPOSAL_NS: "mbp"}
"""Prefix used for each namespace in element paths of error messages and in built XML."""
