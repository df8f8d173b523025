"""HDLC parameter negotiation of IEC 62056-46 (6.4.4.4.3.2): the SNRM and UA information field.

``81 80 <group length>`` (format identifier, HDLC parameter group) then parameters as
identifier, length, value: 0x05 maximum information field length transmit, 0x06 ... receive,
0x07 window size transmit, 0x08 ... receive.  An absent parameter (or an empty field) means
the default: 128 bytes and a window of 1.  Transmit and receive are from the sender's view.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.protocols.dlms.errors import HdlcError, fail

__all__ = ["DEFAULT_MAX_INFORMATION_LENGTH", "DEFAULT_WINDOW_SIZE", "HdlcParameters"]

DEFAULT_MAX_INFORMATION_LENGTH = 128
DEFAULT_WINDOW_SIZE = 1
_FORMAT_ID = 0x81
_GROUP_ID = 0x80
_IDS = {0x05: "max_info_tx", 0x06: "max_info_rx", 0x07: "window_tx", 0x08: "window_rx"}


@dataclass(frozen=True)
class HdlcParameters:
    """Negotiable HDLC parameters as seen by the station that sends them."""

    max_info_tx: int = DEFAULT_MAX_INFORMATION_LENGTH
    max_info_rx: int = DEFAULT_MAX_INFORMATION_LENGTH
    window_tx: int = DEFAULT_WINDOW_SIZE
    window_rx: int = DEFAULT_WINDOW_SIZE

    def __post_init__(self) -> None:
        for name in ("max_info_tx", "max_info_rx"):
            if not 1 <= getattr(self, name) <= 0x7FF:
                raise HdlcError(f"hdlc: {name} {getattr(self, name)} out of range",
                                expected="1..2047 bytes")
        for name in ("window_tx", "window_rx"):
            if not 1 <= getattr(self, name) <= 7:
                raise HdlcError(f"hdlc: {name} {getattr(self, name)} out of range",
                                expected="1..7 frames")

    def encode(self) -> bytes:
        """The information field of an SNRM or UA frame carrying all four parameters."""
        body = bytearray()
        for ident, name in _IDS.items():
            value: int = getattr(self, name)
            width = 1 if value <= 0xFF else 2
            body += bytes((ident, width)) + value.to_bytes(width, "big")
        return bytes((_FORMAT_ID, _GROUP_ID, len(body))) + bytes(body)

    @classmethod
    def decode(cls, information: bytes) -> HdlcParameters:
        """Read an SNRM/UA information field; empty means every default."""
        if not information:
            return cls()
        if len(information) < 3 or information[0] != _FORMAT_ID or information[1] != _GROUP_ID:
            raise fail(HdlcError, f"parameter field starts {information[:3].hex(' ')}", 0,
                       "81 80 <group length>")
        end = 3 + information[2]
        if end != len(information):
            raise fail(HdlcError, f"parameter group length {information[2]} does not match "
                       f"{len(information) - 3} bytes", 2, "the group length to match")
        values: dict[str, int] = {}
        i = 3
        while i < end:
            if i + 2 > end:
                raise fail(HdlcError, "truncated parameter", i, "identifier and length")
            ident, width = information[i], information[i + 1]
            if not 1 <= width <= 4 or i + 2 + width > end:
                raise fail(HdlcError, f"parameter 0x{ident:02X} of length {width}", i + 1,
                           "1 to 4 value bytes inside the group")
            name = _IDS.get(ident)
            if name is not None:  # unknown parameters are ignored
                values[name] = int.from_bytes(information[i + 2:i + 2 + width], "big")
            i += 2 + width
        try:
            return cls(**values)
        except HdlcError as error:
            raise fail(HdlcError, error.message.removeprefix("hdlc: "), 3,
                       error.expected or "valid values") from None

    def peer_view(self) -> HdlcParameters:
        """The same limits from the other station's view (its transmit is our receive)."""
        return HdlcParameters(self.max_info_rx, self.max_info_tx, self.window_rx,
                              self.window_tx)

    def negotiate(self, proposed: HdlcParameters) -> HdlcParameters:
        """What a server answers in its UA to a client's SNRM ``proposed`` values, given its
        own limits ``self``: each value the smaller of the two, from the server's view."""
        peer = proposed.peer_view()
        return HdlcParameters(min(self.max_info_tx, peer.max_info_tx),
                              min(self.max_info_rx, peer.max_info_rx),
                              min(self.window_tx, peer.window_tx),
                              min(self.window_rx, peer.window_rx))
