"""The client half of the ciphered LN context: what it sends deciphers with the Green Book's
keys under our system title, and the meter's answers must authenticate under the meter's title
with a rising invocation counter."""

from __future__ import annotations

import pytest

from harness.drivers.optical.dlms_security import ClientCipher, HlsKeys
from harness.protocols.dlms import DlmsSecurityError, protect, unprotect

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
CLIENT = bytes.fromhex("4D4D4D0000000001")
SERVER = bytes.fromhex("4D4D4D0000BC614E")
GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")


def answer(counter: int, control: int = 0x30, key: bytes = EK) -> bytes:
    return protect(GET_CLOCK, key=key, auth_key=AK, system_title=SERVER,
                   invocation_counter=counter, security_control=control)


def test_seal_and_open() -> None:
    cipher = ClientCipher(HlsKeys(EK, AK), CLIENT)
    sent = [cipher.seal(GET_CLOCK) for _ in range(2)]
    for counter, apdu in enumerate(sent, start=1):
        plain, framed = unprotect(apdu, key=EK, auth_key=AK, system_title=CLIENT)
        assert (plain, framed.tag, framed.security_control, framed.invocation_counter) == (
            GET_CLOCK, 0xC8, 0x30, counter)
    with pytest.raises(DlmsSecurityError, match="system title is unknown"):
        cipher.open(answer(5))
    cipher.server_title = SERVER
    assert cipher.open(answer(5)) == GET_CLOCK
    with pytest.raises(DlmsSecurityError, match="did not rise"):
        cipher.open(answer(5))  # a replayed answer
    with pytest.raises(DlmsSecurityError, match="unauthenticated"):
        cipher.open(answer(6, control=0x20))
    with pytest.raises(DlmsSecurityError, match="tag mismatch"):
        cipher.open(answer(7, key=AK))  # not the meter whose keys we hold
    assert cipher.open(answer(8)) == GET_CLOCK
    assert EK.hex() not in repr(cipher.keys) and AK.hex() not in repr(cipher.keys)
