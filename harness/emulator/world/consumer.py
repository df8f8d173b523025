"""Consumer data a meter holds, and plausible history to fill it with.

Everything here is what a triage reset must make unavailable (GB-SMART-METERING.md, SECMP0010
and SECMP0013: "make all consumer data unavailable"): registers, half-hourly profile, daily
and billing reads, prepayment balance and debts, customer messages, the MPxN.  An unavailable
store is the default ``ConsumerData()``: every read gives None or nothing.
"""

from __future__ import annotations

import dataclasses
import datetime
import math
import random
from dataclasses import dataclass

from harness.domain.mpxn import mpan_check_digit
from harness.domain.types import DeviceType
from harness.emulator.world.faults import stable_seed

HALF_HOUR = datetime.timedelta(minutes=30)
TOU_BANDS: tuple[tuple[int, int], ...] = ((0, 7), (7, 16), (16, 19), (19, 24))
"""Hour bands of the emulated time-of-use tariff (night, day, peak, evening); register n of a
model with fewer registers takes bands n, n+k, ... (k the register count)."""


@dataclass(frozen=True)
class Reading:
    """A timestamped value: a register reading, or the consumption of a half hour."""

    at: datetime.datetime
    value: int

    def __deepcopy__(self, memo: dict[int, object]) -> Reading:
        """Itself: frozen and immutable, so every copy may share it."""
        return self


@dataclass(frozen=True)
class Debt:
    """A prepayment debt: what is owed and how fast it is recovered, in pence."""

    name: str
    outstanding_p: int
    recovery_p_per_day: int


@dataclass(frozen=True)
class ConsumerData:
    """A meter's consumer data; the default instance is "unavailable" (after a reset)."""

    mpxn: str | None = None
    import_register: int | None = None  # Wh (electricity) or dm³ (gas)
    tou_registers: tuple[int, ...] = ()
    half_hourly: tuple[Reading, ...] = ()
    daily_reads: tuple[Reading, ...] = ()
    billing_reads: tuple[Reading, ...] = ()
    prepayment_balance_p: int | None = None
    debts: tuple[Debt, ...] = ()
    messages: tuple[str, ...] = ()

    def __deepcopy__(self, memo: dict[int, object]) -> ConsumerData:
        """Itself: frozen, of frozen parts, so a state's copy may share it (a month of half
        hours deep-copied at every commit was most of an emulated device's CPU)."""
        return self

    @property
    def available(self) -> bool:
        """Whether any consumer datum can be read (the cumulative registers are legal
        metrology, not consumer data: they do not count)."""
        return dataclasses.replace(self, import_register=None,
                                   tou_registers=()) != ConsumerData()

    def metrology_only(self) -> ConsumerData:
        """What a meter keeps through a triage reset: its cumulative registers only (MID
        2014/32/EU Annex V MI-003, GB-SMART-METERING.md "Returns in the real world")."""
        return ConsumerData(import_register=self.import_register,
                            tou_registers=self.tou_registers)


def dummy_mpxn(device_type: DeviceType, seed: int) -> str:
    """A QA-environment MPxN: a 13-digit MPAN core for electricity, a 10-digit MPRN for gas."""
    rng = random.Random(stable_seed(seed, "mpxn"))
    if device_type is DeviceType.ESME:
        first = "19" + "".join(str(rng.randrange(10)) for _ in range(10))
        return first + str(mpan_check_digit(first))
    return "9" + "".join(str(rng.randrange(10)) for _ in range(9))


def _half_hour_use(device_type: DeviceType, when: datetime.datetime, rng: random.Random) -> int:
    """Consumption in one half hour: a daily shape with noise (Wh, or dm³ of gas)."""
    hour = when.hour + when.minute / 60
    if device_type is DeviceType.ESME:
        base = 90 + 160 * math.exp(-((hour - 19) ** 2) / 6) + 60 * math.exp(-((hour - 8) ** 2) / 2)
    else:  # gas heating: morning and evening peaks, little overnight
        base = 20 + 260 * math.exp(-((hour - 7) ** 2) / 2) + 220 * math.exp(-((hour - 18) ** 2) / 4)
    return max(0, round(base * rng.uniform(0.6, 1.4)))


def fill_consumer_data(
    device_type: DeviceType,
    seed: int,
    until: datetime.datetime,
    *,
    days: int = 30,
    tou_registers: int = 0,
    prepayment: bool = True,
    mpxn: str | None = None,
) -> ConsumerData:
    """Plausible consumer data for ``days`` of history ending at ``until`` (the device's clock).

    Deterministic in ``seed`` and ``until``.  A hub's Gas Proxy Function holds gas data.
    """
    kind = DeviceType.ESME if device_type is DeviceType.ESME else DeviceType.GSME
    rng = random.Random(stable_seed(seed, "consumer", until.isoformat()))
    end = until.replace(minute=0 if until.minute < 30 else 30, second=0, microsecond=0)
    start = end - datetime.timedelta(days=days)
    register = rng.randrange(2_000_000, 40_000_000)
    rates = max(tou_registers, 0)
    tou = [register // max(rates, 1)] * rates
    if rates:
        tou[0] += register - sum(tou)  # the TOU registers add up to the import register
    half_hourly: list[Reading] = []
    daily: list[Reading] = []
    billing: list[Reading] = []
    t = start
    while t < end:
        if t.hour == 0 and t.minute == 0:
            daily.append(Reading(t, register))
            if t.day == 1:
                billing.append(Reading(t, register))
        use = _half_hour_use(kind, t, rng)
        half_hourly.append(Reading(t, use))
        register += use
        if rates:
            band = next(i for i, (lo, hi) in enumerate(TOU_BANDS) if lo <= t.hour < hi)
            tou[band % rates] += use
        t += HALF_HOUR
    balance = debts = None
    messages: tuple[str, ...] = ()
    if prepayment:
        balance = rng.randrange(-500, 4000)
        debts = (Debt("time-based debt", rng.randrange(0, 12000), 50),
                 Debt("payment-based debt", rng.randrange(0, 5000), 0))
        messages = ("Top up soon: your balance is low",) if balance < 500 else ()
    messages += (f"Welcome, account {rng.randrange(10**7):07d}",)
    return ConsumerData(
        mpxn=mpxn or dummy_mpxn(kind, seed),
        import_register=register,
        tou_registers=tuple(tou),
        half_hourly=tuple(half_hourly),
        daily_reads=tuple(daily),
        billing_reads=tuple(billing),
        prepayment_balance_p=balance,
        debts=debts or (),
        messages=messages,
    )
