"""getMfgToken (0x0B) and the MFG_INSTALLATION_CODE token: frame id and layout on the wire, the
token's 20 bytes for each install-code length (flags, code, CRC low byte first), an erased
token, and a corrupt one that is refused without showing the code."""

from __future__ import annotations

import random

import pytest

from harness.protocols.ezsp import commands as c
from harness.protocols.ezsp.errors import EzspFrameError
from harness.protocols.ezsp.messages_mfg import (
    MFG_INSTALLATION_CODE,
    MfgToken,
    TokenId,
    install_code_from_token,
    installation_code_token,
)
from harness.protocols.installcode import InstallCode

VECTOR = InstallCode.parse("83FED3407A939723A5C639B26916D505C3B5")  # domain: AN1089's vector


def test_get_mfg_token_on_the_wire() -> None:
    """getMfgToken 0x0B with tokenId 0x0A; the response is its length then its bytes."""
    assert c.build("getMfgToken", TokenId(MFG_INSTALLATION_CODE), sequence=3,
                   version=8) == bytes.fromhex("03 00 01 0B 00 0A")
    token = installation_code_token(VECTOR)
    data = c.build("getMfgToken", MfgToken(token), sequence=3, version=8, response=True)
    assert data[5] == 20 and data[6:] == token
    assert c.parse(data, version=8)[1:] == ("getMfgToken", MfgToken(token))
    assert VECTOR.reveal() not in repr(MfgToken(token)).upper()


def test_the_published_vector_as_a_token() -> None:
    token = installation_code_token(VECTOR)
    assert token == bytes.fromhex("0600") + bytes.fromhex("83FED3407A939723A5C639B26916D505") \
        + bytes.fromhex("C3B5")
    assert install_code_from_token(token) == VECTOR


@pytest.mark.parametrize("length", [6, 8, 12, 16])
def test_every_code_length_round_trips(length: int) -> None:
    code = InstallCode.generate(random.Random(length), length)
    token = installation_code_token(code)
    assert len(token) == 20 and token[0] == [6, 8, 12, 16].index(length) << 1
    assert install_code_from_token(token) == code


def test_an_erased_token_holds_no_code_and_a_corrupt_one_is_refused() -> None:
    assert install_code_from_token(installation_code_token(None)) is None
    token = bytearray(installation_code_token(VECTOR))
    token[5] ^= 0x01
    with pytest.raises(EzspFrameError, match="CRC") as bad:
        install_code_from_token(bytes(token))
    assert "83FED340" not in str(bad.value).upper()
    with pytest.raises(EzspFrameError, match="flags"):
        install_code_from_token(b"\x09\x00" + bytes(token[2:]))
    with pytest.raises(EzspFrameError, match="expected 20"):
        install_code_from_token(bytes(token[:12]))
