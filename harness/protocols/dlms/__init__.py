"""DLMS/COSEM codecs (IEC 62056-46 HDLC, -5-3 application layer, -6-2 data types): pure, no I/O.

Every error is a :class:`~harness.errors.ProtocolError` (see :mod:`.errors`: HdlcError,
AxdrError, XdlmsError, DlmsSecurityError) naming the byte ``offset`` and what was ``expected``.

Data link (HDLC frame format type 3):
  * :class:`HdlcFrame` (``encode()`` / ``HdlcFrame.decode(bytes)``) with :class:`HdlcAddress`
    (client ``HdlcAddress(0x10)``, server ``HdlcAddress(1)``, ``HdlcAddress(1, 17)``,
    ``HdlcAddress(1, 17, size=4)``) and :class:`Control` (:class:`FrameKind` I, RR, RNR, SNRM,
    DISC, UA, DM, FRMR, UI; N(S), N(R), P/F).  :func:`fcs16` is the HCS/FCS.
  * :class:`HdlcParameters`: SNRM/UA negotiation (``encode``, ``decode``, ``negotiate``).
  * :class:`HdlcReader` (``feed(bytes) -> list[HdlcFrame]``, length guard), :func:`segment`
    and :class:`Reassembler` for segmented APDUs, :class:`SequenceNumbers` for V(S)/V(R),
    :func:`add_llc` / :func:`strip_llc` for the ``E6 E6 00`` / ``E6 E7 00`` header;
    :func:`apdu_frames` turns an APDU into its numbered (and segmented) I frames.

Application layer:
  * :class:`Data` / :class:`DataType` with :func:`encode_data` / :func:`decode_data` (A-XDR,
    depth and size guarded); :class:`CosemDateTime` for date-time octet strings;
    :class:`Obis` (``Obis.parse("1.0.1.8.0.255")``, ``str()``, ``bytes()``).
  * ACSE: :class:`AARQ`, :class:`AARE`, :class:`RLRQ`, :class:`RLRE` (``encode`` /
    ``decode``, :func:`decode_acse`), :class:`ApplicationContext`, :class:`Mechanism`,
    :class:`InitiateRequest`, :class:`InitiateResponse`, :class:`Conformance`.
  * xDLMS: :class:`GetRequest`, :class:`GetRequestNext`, :class:`GetRequestWithList`,
    :class:`GetResponse`, :class:`GetResponseBlock`, :class:`GetResponseWithList`,
    :class:`SetRequest` (+ block forms), :class:`SetResponse` (+ block forms),
    :class:`ActionRequest`, :class:`ActionResponse`, :class:`ExceptionResponse`,
    :class:`ConfirmedServiceError`; :func:`decode_xdlms` reads any.
    Block transfer: :func:`split_get_response`, :func:`split_set_request`, :class:`BlockJoiner`.
  * Security suite 0: :func:`protect` / :func:`unprotect` (glo-/ded-/general-glo-ciphered
    APDUs, :class:`CipheredApdu`); :func:`gmac`, :func:`hls_gmac_proof` and
    :func:`check_hls_gmac_proof` for HLS mechanism 5 (f(challenge) = SC | IC | tag).

A client round: ``apdu_frames(GetRequest(AttributeDescriptor(8, Obis.parse("0.0.1.0.0.255"),
2)).encode(), destination=HdlcAddress(1), source=HdlcAddress(0x10), sequence=seq,
max_information_length=128, response=False)`` -> ``frame.encode()`` on the wire; the answer:
``reader.feed(bytes)`` -> frames -> ``seq.receive`` and ``Reassembler.add`` ->
``strip_llc(..., response=True)`` -> ``decode_xdlms``.
"""

from __future__ import annotations

from harness.protocols.dlms.acse import (
    AARE,
    AARQ,
    RLRE,
    RLRQ,
    ApplicationContext,
    AssociationResult,
    Mechanism,
    decode_acse,
)
from harness.protocols.dlms.axdr import Data, DataType, decode_data, encode_data
from harness.protocols.dlms.cosem_time import CosemDateTime
from harness.protocols.dlms.crc import fcs16
from harness.protocols.dlms.errors import (
    AxdrError,
    DlmsError,
    DlmsSecurityError,
    HdlcError,
    XdlmsError,
)
from harness.protocols.dlms.hdlc import HdlcFrame, add_llc, segment, strip_llc
from harness.protocols.dlms.hdlc_apdu import apdu_frames
from harness.protocols.dlms.hdlc_fields import Control, FrameKind, HdlcAddress
from harness.protocols.dlms.hdlc_params import HdlcParameters
from harness.protocols.dlms.hdlc_reader import HdlcReader, Reassembler, SequenceNumbers
from harness.protocols.dlms.initiate import Conformance, InitiateRequest, InitiateResponse
from harness.protocols.dlms.obis import Obis
from harness.protocols.dlms.security import (
    CipheredApdu,
    check_hls_gmac_proof,
    gmac,
    hls_gmac_proof,
    protect,
    unprotect,
)
from harness.protocols.dlms.xdlms import (
    ActionRequest,
    ActionResponse,
    AttributeDescriptor,
    ConfirmedServiceError,
    DataAccessResult,
    ExceptionResponse,
    GetRequest,
    GetRequestNext,
    GetRequestWithList,
    GetResponse,
    GetResponseBlock,
    GetResponseWithList,
    MethodDescriptor,
    SelectiveAccess,
    SetRequest,
    SetRequestBlock,
    SetRequestFirstBlock,
    SetResponse,
    SetResponseBlock,
    SetResponseLastBlock,
    decode_xdlms,
)
from harness.protocols.dlms.xdlms_blocks import BlockJoiner, split_get_response, split_set_request

__all__ = [
    "AARE",
    "AARQ",
    "RLRE",
    "RLRQ",
    "ActionRequest",
    "ActionResponse",
    "ApplicationContext",
    "AssociationResult",
    "AttributeDescriptor",
    "AxdrError",
    "BlockJoiner",
    "CipheredApdu",
    "ConfirmedServiceError",
    "Conformance",
    "Control",
    "CosemDateTime",
    "Data",
    "DataAccessResult",
    "DataType",
    "DlmsError",
    "DlmsSecurityError",
    "ExceptionResponse",
    "FrameKind",
    "GetRequest",
    "GetRequestNext",
    "GetRequestWithList",
    "GetResponse",
    "GetResponseBlock",
    "GetResponseWithList",
    "HdlcAddress",
    "HdlcError",
    "HdlcFrame",
    "HdlcParameters",
    "HdlcReader",
    "InitiateRequest",
    "InitiateResponse",
    "Mechanism",
    "MethodDescriptor",
    "Obis",
    "Reassembler",
    "SelectiveAccess",
    "SequenceNumbers",
    "SetRequest",
    "SetRequestBlock",
    "SetRequestFirstBlock",
    "SetResponse",
    "SetResponseBlock",
    "SetResponseLastBlock",
    "XdlmsError",
    "add_llc",
    "apdu_frames",
    "check_hls_gmac_proof",
    "decode_acse",
    "decode_data",
    "decode_xdlms",
    "encode_data",
    "fcs16",
    "gmac",
    "hls_gmac_proof",
    "protect",
    "segment",
    "split_get_response",
    "split_set_request",
    "strip_llc",
    "unprotect",
]
