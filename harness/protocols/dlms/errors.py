"""DLMS/COSEM codec errors: all ProtocolErrors, saying what was wrong, where and what was wanted.

A codec has no instrument to fail, so every error here is a :class:`harness.errors.ProtocolError`
(and so a ``ValueError``).  ``layer`` names the codec (``hdlc``, ``a-xdr``, ``apdu``, ``security``)
and ``offset`` the byte where the trouble starts, when known.
"""

from __future__ import annotations

from typing import Any

from harness.errors import ProtocolError

__all__ = ["AxdrError", "DlmsError", "DlmsSecurityError", "HdlcError", "XdlmsError", "fail",
           "uint_bytes"]


class DlmsError(ProtocolError):
    """Bytes (or values to encode) that do not follow DLMS/COSEM; ``layer`` says which codec."""

    layer = "dlms"

    def __init__(self, message: str = "", *, offset: int | None = None,
                 expected: str | None = None, **context: Any) -> None:
        if expected and "expected" not in message:
            message = f"{message}: expected {expected}"
        super().__init__(message, offset=offset, expected=expected, **context)
        self.offset = offset
        self.expected = expected


class HdlcError(DlmsError):
    """An HDLC frame (IEC 62056-46) is malformed: flags, length, addresses, control, HCS/FCS."""

    layer = "hdlc"


class AxdrError(DlmsError):
    """A-XDR data (COSEM data types) is malformed, too deep or too large, or cannot be encoded."""

    layer = "a-xdr"


class XdlmsError(DlmsError):
    """An ACSE or xDLMS APDU (AARQ, GET-Response, ...) is malformed or not supported."""

    layer = "apdu"


class DlmsSecurityError(DlmsError):
    """A ciphered APDU cannot be deciphered: wrong key, bad tag, unsupported security suite."""

    layer = "security"


def fail(cls: type[DlmsError], what: str, offset: int | None, expected: str) -> DlmsError:
    """Build an error of ``cls``: what went wrong, at which byte, what was wanted there."""
    where = f" at byte {offset}" if offset is not None else ""
    return cls(f"{cls.layer}: {what}{where}: expected {expected}", offset=offset,
               expected=expected)


def uint_bytes(cls: type[DlmsError], value: int, size: int, what: str) -> bytes:
    """``value`` as ``size`` big-endian bytes, or an error of ``cls`` if it does not fit
    (so an encoder refuses a bad field with our error, not an OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << (8 * size):
        raise cls(f"{cls.layer}: {what} {value!r} does not fit {size} byte(s)",
                  expected=f"an integer 0..{(1 << (8 * size)) - 1}")
    return value.to_bytes(size, "big")
