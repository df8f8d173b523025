"""Errors of the EZSP/ASH codecs: all ProtocolErrors, since a codec has no instrument to fail.

``AshFrameError`` is a frame that breaks UG101 (bad CRC, length, control byte); ``AshStateError``
a use of the ASH link the state machine does not allow; ``EzspFrameError`` an EZSP frame or
parameter field that does not follow UG100/UG600.
"""

from __future__ import annotations

from harness.errors import ProtocolError

__all__ = ["AshError", "AshFrameError", "AshStateError", "EzspError", "EzspFrameError"]


class AshError(ProtocolError):
    """Something in the ASH layer (UG101) is wrong; the subclass says whether frame or state."""


class AshFrameError(AshError):
    """An ASH frame does not follow UG101; ``offset`` names the byte in the frame where known."""


class AshStateError(AshError):
    """The ASH link was asked for something its state does not allow (e.g. DATA before RSTACK)."""


class EzspError(ProtocolError):
    """Something in the EZSP layer (UG100/UG600) is wrong."""


class EzspFrameError(EzspError):
    """An EZSP frame or parameter does not follow UG100/UG600: ``frame_id`` and ``offset`` say
    where, when known."""
