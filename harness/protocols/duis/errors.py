"""DUIS errors: each carries the DUIS-style response code a user would see, and where it arose.

Codes are in ``codes.py`` (real DUIS codes where known, documented meterbench codes otherwise).
"""

from __future__ import annotations

from typing import Any

from harness.errors import ProtocolError

__all__ = ["DuisAuthorisationError", "DuisError", "DuisSignatureError"]


class DuisError(ProtocolError):
    """A DUIS message is malformed, badly signed or not allowed.

    ``response_code`` is the DUIS-style code to answer with; ``source`` names the message
    (file or peer), ``line`` its line number and ``path`` the element path, where known.
    """

    def __init__(
        self,
        message: str = "",
        *,
        response_code: str,
        source: str | None = None,
        line: int | None = None,
        path: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(
            message, response_code=response_code, source=source, line=line, path=path, **context
        )
        self.response_code = response_code
        self.source = source
        self.line = line
        self.path = path

    @property
    def where(self) -> str:
        """``source:line: path`` as far as known (empty when nothing is)."""
        parts = []
        if self.source:
            parts.append(self.source)
        if self.line is not None:
            parts.append(f"line {self.line}")
        text = ", ".join(parts)
        if self.path:
            text = f"{text}: {self.path}" if text else self.path
        return text

    def __str__(self) -> str:
        where = self.where
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.message} (response code {self.response_code})"


class DuisSignatureError(DuisError):
    """The XML signature is missing, a placeholder, from an unknown signer, or does not verify."""


class DuisAuthorisationError(DuisError):
    """The sender's user role may not send this Service Request (DUIS E2)."""
