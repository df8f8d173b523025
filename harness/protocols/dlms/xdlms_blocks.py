"""Block transfer of xDLMS GET and SET (Green Book 9.3.13): split a long encoded value into
numbered blocks and join them back, checking the numbering, with a size guard.

A data-access-result in place of a block is the meter's answer, not malformed bytes: the
joiner returns it (as an int) for the caller to judge.
"""

from __future__ import annotations

from harness.protocols.dlms.errors import XdlmsError
from harness.protocols.dlms.xdlms import (
    DEFAULT_INVOKE,
    AttributeDescriptor,
    GetResponseBlock,
    SelectiveAccess,
    SetRequestBlock,
    SetRequestFirstBlock,
)

__all__ = ["BlockJoiner", "split_get_response", "split_set_request"]

DEFAULT_MAX_VALUE_LENGTH = 1 << 20
"""Largest joined value accepted (1 MiB: a long event log fits, a runaway peer does not)."""


def _pieces(raw: bytes, block_size: int) -> list[bytes]:
    if block_size < 1:
        raise XdlmsError(f"apdu: block size {block_size}", expected="at least 1 byte")
    return [raw[i:i + block_size] for i in range(0, len(raw), block_size)] or [b""]


def split_get_response(raw: bytes, block_size: int, *,
                       invoke: int = DEFAULT_INVOKE) -> list[GetResponseBlock]:
    """GET-Response-With-Datablock APDUs carrying the encoded value ``raw``, numbered from 1."""
    pieces = _pieces(raw, block_size)
    return [GetResponseBlock(n == len(pieces), n, piece, invoke)
            for n, piece in enumerate(pieces, start=1)]


def split_set_request(attribute: AttributeDescriptor, raw: bytes, block_size: int, *,
                      access: SelectiveAccess | None = None, invoke: int = DEFAULT_INVOKE
                      ) -> list[SetRequestFirstBlock | SetRequestBlock]:
    """SET-Request-With-First-Datablock then SET-Request-With-Datablock APDUs for ``raw``."""
    pieces = _pieces(raw, block_size)
    first: SetRequestFirstBlock | SetRequestBlock = SetRequestFirstBlock(
        attribute, len(pieces) == 1, 1, pieces[0], access, invoke)
    return [first] + [SetRequestBlock(n == len(pieces), n, piece, invoke)
                      for n, piece in enumerate(pieces[1:], start=2)]


class BlockJoiner:
    """Joins the raw data of numbered blocks (GET responses or SET requests).

    ``add`` takes the block's ``last_block``, ``block_number`` and ``raw``: the whole value
    once the last block arrives, None while more are due, the int data-access-result when a
    block carries one.  A block out of sequence or a value beyond ``max_length`` is an
    XdlmsError (the transfer is then forgotten).
    """

    def __init__(self, *, max_length: int = DEFAULT_MAX_VALUE_LENGTH) -> None:
        self.max_length = max_length
        self.next_number = 1
        self._parts: list[bytes] = []
        self._size = 0

    def reset(self) -> None:
        """Forget a transfer in progress."""
        self.next_number, self._parts, self._size = 1, [], 0

    def add(self, block: GetResponseBlock | SetRequestFirstBlock | SetRequestBlock
            ) -> bytes | int | None:
        """Take the next block; see the class docstring."""
        if isinstance(block.raw, int):
            self.reset()
            return block.raw
        if block.block_number != self.next_number:
            expected = self.next_number
            self.reset()
            raise XdlmsError(f"apdu: data block {block.block_number} out of sequence",
                             expected=f"block {expected}")
        self._size += len(block.raw)
        if self._size > self.max_length:
            self.reset()
            raise XdlmsError(f"apdu: block transfer exceeds {self.max_length} bytes",
                             expected=f"at most {self.max_length} bytes")
        self._parts.append(block.raw)
        self.next_number += 1
        if not block.last_block:
            return None
        whole = b"".join(self._parts)
        self.reset()
        return whole
