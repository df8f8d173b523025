"""A Communications Hub's HAN checked by a real join: the bench dongle joins the hub's network.

TRI-HAN-03 for a hub (harness/triage/spec.yaml): the bench dongle is added to the hub's CHF
device log with the dongle's own install code (GB-SMART-METERING.md, "CHF whitelist", SR 8.11)
and joins the hub's network with the link key derived from that code.  The hub must seal its
network key under the key *it* derives from the code, so a hub whose derivation is corrupt, or
whose device log does not take the dongle, does not admit it: a HAN fault the hub's own reports
never show.  Only the dongle's stack's verdict is used; a dongle that does not answer raises
(the bench's trouble, never the hub's).  The install code never reaches a log or a record.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass

from harness.drivers.zigbee.base import JoinStatus, NetworkJoin, PanInfo, ZigbeeDongle
from harness.errors import MeterbenchError
from harness.protocols.installcode import InstallCode

log = logging.getLogger("meterbench.triage.hub_join")

DEVICE_SIDE = frozenset({JoinStatus.NO_NETWORK_KEY, JoinStatus.REFUSED})
"""Join outcomes that say the hub did not admit a dongle it had in its device log."""


@dataclass(frozen=True)
class HubJoinResult:
    """What the dongle's join of the hub's network gave (no secrets)."""

    channel: int
    pan_id: int
    status: JoinStatus
    elapsed_s: float
    detail: str = ""

    @property
    def joined(self) -> bool:
        """Whether the hub admitted the dongle."""
        return self.status is JoinStatus.JOINED

    def describe(self) -> str:
        """One line for a finding or a note."""
        return (f"the bench dongle's join of the hub's PAN {self.pan_id:04X} on channel "
                f"{self.channel}: {self.status} ({self.detail})")


def joining_code(dongle: ZigbeeDongle) -> InstallCode:
    """The install code the dongle joins with: its own (bench secret or the stick's), else a
    fresh random one for this join (a joiner's code is any secret both sides then hold)."""
    return dongle.install_code() or InstallCode.generate(random.SystemRandom())


def join_hub(dongle: ZigbeeDongle, pan: PanInfo, install_code: InstallCode,
             timeout: float) -> HubJoinResult:
    """The dongle joins the hub's network ``pan`` with ``install_code``'s key, then leaves it
    (whatever happened).  The hub must already hold the dongle in its device log."""
    start = time.monotonic()
    try:
        outcome: NetworkJoin = dongle.join_network(pan.channel, pan.pan_id, install_code,
                                                   timeout)
    finally:
        try:
            dongle.leave_network()
        except MeterbenchError:
            log.exception("hub join: the dongle could not leave the hub's network")
    elapsed = round(time.monotonic() - start, 3)
    return HubJoinResult(pan.channel, pan.pan_id, outcome.status, elapsed, outcome.detail)
