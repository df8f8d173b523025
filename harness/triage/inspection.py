"""A hub's physical inspection (TRI-ID-03): what the person at the bench looks at, and how.

Four of DUIS 8.14.3's return reasons (damaged case, damaged connector, fault with LED,
environmental conditions exceeded) and missing seals are seen, not reported: no GBCS alert or
DUIS read carries them. The operator records them when loading the hub; the suite turns each
into a measurement of TRI-ID-03, whose evidence names the return reason it fails with.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HUB_INSPECTION", "INSPECTION_CLAUSE", "Observation", "parse_failed"]

INSPECTION_CLAUSE = "TRI-ID-03"


@dataclass(frozen=True)
class Observation:
    """One thing inspected: its TRI-ID-03 measurement, the category a failure points to, and
    the word the operator types when it fails."""

    measurement: str
    category: str
    word: str
    what: str


HUB_INSPECTION: tuple[Observation, ...] = (
    Observation("case_intact", "hardware", "case", "the case is whole"),
    Observation("connector_intact", "hardware", "connector",
                "the connector is straight, clean and unburnt"),
    Observation("seals_intact", "tamper/physical", "seals", "every seal is present and intact"),
    Observation("leds_working", "hardware", "leds", "each status LED lights when powered"),
    Observation("no_environmental_damage", "hardware", "environment",
                "no water ingress, heat or corrosion marks"),
)
"""The observations of TRI-ID-03, in the order they are recorded."""


def parse_failed(reply: str) -> dict[str, bool]:
    """The operator's reply (empty: all sound; else the words of what failed, e.g. ``case
    leds``) as measurement -> sound; ValueError naming a word that is no observation."""
    words = {o.word: o for o in HUB_INSPECTION}
    failed = set()
    for word in reply.replace(",", " ").lower().split():
        if word not in words:
            raise ValueError(f"{word!r} is not an inspection item (one of "
                             f"{', '.join(words)})")
        failed.add(word)
    return {o.measurement: o.word not in failed for o in HUB_INSPECTION}
