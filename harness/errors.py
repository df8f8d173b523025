"""One exception tree for meterbench, split by the phase in which a thing went wrong.

Each class also inherits the standard exception that fits (as python-can does), so callers
may catch ``TimeoutError`` or ``ConnectionError`` without knowing meterbench.  Every error is
picklable with its keyword context, because pytest-xdist ships exceptions between processes.
"""

from __future__ import annotations

from typing import Any


class MeterbenchError(Exception):
    """Root of every meterbench error; ``context`` holds where it happened (file, device, ...)."""

    def __init__(self, message: str = "", **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild with the same message and context in another process.
        return (_rebuild, (type(self), self.message, self.context))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls: type[MeterbenchError], message: str, context: dict[str, Any]) -> MeterbenchError:
    """Unpickling helper: construct ``cls`` with its message and keyword context."""
    return cls(message, **context)


class BenchConfigError(MeterbenchError, ValueError):
    """A bench file (or another user-supplied configuration) is invalid.

    ``file`` and ``key_path`` say where; ``expected`` says what was wanted there.
    """

    def __init__(
        self,
        message: str = "",
        *,
        file: str | None = None,
        key_path: str | None = None,
        expected: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(message, file=file, key_path=key_path, expected=expected, **context)
        self.file = file
        self.key_path = key_path
        self.expected = expected

    def __str__(self) -> str:
        where = self.file or "<bench>"
        if self.key_path:
            where = f"{where}: {self.key_path}"
        text = f"{where}: {self.message}"
        if self.expected:
            text += f" (expected {self.expected})"
        for other in self.context.get("more") or ():
            text += f"\n  also {other}"
        return text


class BackendUnavailableError(MeterbenchError, ImportError):
    """A backend is unknown, or its optional dependency is not installed."""


class BenchUnavailableError(MeterbenchError, RuntimeError):
    """The bench cannot be had: locked by another run, or an instrument does not answer."""


class BenchLockedError(BenchUnavailableError):
    """Another process holds the bench lock; ``holder`` says who (pid, host, since)."""


class InstrumentConnectError(MeterbenchError, ConnectionError):
    """Opening the link to an instrument or device failed."""


class OperationError(MeterbenchError, RuntimeError):
    """An instrument or device refused or failed an operation it was asked to do."""


class InstrumentTimeoutError(MeterbenchError, TimeoutError):
    """An instrument or device did not answer in time."""


class ProtocolError(MeterbenchError, ValueError):
    """Bytes on the wire do not follow the protocol; ``offset`` names the byte where known."""


class AccessDeniedError(MeterbenchError, PermissionError):
    """The acting role is not eligible for the operation (triage access table, DUIS roles)."""


class UnsafeStateError(MeterbenchError, RuntimeError):
    """Hardware could not be brought to (or confirmed in) its declared safe state."""
