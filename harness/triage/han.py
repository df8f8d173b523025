"""HAN diagnostics for triage, built on a ZigBee dongle acting as a test Communications Hub.

- :func:`channel_survey`: energy on every channel and the networks in range.
- :func:`join_test`: form a test network, give the trust centre the link key derived from
  the DUT's install code, permit joining, and observe the DUT join or fail with the reason
  the evidence supports; read the joined DUT's link quality; unjoin it; leave.
- :func:`link_quality`: the LQI of one joined node, and its RSSI where the dongle's stack
  reports one (EZSP does; Telegesis NTABLE does not).

The records hold EUI-64s, channels and link qualities, never an install code or a key.  A
join test needs the DUT set to join with its install code (the HAN reset does that); once
joined and removed, the DUT holds a later link key, so run the HAN reset again before it
leaves the bench.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from harness.domain.eui64 import normalise_eui64
from harness.drivers.silence import SATURATED_FACTOR, Silence
from harness.drivers.zigbee.base import (
    MAX_PERMIT_S,
    DongleEvent,
    JoinFailed,
    NodeJoined,
    NodeLeft,
    OtherEvent,
    PanInfo,
    ZigbeeDongle,
)
from harness.errors import InstrumentTimeoutError, MeterbenchError
from harness.protocols.installcode import InstallCode

log = logging.getLogger("meterbench.triage.han")

UNJOIN_TIMEOUT_S = 5.0


class JoinDiagnosis(StrEnum):
    """The outcome of a join test, as far as the dongle's evidence goes."""

    JOINED = "joined"
    WRONG_KEY = "wrong key"  # the DUT associated but could not open the network key
    NO_RADIO_ACTIVITY = "no radio activity"  # nothing heard from the DUT in the window
    TIMEOUT = "timeout"  # the DUT was heard, but neither joined nor failed in time
    OTHER_EUI64 = "joined under another EUI-64"  # the install code's holder reports another


@dataclass(frozen=True)
class ChannelSurvey:
    """Energy per channel (dBm) and the networks a PAN scan found."""

    energy_dbm: Mapping[int, int]
    networks: tuple[PanInfo, ...] = ()

    def quietest(self) -> int:
        """The channel with the least energy (the lowest number on a tie)."""
        return min(self.energy_dbm, key=lambda ch: (self.energy_dbm[ch], ch))

    def busy(self, threshold_dbm: int = -85) -> list[int]:
        """Channels whose energy reaches ``threshold_dbm``."""
        return sorted(ch for ch, dbm in self.energy_dbm.items() if dbm >= threshold_dbm)


@dataclass(frozen=True)
class LinkQuality:
    """A joined node's entry in the dongle's neighbour table (RSSI None: not reported)."""

    eui64: str
    node_id: int
    lqi: int
    rssi_dbm: int | None = None


@dataclass(frozen=True)
class JoinTestResult:
    """What a join test saw (no secrets): diagnosis, network, the DUT's link, other nodes."""

    eui64: str
    diagnosis: JoinDiagnosis
    channel: int
    pan_id: int
    elapsed_s: float
    node_id: int | None = None
    lqi: int | None = None
    unjoined: bool = False
    rssi_dbm: int | None = None  # where the dongle's stack reports one
    other_nodes: tuple[str, ...] = ()  # EUI-64s of other nodes that joined meanwhile
    detail: str = ""

    @property
    def joined(self) -> bool:
        """Whether the DUT joined with its install code."""
        return self.diagnosis is JoinDiagnosis.JOINED


def channel_survey(dongle: ZigbeeDongle, *, pan_scan: bool = True) -> ChannelSurvey:
    """Energy-scan channels 11-26 and (unless ``pan_scan`` is False) list networks in range."""
    energy = dongle.energy_scan()
    networks = tuple(dongle.pan_scan()) if pan_scan else ()
    return ChannelSurvey(energy, networks)


def link_quality(dongle: ZigbeeDongle, eui64: str) -> LinkQuality | None:
    """The LQI the dongle has for ``eui64``, or None when it is not in the neighbour table."""
    eui = normalise_eui64(eui64)
    entry = next((n for n in dongle.neighbours() if n.eui64 == eui), None)
    return LinkQuality(entry.eui64, entry.node_id, entry.lqi, entry.rssi_dbm) if entry else None


def _about(eui: str, event: DongleEvent) -> bool:
    """Whether an event is evidence about the node ``eui``."""
    if isinstance(event, NodeJoined | JoinFailed | NodeLeft):
        return event.eui64 == eui
    return isinstance(event, OtherEvent) and getattr(event.raw, "eui64", None) == eui


