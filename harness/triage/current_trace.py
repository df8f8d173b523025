"""A current-draw trace: supply current against seconds since power-on, as triage sampled it.

TRI-PWR-01 samples the bench supply from switch-on (inrush, boot, then idle); keeping each
sample's time lets a report draw the curve against the limits the device was held to. The
time origin is the moment the output-on command was sent (the instant the output actually
rises is not observable from the supply's side, so times may run a command round trip late).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

TIME_DECIMALS = 4
"""Sample times are kept to 0.1 ms: finer than a supply query takes, coarse enough to store."""


@dataclass(frozen=True)
class CurrentTrace:
    """Time-stamped supply current samples: ``(seconds since power-on, amps)``, oldest first."""

    samples: tuple[tuple[float, float], ...]
    clause: str = ""
    current_limit_a: float | None = None  # the supply's current limit while it was captured

    def __post_init__(self) -> None:
        problem = _problem(self.samples)
        if problem:
            raise ValueError(f"current trace: {problem}")

    @property
    def amps(self) -> list[float]:
        """The currents alone, in sample order."""
        return [a for _, a in self.samples]

    @property
    def peak_a(self) -> float:
        """The highest current in the trace."""
        return max(self.amps)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: ``{"clause", "current_limit_a", "samples": [[t, amps], ...]}``."""
        return {"clause": self.clause, "current_limit_a": self.current_limit_a,
                "samples": [[t, a] for t, a in self.samples]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "current trace") -> CurrentTrace:
        """The inverse of :meth:`as_dict`; ValueError naming ``where`` and the bad key."""
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected an object, got {type(data).__name__}")
        samples = data.get("samples")
        if not isinstance(samples, Sequence) or isinstance(samples, str):
            raise ValueError(f"{where}: samples: expected a list of [seconds, amps]")
        pairs = []
        for i, pair in enumerate(samples):
            if (not isinstance(pair, Sequence) or len(pair) != 2
                    or not all(_is_number(v) for v in pair)):
                raise ValueError(f"{where}: samples[{i}]: expected [seconds, amps], got {pair!r}")
            pairs.append((float(pair[0]), float(pair[1])))
        limit = data.get("current_limit_a")
        if limit is not None and not _is_number(limit):
            raise ValueError(f"{where}: current_limit_a: expected a number, got {limit!r}")
        clause = data.get("clause") or ""
        try:
            return cls(tuple(pairs), str(clause), None if limit is None else float(limit))
        except ValueError as exc:
            raise ValueError(f"{where}: {str(exc).removeprefix('current trace: ')}") from None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) \
        and math.isfinite(value)


def _problem(samples: Sequence[tuple[float, float]]) -> str | None:
    """What is wrong with a sample list (empty, not finite, time going backwards), or None."""
    if not samples:
        return "no samples"
    last = -math.inf
    for i, (t, amps) in enumerate(samples):
        if not (_is_number(t) and _is_number(amps)):
            return f"samples[{i}]: not a finite number: ({t!r}, {amps!r})"
        if t < last:
            return f"samples[{i}]: time {t} s is before the previous sample's {last} s"
        last = t
    return None


def capture(read: Callable[[], float], seconds: float, every: float = 0.02, *,
            since: float | None = None, clause: str = "",
            current_limit_a: float | None = None,
            clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> CurrentTrace:
    """Read the current every ``every`` s for ``seconds`` s; each reading time-stamped.

    ``since`` is the clock reading at power-on (default: now); each sample is stamped with
    the clock just before its reading. ``clock`` and ``sleep`` are injectable so tests do not
    wait. At least one sample is always taken.
    """
    if seconds < 0 or every < 0:
        raise ValueError(f"capture: seconds ({seconds}) and every ({every}) must be >= 0")
    origin = clock() if since is None else since
    deadline = clock() + seconds
    samples: list[tuple[float, float]] = []
    while True:
        at = clock()
        if samples and at >= deadline:
            break
        amps = read()
        samples.append((round(at - origin, TIME_DECIMALS), float(amps)))
        sleep(every)
    return CurrentTrace(tuple(samples), clause, current_limit_a)
