"""Security suite 0 (AES-GCM-128, Green Book 9.2.7): ciphered xDLMS APDUs and HLS GMAC.

A service-specific ciphered APDU (glo-/ded-) is ``tag | length | SC | IC | ciphered``: the
security control byte SC (bit 4 authentication, bit 5 encryption, bits 0-3 the suite), the
4-byte invocation counter IC, then the ciphertext and a 12-byte tag.  The GCM nonce is the
sender's 8-byte system title followed by IC; the additional data is SC followed by the
authentication key (and, for authentication only, the plaintext).  General-glo-ciphering
(0xDB) also carries the system title.  Keys and system titles never appear in errors.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness.protocols.dlms.axdr import decode_length, encode_length
from harness.protocols.dlms.errors import AxdrError, DlmsSecurityError, fail, uint_bytes

__all__ = ["AUTHENTICATED", "AUTHENTICATED_ENCRYPTED", "ENCRYPTED", "GENERAL_GLO_CIPHERING",
           "TAG_LENGTH", "CipheredApdu", "check_hls_gmac_proof", "cipher_tag_for", "gmac",
           "hls_gmac_proof", "protect", "unprotect"]

TAG_LENGTH = 12
AUTHENTICATED = 0x10
ENCRYPTED = 0x20
AUTHENTICATED_ENCRYPTED = 0x30
GENERAL_GLO_CIPHERING = 0xDB
GENERAL_DED_CIPHERING = 0xDC

_GLO = {0x01: 0x21, 0x08: 0x28, 0x0E: 0x2E,  # initiate request/response, confirmed-service-error
        0xC0: 0xC8, 0xC1: 0xC9, 0xC2: 0xCA, 0xC3: 0xCB, 0xC4: 0xCC, 0xC5: 0xCD, 0xC7: 0xCF,
        0xD8: 0xD9}  # get/set/event/action request+response, exception-response
_DED = {0xC0: 0xD0, 0xC1: 0xD1, 0xC2: 0xD2, 0xC3: 0xD3, 0xC4: 0xD4, 0xC5: 0xD5, 0xC7: 0xD7}
SERVICE_SPECIFIC_TAGS = frozenset(_GLO.values()) | frozenset(_DED.values())
"""Tags of the glo- and ded- ciphered APDUs this module frames."""


def cipher_tag_for(plain_tag: int, *, dedicated: bool = False) -> int:
    """The glo- (or ded-) tag that carries a plain APDU of tag ``plain_tag``."""
    table = _DED if dedicated else _GLO
    if plain_tag not in table:
        raise DlmsSecurityError(f"security: no {'ded' if dedicated else 'glo'}-ciphered form "
                                f"for APDU tag 0x{plain_tag:02X}",
                                expected="an xDLMS request or response tag")
    return table[plain_tag]


@dataclass(frozen=True)
class CipheredApdu:
    """A ciphered APDU as framed on the wire (before deciphering).

    ``ciphered`` is the ciphertext with its tag (or, authentication only, plaintext and tag);
    ``system_title`` is present only in general-glo/ded-ciphering.
    """

    tag: int
    security_control: int
    invocation_counter: int
    ciphered: bytes
    system_title: bytes | None = None

    def encode(self) -> bytes:
        """The APDU bytes."""
        body = (uint_bytes(DlmsSecurityError, self.security_control, 1, "security control")
                + uint_bytes(DlmsSecurityError, self.invocation_counter, 4, "invocation counter")
                + self.ciphered)
        head = uint_bytes(DlmsSecurityError, self.tag, 1, "tag")
        if self.tag in (GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING):
            title = self.system_title or b""
            head += encode_length(len(title)) + title
        return head + encode_length(len(body)) + body

    @classmethod
    def decode(cls, data: bytes) -> CipheredApdu:
        """Parse the framing of a glo-, ded- or general-glo/ded-ciphered APDU."""
        if not data:
            raise fail(DlmsSecurityError, "empty APDU", 0, "a ciphered APDU tag")
        tag = data[0]
        general = tag in (GENERAL_GLO_CIPHERING, GENERAL_DED_CIPHERING)
        if not general and tag not in SERVICE_SPECIFIC_TAGS:
            raise fail(DlmsSecurityError, f"tag 0x{tag:02X} is not a ciphered APDU", 0,
                       "a glo-, ded- or general-ciphering tag")
        i = 1
        title = None
        try:
            if general:
                size, i = decode_length(data, i)
                if i + size > len(data):
                    raise fail(DlmsSecurityError, "truncated system title", i, f"{size} bytes")
                title, i = bytes(data[i:i + size]), i + size
            length, i = decode_length(data, i)
        except AxdrError as error:  # a bad length: same place, reported by this layer
            raise fail(DlmsSecurityError, "bad length", error.offset, "a valid length") from None
        if length < 5 or i + length != len(data):
            raise fail(DlmsSecurityError, f"ciphered length {length} for {len(data) - i} bytes",
                       i, "security control, invocation counter and ciphertext filling the APDU")
        return cls(tag, data[i], int.from_bytes(data[i + 1:i + 5], "big"),
                   bytes(data[i + 5:i + length]), title)


def _check_keys(key: bytes, auth_key: bytes, system_title: bytes) -> None:
    if len(key) != 16 or len(auth_key) != 16:
        raise DlmsSecurityError("security: suite 0 keys are 16 bytes",
                                expected="16-byte encryption and authentication keys")
    if len(system_title) != 8:
        raise DlmsSecurityError(f"security: a system title of {len(system_title)} bytes",
                                expected="8 bytes")


def _nonce(system_title: bytes, invocation_counter: int) -> bytes:
    if not 0 <= invocation_counter <= 0xFFFFFFFF:
        raise DlmsSecurityError(f"security: invocation counter {invocation_counter}",
                                expected="0..0xFFFFFFFF")
    return system_title + invocation_counter.to_bytes(4, "big")


def encrypt(plain: bytes, *, security_control: int, key: bytes, auth_key: bytes,
            system_title: bytes, invocation_counter: int) -> bytes:
    """Cipher ``plain`` as ``security_control`` asks (suite 0): ciphertext and/or tag."""
    _check_keys(key, auth_key, system_title)
    if security_control & 0x0F:
        raise DlmsSecurityError(f"security: suite {security_control & 0x0F}",
                                expected="security suite 0")
    nonce = _nonce(system_title, invocation_counter)
    mode = security_control & 0x30
    if not mode:
        raise DlmsSecurityError("security: security control asks for neither authentication "
                                "nor encryption", expected="0x10, 0x20 or 0x30")
    encryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).encryptor()
    if mode == ENCRYPTED:
        return encryptor.update(plain) + encryptor.finalize()
    aad = bytes((security_control,)) + auth_key
    if mode == AUTHENTICATED:
        encryptor.authenticate_additional_data(aad + plain)
        encryptor.finalize()
        return plain + encryptor.tag[:TAG_LENGTH]
    encryptor.authenticate_additional_data(aad)
    out = encryptor.update(plain) + encryptor.finalize()
    return out + encryptor.tag[:TAG_LENGTH]


def decrypt(ciphered: bytes, *, security_control: int, key: bytes, auth_key: bytes,
            system_title: bytes, invocation_counter: int) -> bytes:
    """Undo :func:`encrypt`; a wrong tag (or key) is a DlmsSecurityError."""
    _check_keys(key, auth_key, system_title)
    if security_control & 0x0F:
        raise DlmsSecurityError(f"security: suite {security_control & 0x0F}",
                                expected="security suite 0")
    nonce = _nonce(system_title, invocation_counter)
    mode = security_control & 0x30
    if not mode:
        raise DlmsSecurityError("security: security control asks for neither authentication "
                                "nor encryption", expected="0x10, 0x20 or 0x30")
    if mode == ENCRYPTED:
        decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce)).decryptor()
        return decryptor.update(ciphered)  # no tag to check: GCM's CTR part only
    if len(ciphered) < TAG_LENGTH:
        raise DlmsSecurityError(f"security: {len(ciphered)} ciphered bytes",
                                expected=f"at least the {TAG_LENGTH}-byte tag")
    body, tag = ciphered[:-TAG_LENGTH], ciphered[-TAG_LENGTH:]
    aad = bytes((security_control,)) + auth_key
    decryptor = Cipher(algorithms.AES(key), modes.GCM(nonce, tag, min_tag_length=TAG_LENGTH)
                       ).decryptor()
    try:
        if mode == AUTHENTICATED:
            decryptor.authenticate_additional_data(aad + body)
            decryptor.finalize()
            return body
        decryptor.authenticate_additional_data(aad)
        plain = decryptor.update(body)
        decryptor.finalize()
        return plain
    except InvalidTag:
        raise DlmsSecurityError("security: authentication tag mismatch (wrong key, system "
                                "title or invocation counter, or altered bytes)",
                                expected="a valid GMAC tag") from None


def protect(plain_apdu: bytes, *, key: bytes, auth_key: bytes, system_title: bytes,
            invocation_counter: int, security_control: int = AUTHENTICATED_ENCRYPTED,
            dedicated: bool = False, general: bool = False) -> bytes:
    """Cipher a plain xDLMS APDU into its glo- (ded-, or general-glo-) ciphered APDU.

    ``system_title`` is the sender's; ``key`` the global unicast (or dedicated) key.
    """
    if not plain_apdu:
        raise DlmsSecurityError("security: nothing to protect", expected="a plain APDU")
    tag = GENERAL_GLO_CIPHERING if general else cipher_tag_for(plain_apdu[0],
                                                                dedicated=dedicated)
    ciphered = encrypt(plain_apdu, security_control=security_control, key=key,
                       auth_key=auth_key, system_title=system_title,
                       invocation_counter=invocation_counter)
    return CipheredApdu(tag, security_control, invocation_counter, ciphered,
                        system_title if general else None).encode()


def unprotect(apdu: bytes | CipheredApdu, *, key: bytes, auth_key: bytes,
              system_title: bytes | None = None) -> tuple[bytes, CipheredApdu]:
    """Decipher a ciphered APDU: (the plain APDU, its framing with the invocation counter).

    ``system_title`` is the sender's (from the AARQ/AARE); general-ciphering carries its own.
    """
    framed = apdu if isinstance(apdu, CipheredApdu) else CipheredApdu.decode(apdu)
    title = framed.system_title or system_title
    if title is None:
        raise DlmsSecurityError("security: the sender's system title is unknown",
                                expected="the system title from the association")
    plain = decrypt(framed.ciphered, security_control=framed.security_control, key=key,
                    auth_key=auth_key, system_title=title,
                    invocation_counter=framed.invocation_counter)
    return plain, framed


def gmac(challenge: bytes, *, key: bytes, auth_key: bytes, system_title: bytes,
         invocation_counter: int, security_control: int = AUTHENTICATED) -> bytes:
    """HLS mechanism 5 (GMAC): the 12-byte tag over ``SC | AK | challenge`` (Green Book
    9.2.7.4); the f(challenge) sent is ``SC | IC | tag``."""
    return encrypt(challenge, security_control=security_control, key=key, auth_key=auth_key,
                   system_title=system_title, invocation_counter=invocation_counter
                   )[-TAG_LENGTH:]


def hls_gmac_proof(challenge: bytes, *, key: bytes, auth_key: bytes, system_title: bytes,
                   invocation_counter: int) -> bytes:
    """f(challenge) of HLS mechanism 5 as carried in reply_to_HLS_authentication (class 15
    method 1) and its answer: ``SC (0x10) | IC | GMAC tag``, 17 bytes."""
    tag = gmac(challenge, key=key, auth_key=auth_key, system_title=system_title,
               invocation_counter=invocation_counter)
    return bytes((AUTHENTICATED,)) + invocation_counter.to_bytes(4, "big") + tag


def check_hls_gmac_proof(proof: bytes, challenge: bytes, *, key: bytes, auth_key: bytes,
                         system_title: bytes) -> int:
    """Verify the peer's f(challenge) (``system_title`` is the peer's); return its invocation
    counter.  A wrong proof is a DlmsSecurityError (the association must not proceed)."""
    if len(proof) != 5 + TAG_LENGTH or proof[0] != AUTHENTICATED:
        raise DlmsSecurityError(f"security: an HLS proof of {len(proof)} bytes starting "
                                f"{proof[:1].hex() or 'nothing'}",
                                expected=f"0x10, a 4-byte invocation counter and a "
                                f"{TAG_LENGTH}-byte tag")
    counter = int.from_bytes(proof[1:5], "big")
    expected = hls_gmac_proof(challenge, key=key, auth_key=auth_key, system_title=system_title,
                              invocation_counter=counter)
    if not hmac.compare_digest(expected, proof):
        raise DlmsSecurityError("security: HLS GMAC proof mismatch (wrong key, system title or "
                                "challenge)", expected="the peer's f(challenge)")
    return counter
