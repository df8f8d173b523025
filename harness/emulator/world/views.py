"""What an emulated device reports: read-only views the optical port and the tests read.

They carry no key material and no fault flags: only what a real device would answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.domain.types import RemotePartyRole, SmiStatus


@dataclass(frozen=True)
class OpticalPortBehaviour:
    """How the optical port behaves now, for the port server to honour.

    ``answers`` False: the port is silent.  Otherwise each frame is dropped with probability
    ``drop_fraction`` or corrupted with ``corrupt_fraction``, drawn from ``seed``.
    """

    answers: bool
    drop_fraction: float = 0.0
    corrupt_fraction: float = 0.0
    seed: int = 0

    @property
    def dead(self) -> bool:
        """The port server's spelling of ``not answers``."""
        return not self.answers


@dataclass(frozen=True)
class HanStatus:
    """The HAN side as the device reports it (no key material)."""

    joined: bool
    channel: int | None
    pan_id: int | None
    coordinator: str | None
    awaiting_install_code_join: bool  # not joined, and will join with its install-code key


@dataclass(frozen=True)
class ResetReport:
    """What a triage reset did, step by step."""

    anchors_restored: tuple[RemotePartyRole, ...]
    han_left: bool
    consumer_data_cleared: bool
    status: SmiStatus
