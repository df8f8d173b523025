"""Smart Energy install codes: CRC-16/X-25 check, AES-MMO link-key derivation, masking.

Pure: no I/O.  Rules from GB-SMART-METERING.md, "HAN joining and the install code": a code
is 6, 8, 12 or 16 random bytes followed by a 2-byte CRC (low byte first); the link key is
the AES-128 Matyas-Meyer-Oseas hash (ZigBee spec annex B.6) of the code *including* its
CRC.  An install code and its link key are secrets (DESIGN.md principle 4): their
``repr``/``str`` are masked, and only ``reveal()`` / ``LinkKey.hex()`` give the value.
"""

from __future__ import annotations

import hmac
import random
import string
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from harness.errors import ProtocolError

__all__ = [
    "CODE_LENGTHS",
    "CRC_LENGTH",
    "InstallCode",
    "InstallCodeCharacterError",
    "InstallCodeCrcError",
    "InstallCodeError",
    "InstallCodeLengthError",
    "LinkKey",
    "aes_mmo_hash",
    "crc16_x25",
]

CODE_LENGTHS: tuple[int, ...] = (6, 8, 12, 16)
"""Allowed install-code lengths in bytes, without the CRC."""
CRC_LENGTH = 2
"""The CRC follows the code as 2 bytes, low byte first."""
_WITH_CRC_LENGTHS = tuple(n + CRC_LENGTH for n in CODE_LENGTHS)
_SEPARATORS = frozenset(" \t-:")
_HEX_DIGITS = frozenset(string.hexdigits)
_MASK = "****"


class InstallCodeError(ProtocolError):
    """An install code is invalid; the subclass says how (character, length or CRC).

    Messages and context never hold the code itself: it is a secret.
    """


class InstallCodeCharacterError(InstallCodeError):
    """A character is neither a hex digit nor a separator; ``offset`` is its 0-based index."""


class InstallCodeLengthError(InstallCodeError):
    """The code has a length no install code has; ``length`` and ``allowed`` are in bytes."""


class InstallCodeCrcError(InstallCodeError):
    """The stored CRC does not match the code; ``expected`` and ``found`` are ints."""


# --- CRC-16/X-25 ------------------------------------------------------------------------


def crc16_x25(data: bytes) -> int:
    """CRC-16/X-25 (poly 0x1021 reflected as 0x8408, init 0xFFFF, xorout 0xFFFF).

    The install-code CRC; the catalogue check value is ``crc16_x25(b"123456789") == 0x906E``.
    """
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


# --- AES-MMO hash (ZigBee spec annex B.6) -----------------------------------------------

_BLOCK = 16
_MAX_MMO_BITS = 1 << 16  # the 16-bit length field of B.6 covers messages under 2**16 bits


def _aes_encrypt_block(key: bytes, block: bytes) -> bytes:
    """One AES-128 block encryption (ECB of a single block is the raw block cipher)."""
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return encryptor.update(block) + encryptor.finalize()


def aes_mmo_hash(data: bytes) -> bytes:
    """Matyas-Meyer-Oseas hash of ``data`` with AES-128, per ZigBee spec annex B.6.

    ``H0`` is 16 zero bytes; each padded block ``M`` gives ``H = E(H, M) xor M``.  Padding
    is 0x80, zeros up to 14 mod 16 bytes, then the message length in bits as 16-bit
    big-endian.  Messages of 2**16 bits or more use another padding that install codes
    never need, so they are refused (``ValueError``).
    """
    bits = len(data) * 8
    if bits >= _MAX_MMO_BITS:
        raise ValueError(f"aes_mmo_hash supports messages under 8192 bytes, got {len(data)}")
    padded = bytearray(data)
    padded.append(0x80)
    while len(padded) % _BLOCK != _BLOCK - 2:
        padded.append(0)
    padded += bits.to_bytes(2, "big")
    digest = bytes(_BLOCK)
    for start in range(0, len(padded), _BLOCK):
        block = bytes(padded[start : start + _BLOCK])
        cipher = _aes_encrypt_block(digest, block)
        digest = bytes(c ^ m for c, m in zip(cipher, block, strict=True))
    return digest


# --- LinkKey ------------------------------------------------------------------------------


class LinkKey:
    """A 128-bit ZigBee link key that never shows itself in ``repr``/``str``/logs.

    ``hex()`` reveals it (uppercase, the form Telegesis ``ATS09=`` takes); ``bytes(key)``
    gives the raw 16 bytes for a codec that must put it on the wire.
    """

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        key = bytes(key)
        if len(key) != _BLOCK:
            raise ValueError(f"a link key is {_BLOCK} bytes, got {len(key)}")
        self._key = key

    def hex(self) -> str:
        """Reveal the key as 32 uppercase hex digits (deliberately: this is the secret)."""
        return self._key.hex().upper()

    def __bytes__(self) -> bytes:
        return self._key

    def __repr__(self) -> str:
        return f"LinkKey({_MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LinkKey):
            return NotImplemented
        return hmac.compare_digest(self._key, other._key)

    def __hash__(self) -> int:
        return hash((LinkKey, self._key))

    def __reduce__(self) -> tuple[Any, ...]:
        return (LinkKey, (self._key,))


# --- InstallCode --------------------------------------------------------------------------


