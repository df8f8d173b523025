"""The COSEM application layer of an emulated meter: associations, GET/SET/ACTION, release.

Two associations, as on most meters: the public client (0x10, lowest-level security) reads
the public objects; the management client (0x01) reads, writes and acts on everything once
authenticated, with low-level security (the meter's optical password) or high-level security
HLS-GMAC (mechanism 5, the meter's keys: AARE with StoC and the meter's system title, then
reply_to_HLS_authentication on the Association LN object 0.0.40.0.0.255, method 1, before
anything else is served). Logical-name referencing, plain or ciphered (security suite 0: the
ciphered context needs the meter's keys, see :mod:`.cosem_security`). A GET whose answer
exceeds the client's max receive PDU size goes in data blocks (GET-Request-Next).
Pure: APDU bytes in, APDU bytes out.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from harness.emulator.optical.cosem_model import AccessError, CosemModel
from harness.emulator.optical.cosem_security import AssociationSecurity, MeterKeys, is_ciphered
from harness.errors import ProtocolError
from harness.protocols.dlms import (
    AARE,
    AARQ,
    RLRE,
    ActionRequest,
    ActionResponse,
    ApplicationContext,
    AssociationResult,
    CipheredApdu,
    ConfirmedServiceError,
    Conformance,
    Data,
    DataType,
    ExceptionResponse,
    GetRequest,
    GetRequestNext,
    GetRequestWithList,
    GetResponse,
    GetResponseWithList,
    InitiateRequest,
    InitiateResponse,
    Mechanism,
    SetRequest,
    SetResponse,
    decode_acse,
    decode_xdlms,
    encode_data,
    split_get_response,
)
from harness.protocols.dlms.security_setup import (
    ASSOCIATION_LN,
    ASSOCIATION_LN_CLASS,
    REPLY_TO_HLS,
)

log = logging.getLogger("meterbench.emulator.optical")

PUBLIC_CLIENT = 0x10
MANAGEMENT_CLIENT = 0x01
SERVER_CONFORMANCE = (Conformance.GET | Conformance.SET | Conformance.ACTION
                      | Conformance.SELECTIVE_ACCESS | Conformance.BLOCK_TRANSFER_WITH_GET_OR_READ
                      | Conformance.MULTIPLE_REFERENCES)
SERVER_MAX_PDU = 1024
"""The largest APDU this meter receives (stated in its InitiateResponse)."""
DIAG_NO_REASON, DIAG_CONTEXT_NOT_SUPPORTED = 1, 2
DIAG_MECHANISM_NOT_RECOGNISED, DIAG_MECHANISM_REQUIRED, DIAG_AUTH_FAILURE = 11, 12, 13
DIAG_AUTH_REQUIRED = 14
"""AARE diagnostic of an accepted HLS association: the client must now answer StoC."""


class CosemServer:
    """One HDLC connection's application layer; ``handle(client, apdu)`` -> the answer."""

    def __init__(self, model: CosemModel, check_password: Callable[[str], bool], *,
                 keys: MeterKeys | None = None,
                 hls_attempt: Callable[[bool], bool] | None = None) -> None:
        self.model = model
        self.check_password = check_password
        self.keys = keys
        self.hls_attempt = hls_attempt or (lambda ok: ok)
        """Told each HLS answer's outcome; False refuses even a right one (a locked port)."""
        self.client: int | None = None  # the associated client address
        self.security: AssociationSecurity | None = None
        self.max_pdu = SERVER_MAX_PDU
        self._blocks: list[bytes] = []
        self._next_block = 0

    @property
    def management(self) -> bool:
        """Whether the open association may read, write and act on everything."""
        return self.client == MANAGEMENT_CLIENT and (
            self.security is None or self.security.authenticated)

    def release(self) -> None:
        """The association ends (RLRQ, DISC, or the connection dropped)."""
        self.client = None
        self.security = None
        self._blocks = []

    def handle(self, client: int, apdu: bytes) -> bytes:
        """Answer one APDU from ``client``."""
        if apdu[:1] == b"\x60":
            return self._associate(client, apdu)
        if apdu[:1] == b"\x62":
            return self._release(apdu)
        if self.client != client:
            return ExceptionResponse(1, 1).encode()  # service-not-allowed: no association
        security = self.security
        if security is None or not security.ciphered:
            if is_ciphered(apdu):
                return ExceptionResponse(1, 1).encode()  # not in a plain context
            return self._serve(apdu)
        if not is_ciphered(apdu):
            return ExceptionResponse(1, 1).encode()  # the ciphered context takes no plain APDU
        try:
            plain, general = security.open(apdu)
        except ProtocolError as exc:
            log.debug("meter cannot decipher a request: %s", exc)
            return ExceptionResponse(2, 5).encode()  # deciphering-error
        return security.seal(self._serve(plain), general=general)

    def _serve(self, apdu: bytes) -> bytes:
        try:
            request = decode_xdlms(apdu)
        except ProtocolError as exc:
            log.debug("meter ignores a malformed APDU: %s", exc)
            return ExceptionResponse(2, 2).encode()  # service-unknown
        if self.security is not None and not self.security.authenticated:
            return self._hls_pending(request)
        if isinstance(request, GetRequest):
            return self._get(request)
        if isinstance(request, GetRequestNext):
            return self._get_next(request)
        if isinstance(request, GetRequestWithList):
            return self._get_list(request)
        if isinstance(request, SetRequest):
            return self._set(request)
        if isinstance(request, ActionRequest):
            return self._action(request)
        return ExceptionResponse(2, 2).encode()

    # -- association -------------------------------------------------------------------------

    def _associate(self, client: int, apdu: bytes) -> bytes:
        try:
            aarq = decode_acse(apdu)
        except ProtocolError as exc:
            log.debug("meter refuses a malformed AARQ: %s", exc)
            return self._reject(DIAG_NO_REASON)
        if not isinstance(aarq, AARQ):
            return self._reject(DIAG_NO_REASON)
        ciphered = aarq.context == ApplicationContext.LN_CIPHERED
        if aarq.context != ApplicationContext.LN and not (ciphered and self.keys is not None):
            return self._reject(DIAG_CONTEXT_NOT_SUPPORTED)
        diagnostic = self._authenticate(client, aarq)
        if diagnostic:
            return self._reject(diagnostic, aarq)
        hls = aarq.mechanism == Mechanism.HIGH_GMAC
        security = None
        initiate = aarq.user_information
        if ciphered or hls:
            assert self.keys is not None  # _authenticate refuses HLS without keys
            try:
                security = AssociationSecurity(self.keys, aarq, ciphered=ciphered, hls=hls)
                if ciphered:
                    if not isinstance(initiate, CipheredApdu):
                        return self._reject(DIAG_NO_REASON, aarq)
                    plain, _ = security.open(initiate)
                    initiate = InitiateRequest.decode(plain)
            except ProtocolError as exc:
                log.debug("meter refuses the AARQ's security: %s", exc)
                return self._reject(DIAG_NO_REASON, aarq)
        if not isinstance(initiate, InitiateRequest):
            return self._reject(DIAG_NO_REASON, aarq)
        if initiate.dlms_version < 6:
            error = ConfirmedServiceError(1, 6, 1)  # initiate: dlms-version-too-low
            return AARE(AssociationResult.REJECTED_PERMANENT, DIAG_NO_REASON, error,
                        aarq.context).encode()
        self.release()
        self.client = client
        self.security = security
        self.max_pdu = min(initiate.max_receive_pdu_size or 0xFFFF, 0xFFFF)
        conformance = Conformance(int(initiate.conformance) & int(SERVER_CONFORMANCE))
        response: InitiateResponse | CipheredApdu = InitiateResponse(conformance, SERVER_MAX_PDU)
        if security is not None and ciphered:
            response = CipheredApdu.decode(security.seal(response.encode(), general=False))
        return AARE(AssociationResult.ACCEPTED, DIAG_AUTH_REQUIRED if hls else 0, response,
                    aarq.context, mechanism=aarq.mechanism,
                    authentication_value=security.server_challenge if hls and security else None,
                    responding_ap_title=None if security is None else security.keys.system_title
                    ).encode()

    def _authenticate(self, client: int, aarq: AARQ) -> int:
        """0 if ``client`` may associate as asked, else the AARE diagnostic."""
        mechanism = Mechanism.LOWEST if aarq.mechanism is None else aarq.mechanism
        if client == PUBLIC_CLIENT:
            return 0 if mechanism == Mechanism.LOWEST else DIAG_MECHANISM_NOT_RECOGNISED
        if client != MANAGEMENT_CLIENT:
            return DIAG_NO_REASON  # no association for this client address
        if mechanism == Mechanism.LOWEST:
            return DIAG_MECHANISM_REQUIRED
        if mechanism == Mechanism.HIGH_GMAC and self.keys is not None:
            return 0  # authenticated by reply_to_HLS_authentication, after the AARE
        if mechanism != Mechanism.LOW:
            return DIAG_MECHANISM_NOT_RECOGNISED
        password = (aarq.authentication_value or b"").decode("ascii", "replace")
        return 0 if self.check_password(password) else DIAG_AUTH_FAILURE

    def _reject(self, diagnostic: int, aarq: AARQ | None = None) -> bytes:
        context = ApplicationContext.LN if aarq is None else aarq.context
        return AARE(AssociationResult.REJECTED_PERMANENT, diagnostic, None, context).encode()

    def _hls_pending(self, request: object) -> bytes:
        """Until the client has answered StoC, only reply_to_HLS_authentication is served."""
        assert self.security is not None
        if not isinstance(request, ActionRequest):
            return ExceptionResponse(1, 1).encode()  # service-not-allowed
        method = request.method
        if (method.class_id, method.instance, method.method) != (
                ASSOCIATION_LN_CLASS, ASSOCIATION_LN, REPLY_TO_HLS):
            return ActionResponse(3, None, request.invoke).encode()  # read-write-denied
        proof = request.parameters
        answer = None
        if proof is not None and proof.type is DataType.OCTET_STRING:
            answer = self.security.reply_to_hls(bytes(proof.value))
        if not self.hls_attempt(answer is not None) or answer is None:
            self.security.authenticated = False
            log.info("meter refuses an HLS answer (wrong key, or the port is locked)")
            return ActionResponse(3, None, request.invoke).encode()  # read-write-denied
        return ActionResponse(0, Data(DataType.OCTET_STRING, answer), request.invoke).encode()

    def _release(self, apdu: bytes) -> bytes:
        with contextlib.suppress(ProtocolError):  # a malformed RLRQ still ends it
            decode_acse(apdu)
        self.release()
        return RLRE(0).encode()

    # -- services -----------------------------------------------------------------------------

    def _read(self, request: GetRequest) -> Data | int:
        attr = request.attribute
        try:
            return self.model.get(attr.class_id, attr.instance, attr.attribute, request.access,
                                  management=self.management)
        except AccessError as exc:
            return exc.result

    def _get(self, request: GetRequest) -> bytes:
        self._blocks = []
        result = self._read(request)
        answer = GetResponse(result, request.invoke).encode()
        if len(answer) <= self.max_pdu or isinstance(result, int):
            return answer
        raw = encode_data(result)
        ciphering = 48 if self.security is not None and self.security.ciphered else 0
        size = max(16, self.max_pdu - 16 - ciphering)  # room for the block header
        blocks = split_get_response(raw, size, invoke=request.invoke)
        self._blocks = [b.encode() for b in blocks]
        self._next_block = 1
        return self._blocks[0]

    def _get_next(self, request: GetRequestNext) -> bytes:
        if not self._blocks:
            return GetResponse(16, request.invoke).encode()  # no-long-get-in-progress
        if request.block_number != self._next_block or self._next_block >= len(self._blocks):
            self._blocks = []
            return GetResponse(19, request.invoke).encode()  # data-block-number-invalid
        block = self._blocks[self._next_block]
        self._next_block += 1
        if self._next_block >= len(self._blocks):
            self._blocks = []
        return block

    def _get_list(self, request: GetRequestWithList) -> bytes:
        results = tuple(self._read(GetRequest(attr, access, request.invoke))
                        for attr, access in request.attributes)
        return GetResponseWithList(results, request.invoke).encode()

    def _set(self, request: SetRequest) -> bytes:
        attr = request.attribute
        try:
            self.model.set(attr.class_id, attr.instance, attr.attribute, request.value,
                           management=self.management)
        except AccessError as exc:
            return SetResponse(exc.result, request.invoke).encode()
        return SetResponse(0, request.invoke).encode()

    def _action(self, request: ActionRequest) -> bytes:
        method = request.method
        try:
            data = self.model.action(method.class_id, method.instance, method.method,
                                     request.parameters, management=self.management)
        except AccessError as exc:
            return ActionResponse(exc.result, None, request.invoke).encode()
        return ActionResponse(0, data, request.invoke).encode()

