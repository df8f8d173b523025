"""The least TRI-DIAG-01 window any sampler can close, for a device that shows whole seconds.

``stage_floor.py`` first counted the window as reaction / resolution: both of its ends pinned
as tightly as one read can pin a change, from the first second on. No sampler can do that. A
device shows whole seconds, so a read only says on which side of a change it was taken, and
where in its second the device turns must be learnt read by read. This module bounds what that
learning costs, whatever the sampler does, from the device's own figures: its reaction time
``w``, the shortest read cycle its line allows ``R`` (a request's and an answer's bytes at its
baud, and the reaction between), and the spec's ``resolution_ppm`` (``res``).

The argument. Help the sampler: the device's clock runs at exactly the bench's rate and the
sampler knows it; the sampler can place the instant the device takes its clock exactly (the
emulated meter takes it when the request's last byte has landed, ``e``; a device that takes
it at any other fixed point of its reaction only shifts ``e``); the window's last reads pin
the last change perfectly. Count time ``T`` from the device's first change, and let ``c`` be
where its second turns.

1. A read at ``e`` showing the old second bounds that change from below with slack
   ``F = c - e``; one showing the new second bounds it from above with slack ``w + G``,
   ``G = e - c``. For lines through interval constraints (1-D Helly, at each rate), the fit's
   range of rates is exactly ``min (f_i + e_j) / d_ij + min (e_i + f_j) / d_ij`` over pairs of
   an earlier and a later read. With the late pins perfect, the half-range is at most ``res``
   only if some read made in second ``k`` has ``F <= phi_k`` or ``G <= phi_k``, where
   ``phi_k = res * (T - k) - w``: at least one of the two terms must be at most ``res``.
2. Before its first change the sampler knows nothing of ``c``. Reads are at least ``R`` apart,
   so the first change falls between two consecutive reads: ``c`` lies in a bracket of width
   ``W0 >= R``, uniformly for a device whose phase is uniform. Only reads inside the current
   bracket say anything new, and they are at least ``R`` apart: a bracket of width ``W`` holds
   at most ``1 + W / R`` of them at a change. Over all the brackets the different phases lead
   to (their widths sum to ``W0``), change ``k`` therefore has at most
   ``2**(k - 1) * (1 + W0 / R)`` reads, which is at most ``2**k * W0 / R``.
3. Each read makes ``F`` or ``G`` at most ``phi`` only for phases within ``phi`` of it: a
   measure of at most ``2 phi``. The two reads bounding the first bracket add ``2 phi_0``.

So the share of phases for which any sampler can close the window ``T`` after the first change
is at most ``(2 phi_0 + sum over k >= 1 of 2**(k + 1) phi_k) / R`` (the measure of item 3
over the ``W0`` phases of item 2).

4. The window's last pin is of a change a whole number ``N`` of device seconds after the first
   (``T`` above is ``N``: the ``T - k`` are counts of the device's seconds), and it needs a
   read taken after that change: no window closes sooner than ``N``. The phases item 3 counts
   at ``N`` are among those it counts at ``N + 1`` (every ``phi_k`` grows with ``T``), so for
   every phase outside the share at ``N - 1``, no sampler closes before ``N``.

:func:`window_floor_s` is the least whole ``N`` whose share reaches ``share``: with ``share``
one half, for more than half of all phases no sampler closes sooner (the floor stage_floor.py
counts, per window); with ``share`` one, for some phase none does. The wait for the first
change (the device's phase, up to a second) and the last read's own answer are not counted:
the floor stays below what a device needs. A device whose instant wanders within its reaction
is not this model's: the luck of its reads could beat the bound.
"""

from __future__ import annotations

import math


def closable_share(after_s: float, cycle_s: float, reaction_s: float,
                   resolution_ppm: float) -> float:
    """At most this share of device phases lets any sampler close the window ``after_s``
    bench seconds after the device's first change (the bound in the module's docstring)."""
    res = resolution_ppm * 1e-6
    covered, k = 0.0, 0
    while True:
        phi = res * (after_s - k) - reaction_s
        if phi <= 0:
            break
        covered += (2.0 if k == 0 else 2.0 ** (k + 1)) * phi
        k += 1
    return covered / cycle_s


def window_floor_s(cycle_s: float, reaction_s: float, resolution_ppm: float,
                   share: float = 0.5) -> float:
    """The whole device seconds after its first change before which no sampler closes
    TRI-DIAG-01's window (its rate known to ``resolution_ppm``) for more than ``1 - share`` of
    device phases (item 4): over reaction / resolution, plus what learning the phase costs."""
    if cycle_s <= 0 or reaction_s <= 0 or resolution_ppm <= 0 or not 0 < share <= 1:
        raise ValueError(f"window_floor_s: cycle {cycle_s} s, reaction {reaction_s} s, "
                         f"resolution {resolution_ppm} ppm and share {share} must be positive "
                         "(share at most 1)")
    # closable_share is 0 up to reaction / resolution and grows with T
    whole = math.floor(reaction_s / (resolution_ppm * 1e-6)) + 1
    while closable_share(whole, cycle_s, reaction_s, resolution_ppm) < share:
        whole += 1
    return float(whole)