def join_test(dongle: ZigbeeDongle, eui64: str, install_code: InstallCode | str,
              timeout: float = 30.0, *, channel: int | None = None,
              pan_id: int | None = None, unjoin: bool = True,
              floor_s: float | None = None) -> JoinTestResult:
    """Form a test network, let the DUT join with its install code, diagnose, then unjoin.

    ``channel`` defaults to the quietest by an energy scan.  The first conclusive evidence
    about the DUT ends the wait: it joined (then its LQI is read), or it failed on its key.
    Without any, after ``timeout`` s: "no radio activity" when nothing was heard from it,
    "joined under another EUI-64" when some other node joined with this install code's key,
    else "timeout".  The dongle leaves the test network whatever happens.

    ``floor_s`` (a fast emulated bench, whose ``timeout`` is scaled): a wall-clock floor
    the wait reaches only while the host was too busy to judge the silence the device's
    (:class:`harness.drivers.silence.Silence`, as an optical port's): a dead radio costs the
    scaled timeout on a free host, not the floor.
    """
    longest = timeout if floor_s is None else max(timeout, floor_s) * SATURATED_FACTOR
    if not 0 < timeout <= MAX_PERMIT_S or longest > MAX_PERMIT_S:
        raise ValueError(f"join test timeout must be in (0, {MAX_PERMIT_S}] s, got {timeout}"
                         + ("" if floor_s is None else f" (floor {floor_s})"))
    eui = normalise_eui64(eui64)
    code = install_code if isinstance(install_code, InstallCode) else (
        InstallCode.parse(install_code))
    if channel is None:
        channel = channel_survey(dongle, pan_scan=False).quietest()
    network = dongle.form_network(channel, pan_id)
    start = time.monotonic()
    try:
        mark = dongle.mark()
        dongle.add_install_code(eui, code)
        dongle.permit_join(min(MAX_PERMIT_S, math.ceil(longest) + 5))
        event = _await_join(dongle, eui, mark, timeout, floor_s)
        elapsed = round(time.monotonic() - start, 3)
        dongle.permit_join(0)
        seen = dongle.events(mark)
        others = tuple(dict.fromkeys(
            e.eui64 for e in seen if isinstance(e, NodeJoined) and e.eui64 != eui))
        result = _conclude(dongle, eui, event, seen, others, network.channel,
                           network.pan_id, elapsed, unjoin)
        if unjoin:  # nodes that joined with the DUT's key leave the test network too
            for other in others:
                _unjoin(dongle, other)
    finally:
        try:
            dongle.leave_network()
        except MeterbenchError:
            log.exception("join test: could not leave the test network")
    log.info("join test %s: %s (%s)", eui, result.diagnosis, result.detail)
    return result


def _await_join(dongle: ZigbeeDongle, eui: str, mark: int, timeout: float,
                floor_s: float | None) -> DongleEvent | None:
    """The DUT's join or key failure, or None once the wait is over: after ``timeout``, or
    with a ``floor_s`` when :class:`Silence` judges the silence the device's."""
    def conclusive(event: DongleEvent) -> bool:
        return isinstance(event, NodeJoined | JoinFailed) and event.eui64 == eui

    silence = None if floor_s is None else Silence(timeout, floor_s)
    step = timeout
    while True:
        try:
            return dongle.wait_for(conclusive, step, since=mark)
        except InstrumentTimeoutError:
            if silence is None or silence.over():
                return None
        step = max(timeout, 0.01) / 4  # past the device's own timeout: look again often


def _conclude(dongle: ZigbeeDongle, eui: str, event: DongleEvent | None,
              seen: list[DongleEvent], others: tuple[str, ...], channel: int, pan_id: int,
              elapsed: float, unjoin: bool) -> JoinTestResult:
    """Turn what the dongle saw into a result (reading the LQI and unjoining on success)."""
    base = functools.partial(JoinTestResult, eui64=eui, channel=channel, pan_id=pan_id,
                             elapsed_s=elapsed, other_nodes=others)
    if isinstance(event, NodeJoined):
        quality = link_quality(dongle, eui)
        left = _unjoin(dongle, eui) if unjoin else False
        return base(
            diagnosis=JoinDiagnosis.JOINED, node_id=event.node_id,
            lqi=quality.lqi if quality else None, unjoined=left,
            rssi_dbm=quality.rssi_dbm if quality else None,
            detail=f"joined as node {event.node_id:04X} after {elapsed:g} s")
    if isinstance(event, JoinFailed):
        return base(
            diagnosis=JoinDiagnosis.WRONG_KEY, node_id=event.node_id,
            detail="the DUT associated but could not open the network key: its link key is "
                   "not the one derived from this install code")
    if any(_about(eui, e) for e in seen):
        return base(diagnosis=JoinDiagnosis.TIMEOUT,
                              detail="the DUT was heard but did not complete a join")
    if others:
        return base(
            diagnosis=JoinDiagnosis.OTHER_EUI64,
            detail=f"no join from {eui}, but {', '.join(others)} joined with this install "
                   "code's key: the DUT may report an EUI-64 other than its label's")
    return base(diagnosis=JoinDiagnosis.NO_RADIO_ACTIVITY,
                          detail="nothing heard from the DUT: radio dead, unpowered, out of "
                                 "range, or not set to join with its install code")


def _unjoin(dongle: ZigbeeDongle, eui: str) -> bool:
    """Ask the DUT to leave and wait for it to go; False when it did not confirm."""
    mark = dongle.mark()
    try:
        dongle.remove_node(eui)
        dongle.wait_for(lambda e: isinstance(e, NodeLeft) and e.eui64 == eui,
                        UNJOIN_TIMEOUT_S, since=mark)
    except MeterbenchError as exc:
        log.warning("join test: %s did not leave: %s", eui, exc)
        return False
    return True
