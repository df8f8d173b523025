"""The power-supply contract: outputs, set points and measurements, per channel.

A slot names a supply channel (``psu:2``); :meth:`PowerSupply.channel` gives a view bound to
it. Set points are checked against the bench file's limits before anything is sent, so a
typo in a suite cannot put 2300 V on a meter.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt

from harness.drivers.base import Instrument
from harness.errors import InstrumentTimeoutError, OperationError, ProtocolError

T = TypeVar("T")


class PowerSupply(Instrument):
    """A programmable supply with one or more channels, numbered from 1."""

    kind = "power"

    @property
    def channels(self) -> int:
        """How many output channels the supply has (bench option ``channels``, default 1)."""
        return int(self.config.options.get("channels", 1))

    @property
    def max_voltage(self) -> float | None:
        """Highest voltage a suite may set (bench option ``max_voltage``)."""
        value = self.config.options.get("max_voltage")
        return float(value) if value is not None else None

    def _query(self, read: Callable[[int], T], channel: int) -> T:
        """A reading (state, voltage, current) changes nothing on the supply: one lost or
        garbled answer is asked again (option ``query_retries``, default 3 attempts) before
        it is the bench's error; a supply that keeps failing still raises."""
        channel = self._check_channel(channel)
        for attempt in Retrying(stop=stop_after_attempt(int(self.config.options.get(
                "query_retries", 3))), retry=retry_if_exception_type(
                (InstrumentTimeoutError, ProtocolError)), reraise=True):
            with attempt, self._lock:
                return read(channel)
        raise AssertionError("unreachable: tenacity reraises")

    def _check_channel(self, channel: int) -> int:
        if not 1 <= channel <= self.channels:
            raise OperationError(
                f"{self.name}: no channel {channel} (it has {self.channels})",
                instrument=self.name,
                channel=channel,
            )
        return channel

    def channel(self, number: int | None) -> PowerChannel:
        """A view of one channel, as a slot uses it."""
        return PowerChannel(self, self._check_channel(number or 1))

    def output(self, on: bool, channel: int = 1) -> None:
        """Switch a channel's output on or off."""
        self._require_open()
        with self._lock:
            self._set_output(self._check_channel(channel), on)
        self.log.info("channel %d output %s", channel, "ON" if on else "OFF")

    def output_state(self, channel: int = 1) -> bool:
        """Whether a channel's output is on, as the supply reports it."""
        self._require_open()
        return self._query(self._get_output, channel)

    def set_voltage(self, volts: float, channel: int = 1) -> None:
        """Set a channel's voltage set point, refused above the bench's ``max_voltage``."""
        self._require_open()
        if volts < 0 or (self.max_voltage is not None and volts > self.max_voltage):
            raise OperationError(
                f"{self.name}: {volts} V is outside 0..{self.max_voltage} V allowed by the bench",
                instrument=self.name,
                channel=channel,
            )
        with self._lock:
            self._set_voltage(self._check_channel(channel), volts)

    def set_current_limit(self, amps: float, channel: int = 1) -> None:
        """Set a channel's current limit."""
        self._require_open()
        if amps <= 0:
            raise OperationError(f"{self.name}: current limit must be > 0 A", instrument=self.name)
        with self._lock:
            self._set_current_limit(self._check_channel(channel), amps)

    def measure_voltage(self, channel: int = 1) -> float:
        """Measured output voltage of a channel, in volts."""
        self._require_open()
        return self._query(self._measure_voltage, channel)

    def measure_current(self, channel: int = 1) -> float:
        """Measured output current of a channel, in amperes."""
        self._require_open()
        return self._query(self._measure_current, channel)

    def _safe_state_internal(self, safe_state: dict[str, Any]) -> None:
        """Every output off (the only safe state of a supply feeding a DUT)."""
        for ch in range(1, self.channels + 1):
            self._set_output(ch, False)
            if "voltage" in safe_state:
                self._set_voltage(ch, float(safe_state["voltage"]))

    @abc.abstractmethod
    def _set_output(self, channel: int, on: bool) -> None: ...

    @abc.abstractmethod
    def _get_output(self, channel: int) -> bool: ...

    @abc.abstractmethod
    def _set_voltage(self, channel: int, volts: float) -> None: ...

    @abc.abstractmethod
    def _set_current_limit(self, channel: int, amps: float) -> None: ...

    @abc.abstractmethod
    def _measure_voltage(self, channel: int) -> float: ...

    @abc.abstractmethod
    def _measure_current(self, channel: int) -> float: ...


@dataclass(frozen=True)
class PowerChannel:
    """One channel of a supply, bound so that a slot's code never names the channel."""

    supply: PowerSupply
    number: int

    def on(self) -> None:
        """Output on."""
        self.supply.output(True, self.number)

    def off(self) -> None:
        """Output off."""
        self.supply.output(False, self.number)

    @property
    def is_on(self) -> bool:
        """Whether the output is on."""
        return self.supply.output_state(self.number)

    def set_voltage(self, volts: float) -> None:
        """Voltage set point."""
        self.supply.set_voltage(volts, self.number)

    def set_current_limit(self, amps: float) -> None:
        """Current limit."""
        self.supply.set_current_limit(amps, self.number)

    def voltage(self) -> float:
        """Measured voltage."""
        return self.supply.measure_voltage(self.number)

    def current(self) -> float:
        """Measured current."""
        return self.supply.measure_current(self.number)
