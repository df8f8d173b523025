"""The DeviceProfile contract: what triage needs from a device, however it is reached.

A profile turns a manufacturer's device into :mod:`harness.devices.records`: identity,
diagnostics, the supply switch test, the reset operations and the read-back that proves a
reset. Profiles are found by name through the entry-point group ``meterbench.profile`` (the
reference profile is registered the same way) and chosen per slot in the bench file.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, ClassVar

from harness.devices.records import DeviceIdentity, Diagnostics
from harness.devices.types import DeviceType
from harness.drivers.optical.base import OpticalProbe
from harness.errors import BenchConfigError
from harness.registry import load_backend

PROFILE_KIND = "profile"
"""Entry-point group suffix: ``meterbench.profile``."""


class DeviceProfile(abc.ABC):
    """One manufacturer's (or the reference) way of triaging a device through a probe."""

    name: ClassVar[str] = ""
    device_types: ClassVar[frozenset[DeviceType]] = frozenset()

    def __init__(self, probe: OpticalProbe, *, secrets: Mapping[str, str] | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self.probe = probe
        self._secrets = dict(secrets or {})
        self.options = dict(options or {})

    def secret(self, key: str) -> str:
        """A secret the bench resolved for this slot (e.g. ``optical_password``)."""
        try:
            return self._secrets[key]
        except KeyError:
            raise BenchConfigError(
                f"profile {self.name!r} needs the secret {key!r}; name it in the slot's "
                f"secrets table (env:NAME or file:PATH#KEY)", key_path=f"secrets.{key}"
            ) from None

    @contextmanager
    def session(self) -> Iterator[None]:
        """Hold one device session across several calls (a profile may make this cheaper)."""
        yield

    @abc.abstractmethod
    def identify(self) -> DeviceIdentity:
        """Who the device says it is."""

    @abc.abstractmethod
    def read_diagnostics(self) -> Diagnostics:
        """Everything triage reads before deciding (clock, logs, tamper, HAN, anchors...)."""

    @abc.abstractmethod
    def read_supply(self) -> str:
        """The load switch (ESME) or valve (GSME) state."""

    @abc.abstractmethod
    def set_supply(self, state: str) -> str:
        """Switch the load switch or valve; return the state the device then reports."""

    @abc.abstractmethod
    def reset_certificates(self) -> None:
        """Trust anchors back to the model's original state."""

    @abc.abstractmethod
    def clear_consumer_data(self) -> None:
        """Make every consumer datum unavailable."""

    @abc.abstractmethod
    def reset_han(self) -> None:
        """Leave the HAN and wait to rejoin with the install code."""

    @abc.abstractmethod
    def reset_lifecycle(self) -> None:
        """Clear SMI-relevant state (and the event log, as the reset logs)."""

    @abc.abstractmethod
    def read_consumer_data(self) -> dict[str, str | None]:
        """Every consumer datum by name; None where the device holds nothing."""


def load_profile(name: str) -> type[DeviceProfile]:
    """The profile class registered as ``name``."""
    cls = load_backend(PROFILE_KIND, name)
    if not (isinstance(cls, type) and issubclass(cls, DeviceProfile)):
        raise BenchConfigError(f"profile {name!r} is not a DeviceProfile", key_path="profile")
    return cls