def _strip(text: str) -> bytes:
    """Hex text without separators -> bytes; a stray character raises with its offset."""
    digits: list[str] = []
    for offset, char in enumerate(text):
        if char in _SEPARATORS:
            continue
        if char not in _HEX_DIGITS:
            shown = char if char.isprintable() else f"U+{ord(char):04X}"
            raise InstallCodeCharacterError(
                f"install code: {shown!r} at offset {offset} is not a hex digit "
                "(allowed: 0-9, A-F, and the separators space, '-', ':')",
                offset=offset,
            )
        digits.append(char)
    if len(digits) % 2:
        raise InstallCodeLengthError(
            f"install code: odd number of hex digits ({len(digits)}); each byte takes two",
            digits=len(digits),
        )
    return bytes.fromhex("".join(digits))


def _allowed_text(lengths: tuple[int, ...]) -> str:
    return ", ".join(str(n) for n in lengths)


class InstallCode:
    """A Smart Energy install code (without its CRC in ``code``), masked when printed.

    Build one with ``parse`` (from the label text), ``InstallCode(code_bytes)`` or
    ``generate`` (for emulated devices).  ``link_key()`` derives the TC link key.
    """

    __slots__ = ("_code",)

    def __init__(self, code: bytes) -> None:
        code = bytes(code)
        if len(code) not in CODE_LENGTHS:
            raise InstallCodeLengthError(
                f"install code is {len(code)} bytes without CRC; allowed: "
                f"{_allowed_text(CODE_LENGTHS)}",
                length=len(code),
                allowed=CODE_LENGTHS,
            )
        self._code = code

    @classmethod
    def parse(cls, text: str, *, has_crc: bool | None = None) -> InstallCode:
        """Parse hex text, with or without spaces/dashes/colons and with or without the CRC.

        Lengths 6/12/16 bytes mean no CRC and 10/14/18 mean a CRC; 8 bytes is either a
        6-byte code with CRC or an 8-byte code without, so it needs ``has_crc``.  A CRC
        present is checked.  Raises an ``InstallCodeError`` subclass saying what is wrong.
        """
        raw = _strip(text)
        n = len(raw)
        if has_crc is None:
            if n in CODE_LENGTHS and n in _WITH_CRC_LENGTHS:
                raise InstallCodeLengthError(
                    f"install code: {n} bytes is ambiguous (a {n - CRC_LENGTH}-byte code with "
                    f"CRC or a {n}-byte code without); pass has_crc=True or has_crc=False",
                    length=n,
                    allowed=None,
                )
            if n not in CODE_LENGTHS and n not in _WITH_CRC_LENGTHS:
                raise InstallCodeLengthError(
                    f"install code: {n} bytes; allowed: {_allowed_text(CODE_LENGTHS)} without "
                    f"CRC or {_allowed_text(_WITH_CRC_LENGTHS)} with CRC",
                    length=n,
                    allowed=tuple(sorted({*CODE_LENGTHS, *_WITH_CRC_LENGTHS})),
                )
            has_crc = n in _WITH_CRC_LENGTHS
        allowed = _WITH_CRC_LENGTHS if has_crc else CODE_LENGTHS
        if n not in allowed:
            kind = "with CRC" if has_crc else "without CRC"
            raise InstallCodeLengthError(
                f"install code: {n} bytes {kind}; allowed: {_allowed_text(allowed)}",
                length=n,
                allowed=allowed,
            )
        if not has_crc:
            return cls(raw)
        code, stored = raw[:-CRC_LENGTH], raw[-CRC_LENGTH:]
        found = int.from_bytes(stored, "little")
        expected = crc16_x25(code)
        if found != expected:
            raise InstallCodeCrcError(
                f"install code: wrong CRC: expected 0x{expected:04X} (bytes "
                f"{expected & 0xFF:02X} {expected >> 8:02X}), found 0x{found:04X} (bytes "
                f"{stored[0]:02X} {stored[1]:02X})",
                expected=expected,
                found=found,
            )
        return cls(code)

    @classmethod
    def generate(cls, rng: random.Random, length: int = 16) -> InstallCode:
        """A random code of ``length`` bytes drawn from ``rng``: same seed, same code."""
        if length not in CODE_LENGTHS:
            raise ValueError(
                f"install code length {length}; allowed: {_allowed_text(CODE_LENGTHS)}"
            )
        return cls(rng.randbytes(length))

    @property
    def code(self) -> bytes:
        """The random part, without the CRC."""
        return self._code

    @property
    def crc(self) -> int:
        """CRC-16/X-25 of ``code``."""
        return crc16_x25(self._code)

    @property
    def with_crc(self) -> bytes:
        """``code`` followed by its CRC, low byte first (the form printed on labels)."""
        return self._code + self.crc.to_bytes(CRC_LENGTH, "little")

    def link_key(self) -> LinkKey:
        """The trust-centre link key: AES-MMO hash of the code including its CRC bytes."""
        return LinkKey(aes_mmo_hash(self.with_crc))

    def reveal(self, *, with_crc: bool = True) -> str:
        """The full value as uppercase hex (deliberately: this is the secret)."""
        return (self.with_crc if with_crc else self._code).hex().upper()

    def __len__(self) -> int:
        return len(self._code)

    def __repr__(self) -> str:
        return f"InstallCode({len(self._code)}+{CRC_LENGTH} bytes, {_MASK})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InstallCode):
            return NotImplemented
        return hmac.compare_digest(self._code, other._code)

    def __hash__(self) -> int:
        return hash((InstallCode, self._code))

    def __reduce__(self) -> tuple[Any, ...]:
        return (InstallCode, (self._code,))
