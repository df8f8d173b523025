"""What an emulated device keeps in non-volatile memory, and its working copy in RAM.

Operations change the RAM copy; the device commits it to non-volatile memory a short time
after the first change (the model's ``commit_s``).  A power cut before then throws the RAM
copy away, so the device comes back as it was at the last commit.
"""

from __future__ import annotations

import copy
import datetime
from dataclasses import dataclass, field
from typing import Any

from harness.domain.types import RemotePartyRole, SmiStatus
from harness.emulator.world.consumer import ConsumerData
from harness.emulator.world.han import HanState
from harness.emulator.world.logs import DeviceLogs


@dataclass(frozen=True)
class StatusChange:
    """One step of a device's SMI status history."""

    at: datetime.datetime
    status: SmiStatus
    reason: str

    def __deepcopy__(self, memo: dict[int, object]) -> StatusChange:
        """Itself: frozen and immutable, so every copy of a history may share it."""
        return self


@dataclass
class PersistentState:
    """Everything that survives a power cycle once committed."""

    status: SmiStatus
    status_history: list[StatusChange]
    anchors: dict[RemotePartyRole, int | None]  # test-PKI variant per anchor slot
    logs: DeviceLogs
    han: HanState
    consumer: ConsumerData = field(default_factory=ConsumerData)
    supply: str = ""  # ESME load switch / GSME valve state; "" on a hub
    battery_used_mah: float = 0.0
    hub: Any = None  # a Communications Hub's own state (harness.emulator.world.models.comms_hub)

    def copy(self) -> PersistentState:
        """A deep copy: the commit and the rollback each take one."""
        return copy.deepcopy(self)
