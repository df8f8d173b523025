"""Security suite 0 (AES-GCM-128) against the Green Book's published example.

Sources of the vectors:
  [GREEN BOOK] DLMS UA 1000-2 (Green Book), security examples with EK 000102...0F,
      AK D0D1...DF, server system title 4D4D4D0000BC614E, client 4D4D4D0000000001, IC 01234567:
      glo-get-request of the clock time, glo-initiateRequest/Response, HLS-GMAC f(StoC) -- as
      reproduced in github.com/u9n/dlms-cosem tests/test_security.py and
      tests/test_xdlms/test_initiate.py, tests/test_asce/test_rlre.py.
  [DLMS-COSEM] github.com/u9n/dlms-cosem tests/test_general_global_cipher.py: a
      general-glo-ciphering data-notification with key "MYDUMMYGLOBALKEY".
  [GREEN BOOK HLS] the Green Book's HLS-GMAC example (IEC 62056-5-3 / Green Book table of
      the 4-pass exchange): f(StoC) = 10 00000001 1A52FE7DD3E72748973C1E28 and f(CtoS) =
      10 01234567 FE1466AFB3DBCD4F9389E2B7, as reproduced in u9n/dlms-cosem
      tests/test_security.py (test_gmac) and in Elster's Java DLMS stack
      (com.elster.dlms.security GcmCipherModTest, the f(CtoS) tag).
  [DLMS-COSEM ACTION] github.com/u9n/dlms-cosem tests/test_xdlms/test_action.py: an
      ACTION-Request to 0.0.40.0.0.255 method 1 with an f(StoC) and its ACTION-Response with
      data (a meter's trace; the framing, not the keys).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.protocols.dlms import (
    ActionRequest,
    ActionResponse,
    CipheredApdu,
    Data,
    DataType,
    DlmsSecurityError,
    MethodDescriptor,
    Obis,
    check_hls_gmac_proof,
    decode_xdlms,
    gmac,
    hls_gmac_proof,
    protect,
    unprotect,
)
from harness.protocols.dlms.security import decrypt, encrypt

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
SERVER_TITLE = bytes.fromhex("4D4D4D0000BC614E")
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")
IC = 0x01234567
GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")
GLO_GET_CLOCK = bytes.fromhex("C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B")
GLO_INITIATE_REQUEST = bytes.fromhex(
    "21303001234567801302FF8A7874133D414CED25B42534D28DB0047720606B175BD52211BE6841DB204D39EE6"
    "FDB8E356855")
INITIATE_REQUEST = bytes.fromhex("01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0")
GLO_INITIATE_RESPONSE = bytes.fromhex(
    "281F3001234567891214A0845E475714383F65BC19745CA235906525E4F3E1C893")


def test_green_book_glo_get_request() -> None:
    """[GREEN BOOK] GET clock time, authenticated and encrypted (SC 0x30)."""
    assert protect(GET_CLOCK, key=EK, auth_key=AK, system_title=SERVER_TITLE,
                   invocation_counter=IC) == GLO_GET_CLOCK
    plain, framed = unprotect(GLO_GET_CLOCK, key=EK, auth_key=AK, system_title=SERVER_TITLE)
    assert plain == GET_CLOCK
    assert (framed.tag, framed.security_control, framed.invocation_counter) == (0xC8, 0x30, IC)


def test_green_book_glo_initiate_request_and_response() -> None:
    """[GREEN BOOK] the ciphered InitiateRequest (with a dedicated key) and its response."""
    assert protect(INITIATE_REQUEST, key=EK, auth_key=AK, system_title=SERVER_TITLE,
                   invocation_counter=IC) == GLO_INITIATE_REQUEST
    plain, _ = unprotect(GLO_INITIATE_RESPONSE, key=EK, auth_key=AK, system_title=SERVER_TITLE)
    assert plain == bytes.fromhex("0800065F1F0400007C1F04000007")


def test_green_book_hls_gmac() -> None:
    """[GREEN BOOK] f(StoC) of HLS mechanism 5: SC 0x10, client title, IC 1."""
    challenge = bytes.fromhex("503677524A323146")
    assert gmac(challenge, key=EK, auth_key=AK, system_title=CLIENT_TITLE,
                invocation_counter=1) == bytes.fromhex("1A52FE7DD3E72748973C1E28")


def test_general_glo_ciphering_data_notification() -> None:
    """[DLMS-COSEM] general-glo-ciphering carries its own system title."""
    apdu = bytes.fromhex(
        "db082f192291991641033b30000001e5025ce9d2271fd78be8c204211a916a9d7f587e0a7a814cadea89e"
        "9593f01f92ea8c087b5bdfdefeab6becf282dfe49c08f5be6dc8400")
    key = b"MYDUMMYGLOBALKEY"
    plain, framed = unprotect(apdu, key=key, auth_key=key)
    assert plain[0] == 0x0F  # data-notification
    assert framed.system_title == bytes.fromhex("2f19229199164103")
    assert framed.encode() == apdu
    assert protect(plain, key=key, auth_key=key, system_title=framed.system_title,
                   invocation_counter=framed.invocation_counter, general=True) == apdu


def test_a_tampered_apdu_or_wrong_key_is_refused() -> None:
    tampered = bytearray(GLO_GET_CLOCK)
    tampered[10] ^= 1
    with pytest.raises(DlmsSecurityError, match="tag mismatch"):
        unprotect(bytes(tampered), key=EK, auth_key=AK, system_title=SERVER_TITLE)
    with pytest.raises(DlmsSecurityError, match="tag mismatch"):
        unprotect(GLO_GET_CLOCK, key=AK, auth_key=AK, system_title=SERVER_TITLE)
    with pytest.raises(DlmsSecurityError, match="system title"):
        unprotect(GLO_GET_CLOCK, key=EK, auth_key=AK)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: protect(GET_CLOCK, key=EK[:8], auth_key=AK, system_title=SERVER_TITLE,
                     invocation_counter=1), "16 bytes"),
    (lambda: protect(GET_CLOCK, key=EK, auth_key=AK, system_title=b"short",
                     invocation_counter=1), "8 bytes"),
    (lambda: protect(GET_CLOCK, key=EK, auth_key=AK, system_title=SERVER_TITLE,
                     invocation_counter=2**32), "invocation counter"),
    (lambda: protect(GET_CLOCK, key=EK, auth_key=AK, system_title=SERVER_TITLE,
                     invocation_counter=1, security_control=0x31), "suite 1"),
    (lambda: protect(b"\x60\x00", key=EK, auth_key=AK, system_title=SERVER_TITLE,
                     invocation_counter=1), "0x60"),
    (lambda: CipheredApdu.decode(bytes.fromhex("C80530")), "ciphered length"),
    (lambda: CipheredApdu.decode(bytes.fromhex("C4")), "not a ciphered APDU"),
])
def test_bad_security_input(call: object, message: str) -> None:
    with pytest.raises(DlmsSecurityError, match=message):
        call()  # type: ignore[operator]


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200), st.sampled_from([0x10, 0x20, 0x30]),
       st.integers(0, 2**32 - 1), st.booleans(), st.sampled_from([0xC0, 0xC4, 0xC1, 0xC7]))
def test_protection_round_trips(body: bytes, control: int, counter: int, dedicated: bool,
                                tag: int) -> None:
    plain = bytes((tag,)) + body
    apdu = protect(plain, key=EK, auth_key=AK, system_title=CLIENT_TITLE,
                   invocation_counter=counter, security_control=control, dedicated=dedicated)
    assert unprotect(apdu, key=EK, auth_key=AK, system_title=CLIENT_TITLE)[0] == plain
    raw = encrypt(body, security_control=control, key=EK, auth_key=AK,
                  system_title=CLIENT_TITLE, invocation_counter=counter)
    assert decrypt(raw, security_control=control, key=EK, auth_key=AK,
                   system_title=CLIENT_TITLE, invocation_counter=counter) == body


def test_hls_gmac_proof_as_carried_in_reply_to_hls_authentication() -> None:
    """[GREEN BOOK] f(StoC) = SC 0x10 | IC 00000001 | tag, the 17-byte octet string of the
    ACTION on the association object (class 15, method 1)."""
    challenge = bytes.fromhex("503677524A323146")
    proof = hls_gmac_proof(challenge, key=EK, auth_key=AK, system_title=CLIENT_TITLE,
                           invocation_counter=1)
    assert proof == bytes.fromhex("10000000011A52FE7DD3E72748973C1E28")
    assert check_hls_gmac_proof(proof, challenge, key=EK, auth_key=AK,
                                system_title=CLIENT_TITLE) == 1
    with pytest.raises(DlmsSecurityError, match="proof mismatch"):
        check_hls_gmac_proof(proof, b"K56iVagY", key=EK, auth_key=AK,
                             system_title=CLIENT_TITLE)
    with pytest.raises(DlmsSecurityError, match="proof of 16 bytes"):
        check_hls_gmac_proof(proof[:-1], challenge, key=EK, auth_key=AK,
                             system_title=CLIENT_TITLE)


F_STOC = bytes.fromhex("10000000011A52FE7DD3E72748973C1E28")
F_CTOS = bytes.fromhex("1001234567FE1466AFB3DBCD4F9389E2B7")


def test_green_book_hls_gmac_four_passes() -> None:
    """[GREEN BOOK HLS] both answers of the 4-pass exchange, CtoS "K56iVagY" and StoC
    "P6wRJ21F": the client's f(StoC) (client title, IC 1) and the server's f(CtoS) (server
    title, IC 01234567), each checked by the other side; a wrong key or challenge refused."""
    ctos, stoc = b"K56iVagY", b"P6wRJ21F"
    assert hls_gmac_proof(stoc, key=EK, auth_key=AK, system_title=CLIENT_TITLE,
                          invocation_counter=1) == F_STOC
    assert hls_gmac_proof(ctos, key=EK, auth_key=AK, system_title=SERVER_TITLE,
                          invocation_counter=IC) == F_CTOS
    assert check_hls_gmac_proof(F_STOC, stoc, key=EK, auth_key=AK,
                                system_title=CLIENT_TITLE) == 1
    assert check_hls_gmac_proof(F_CTOS, ctos, key=EK, auth_key=AK,
                                system_title=SERVER_TITLE) == IC
    for call in (
        lambda: check_hls_gmac_proof(F_CTOS, ctos, key=EK, auth_key=EK, system_title=SERVER_TITLE),
        lambda: check_hls_gmac_proof(F_CTOS, stoc, key=EK, auth_key=AK, system_title=SERVER_TITLE),
        lambda: check_hls_gmac_proof(F_STOC, stoc, key=EK, auth_key=AK, system_title=SERVER_TITLE),
    ):
        with pytest.raises(DlmsSecurityError, match="proof mismatch"):
            call()
    with pytest.raises(DlmsSecurityError, match="proof of 18 bytes"):
        check_hls_gmac_proof(F_CTOS + b"\x00", ctos, key=EK, auth_key=AK,
                             system_title=SERVER_TITLE)


def test_reply_to_hls_authentication_frames() -> None:
    """[DLMS-COSEM ACTION] reply_to_HLS_authentication (class 15, 0.0.40.0.0.255, method 1)
    with a 17-byte f(StoC), and the meter's ACTION-Response carrying its f(CtoS)."""
    proof = bytes.fromhex("1000001A90E6D2221FA2FD85EED61ACC22")
    request = bytes.fromhex("C301C0000F0000280000FF010109111000001A90E6D2221FA2FD85EED61ACC22")
    method = MethodDescriptor(15, Obis.parse("0.0.40.0.0.255"), 1)
    assert ActionRequest(method, Data(DataType.OCTET_STRING, proof), 0xC0).encode() == request
    assert decode_xdlms(request) == ActionRequest(method, Data(DataType.OCTET_STRING, proof),
                                                  0xC0)
    response = bytes.fromhex("C701C000010009111000001AFDE8857B728A3499106AA665D1")
    answer = decode_xdlms(response)
    assert isinstance(answer, ActionResponse) and answer.result == 0
    assert answer.data == Data(DataType.OCTET_STRING,
                               bytes.fromhex("1000001AFDE8857B728A3499106AA665D1"))
    assert answer.encode() == response


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=8, max_size=64), st.integers(0, 2**32 - 1), st.binary(min_size=8,
                                                                                max_size=8))
def test_hls_proofs_round_trip(challenge: bytes, counter: int, title: bytes) -> None:
    proof = hls_gmac_proof(challenge, key=EK, auth_key=AK, system_title=title,
                           invocation_counter=counter)
    assert len(proof) == 17 and proof[0] == 0x10
    assert check_hls_gmac_proof(proof, challenge, key=EK, auth_key=AK,
                                system_title=title) == counter
    forged = proof[:-1] + bytes((proof[-1] ^ 1,))
    with pytest.raises(DlmsSecurityError, match="proof mismatch"):
        check_hls_gmac_proof(forged, challenge, key=EK, auth_key=AK, system_title=title)
