"""The DeviceProfile contract: what triage needs from a device, however it is reached.

A profile turns a manufacturer's device into :mod:`harness.devices.records`: identity,
diagnostics, the supply switch test, the reset operations and the read-back that proves a
reset. Profiles are found by name through the entry-point group ``meterbench.profile`` (the
reference profile is registered the same way) and chosen per slot in the bench file.

A profile reached another way than the local port (e.g. ``duis``, through the DCC) may not
observe everything: it names what it cannot in :attr:`DeviceProfile.unobservable` (or
:meth:`DeviceProfile.cannot_observe`), and raises :class:`NotObservableError` if asked
anyway, so the suites record such a clause as "not assessed" instead of passing it.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Self

from harness.devices.records import DeviceIdentity, Diagnostics
from harness.devices.types import DeviceType
from harness.drivers.optical.base import OpticalProbe
from harness.errors import BenchConfigError, OperationError
from harness.registry import load_backend

if TYPE_CHECKING:
    from harness.bench.bench import Slot
    from harness.protocols.installcode import InstallCode

PROFILE_KIND = "profile"
"""Entry-point group suffix: ``meterbench.profile``."""


class Capability(StrEnum):
    """What a triage clause needs to observe or do that some routes cannot (see module doc)."""

    LOCAL_PORT = "local_port"  # the device's own optical/maintenance port (TRI-OPT-01)
    SERIAL = "serial"  # the serial number, to compare with the label (TRI-ID-01)
    CLOCK = "clock"  # the device clock (TRI-DIAG-01)
    TAMPER_FLAGS = "tamper_flags"  # the tamper sensors' state (TRI-DIAG-04)
    SUPPLY_SWITCH = "supply_switch"  # operating the load switch or valve (TRI-DIAG-05)
    BATTERY = "battery"  # a gas meter's battery (TRI-DIAG-06)
    RESET = "reset"  # the reset operations (TRI-RST-01..04)
    CONSUMER_DATA = "consumer_data"  # reading consumer data back (TRI-VER-01)
    ANCHORS = "anchors"  # reading the trust anchors back (TRI-VER-02)


class NotObservableError(OperationError):
    """The profile cannot observe or do this over its route: "not assessed", not a fault."""


class DeviceProfile(abc.ABC):
    """One manufacturer's (or the reference) way of triaging a device through a probe."""

    name: ClassVar[str] = ""
    device_types: ClassVar[frozenset[DeviceType]] = frozenset()
    unobservable: ClassVar[Mapping[Capability, str]] = {}
    """What this profile can never observe or do, with why (empty: everything)."""

    def __init__(self, probe: OpticalProbe | None, *,
                 secrets: Mapping[str, str] | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self.probe = probe  # None for a profile that does not use the local port
        self._secrets = dict(secrets or {})
        self.options = dict(options or {})

    @classmethod
    def for_slot(cls, slot: Slot, *, device_id: str | None = None,
                 install_code: InstallCode | None = None) -> Self:
        """The profile for the device in ``slot``; ``device_id``/``install_code`` are what
        its label says, when scanned.  By default it talks through the slot's optical probe."""
        probe = slot.instrument("optical")
        if not isinstance(probe, OpticalProbe):
            raise BenchConfigError(f"slot {slot.name!r}: 'optical' is not an optical probe",
                                   key_path=f"slots.{slot.name}.instruments.optical")
        return cls(probe, secrets=slot.secrets(), options=slot.config.profile_options)

    def cannot_observe(self, what: Capability | str) -> str | None:
        """Why this profile cannot observe or do ``what``, or None when it can."""
        return self.unobservable.get(Capability(what))

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
