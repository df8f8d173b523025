"""The DeviceProfile contract: what triage needs from a device, however it is reached.

A profile turns a manufacturer's device into :mod:`harness.devices.records`: identity,
diagnostics, the supply switch test, the reset operations and the read-back that proves a
reset. Profiles are found by name through the entry-point group ``meterbench.profile`` (the
reference profile is registered the same way) and chosen per slot in the bench file.

A profile reached another way than the local port (e.g. ``duis``, through the DCC) may not
observe everything: it names what it cannot in :attr:`DeviceProfile.unobservable` (or
:meth:`DeviceProfile.cannot_observe`), and raises :class:`NotObservableError` if asked
anyway, so the suites record such a clause as "not assessed" instead of passing it.

The destructive operations (supply switch, resets) are concrete here: each is authorised and
audited by the run's access gate (``harness.triage.gate``, given as :attr:`DeviceProfile.gate`)
around a protected hook the backend implements (``_reset_certificates``...).  A profile with
no gate refuses them (issue 12: the gate fails closed), and the drivers below refuse the
commands too without the gate's permit.
"""

from __future__ import annotations

import abc
import datetime
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from harness.devices.records import DeviceIdentity, Diagnostics
from harness.domain.types import DeviceType
from harness.drivers.optical.base import OpticalProbe
from harness.drivers.permit import refused
from harness.errors import AccessDeniedError, BenchConfigError, OperationError
from harness.registry import load_backend

if TYPE_CHECKING:
    from harness.config.models import SlotConfig
    from harness.drivers.base import Instrument
    from harness.protocols.installcode import InstallCode

PROFILE_KIND = "profile"
"""Entry-point group suffix: ``meterbench.profile``."""


class SlotView(Protocol):
    """What a profile is made from: a bench slot (``harness.bench.bench.Slot`` is one). Named
    here so that profiles sit below the bench that builds them, not beside it in a cycle."""

    @property
    def name(self) -> str:
        """The slot's name in the bench file."""
        ...

    @property
    def config(self) -> SlotConfig:
        """The slot's configuration (device type, instruments, profile options, secrets)."""
        ...

    def instrument(self, role: str) -> Instrument:
        """The instrument serving the slot in ``role`` (``optical``, ``dcc``, ...)."""
        ...

    def secrets(self) -> dict[str, str]:
        """The slot's secrets, resolved now."""
        ...


class AccessGate(Protocol):
    """What a profile asks of the run's access gate (``harness.triage.gate.Gate`` is one).
    Named here so that profiles, and the bench that builds them, sit below triage."""

    @property
    def role_name(self) -> str:
        """The acting role's name (``supplier``...), or what says there is none."""
        ...

    def destructive(self, clause: str, *, device_id: str | None,
                    instruments: frozenset[str] | None, action: str | None = None,
                    detail: Mapping[str, Any] | None = None) -> AbstractContextManager[object]:
        """Authorise and audit the destructive ``clause`` around the block (or refuse it)."""
        ...

    def service_requests(self, *, device_id: str | None, instruments: frozenset[str] | None,
                         why: str) -> AbstractContextManager[object]:
        """Permit destructive Service Requests that are no triage clause (or refuse them)."""
        ...

    def fallback_to_supplier(self, variant: str, *, device_id: str | None,
                             why: str) -> AbstractContextManager[None]:
        """Sign ``variant`` as the Supplier for a role the DCC refused, if the run allows it."""
        ...


SUPPLY_CLAUSE = "TRI-DIAG-05"
"""The triage clause that operates the supply switch or valve (destructive)."""
HAN_DEVICE_CLAUSE = "TRI-HAN-04"
"""The clause under which the bench dongle is added to (and removed from) a hub's device log."""
RESET_CLAUSES = {"reset_certificates": "TRI-RST-01", "clear_consumer_data": "TRI-RST-02",
                 "reset_han": "TRI-RST-03", "reset_lifecycle": "TRI-RST-04"}
"""The triage clause of each reset operation (all destructive)."""


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
    required_secrets: ClassVar[frozenset[str]] = frozenset()
    """The slot secrets this profile cannot triage without (checked before a campaign)."""
    updates_han_device_log: ClassVar[bool] = False
    """Whether this profile can add a device to a hub's CHF device log (its ``_add_han_device``
    and ``_remove_han_device`` hooks); else TRI-HAN-04's hub join is not assessed."""

    def __init__(self, probe: OpticalProbe | None, *,
                 secrets: Mapping[str, str] | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self.probe = probe  # None for a profile that does not use the local port
        self._secrets = dict(secrets or {})
        self.options = dict(options or {})
        self.gate: AccessGate | None = None  # the run's access gate (Slot.profile gives it)
        self.label_device_id: str | None = None  # what the label says, for the audit log

    @classmethod
    def for_slot(cls, slot: SlotView, *, device_id: str | None = None,
                 install_code: InstallCode | str | None = None) -> Self:
        """The profile for the device in ``slot``; ``device_id``/``install_code`` are what
        its label says, when scanned (a typed install code is parsed where it is used).  By
        default it talks through the slot's optical probe."""
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

    def read_clock(self) -> datetime.datetime:
        """The device clock now (TRI-DIAG-01 reads it repeatedly to time its seconds edges).
        A profile that cannot read it on its own raises NotObservableError: not assessed."""
        raise NotObservableError(self.cannot_observe(Capability.CLOCK)
                                 or f"profile {self.name!r} cannot read the device clock alone")

    @abc.abstractmethod
    def read_supply(self) -> str:
        """The load switch (ESME) or valve (GSME) state."""

    # -- destructive operations: gated here, implemented by the backend's hooks ----------------

    def set_supply(self, state: str) -> str:
        """Switch the load switch or valve; return the state the device then reports.

        Destructive (TRI-DIAG-05): checked and audited by the gate (:meth:`gated`)."""
        self._observable(Capability.SUPPLY_SWITCH)
        with self.gated(SUPPLY_CLAUSE, f"set supply {state}"):
            return self._set_supply(state)

    def reset_certificates(self) -> None:
        """Trust anchors back to the model's original state (TRI-RST-01, gated)."""
        self._observable(Capability.RESET)
        with self.gated(RESET_CLAUSES["reset_certificates"], "reset certificates"):
            self._reset_certificates()

    def clear_consumer_data(self) -> None:
        """Make every consumer datum unavailable (TRI-RST-02, gated)."""
        self._observable(Capability.RESET)
        with self.gated(RESET_CLAUSES["clear_consumer_data"], "clear consumer data"):
            self._clear_consumer_data()

    def reset_han(self) -> None:
        """Leave the HAN and wait to rejoin with the install code (TRI-RST-03, gated)."""
        self._observable(Capability.RESET)
        with self.gated(RESET_CLAUSES["reset_han"], "reset HAN"):
            self._reset_han()

    def reset_lifecycle(self) -> None:
        """Clear SMI-relevant state, and the event log as the reset logs (TRI-RST-04, gated)."""
        self._observable(Capability.RESET)
        with self.gated(RESET_CLAUSES["reset_lifecycle"], "reset lifecycle"):
            self._reset_lifecycle()

    def add_han_device(self, eui64: str, install_code: InstallCode) -> None:
        """Add ``eui64`` to a hub's CHF device log with its install code (the effect of SR 8.11,
        GB-SMART-METERING.md "CHF whitelist"): it changes the hub, so it is gated and audited
        under TRI-HAN-04 (destructive: SR 8.11 is no RSA's), whose hub join needs it.  A
        route that cannot: NotObservableError."""
        self._han_device_log()
        with self.gated(HAN_DEVICE_CLAUSE, f"add {eui64} to the CHF device log"):
            self._add_han_device(eui64, install_code)

    def remove_han_device(self, eui64: str) -> None:
        """Take ``eui64`` out of a hub's CHF device log again (gated and audited, TRI-HAN-04)."""
        self._han_device_log()
        with self.gated(HAN_DEVICE_CLAUSE, f"remove {eui64} from the CHF device log"):
            self._remove_han_device(eui64)

    def _han_device_log(self) -> None:
        if not self.updates_han_device_log:
            raise NotObservableError(f"profile {self.name!r} cannot update a hub's device log")

    def _add_han_device(self, eui64: str, install_code: InstallCode) -> None:
        """Backend hook of :meth:`add_han_device` (only with ``updates_han_device_log``)."""
        raise NotObservableError(f"profile {self.name!r} cannot update a hub's device log")

    def _remove_han_device(self, eui64: str) -> None:
        """Backend hook of :meth:`remove_han_device` (only with ``updates_han_device_log``)."""
        raise NotObservableError(f"profile {self.name!r} cannot update a hub's device log")

    def _observable(self, what: Capability) -> None:
        """NotObservableError, before the gate, for what this route can never do."""
        reason = self.cannot_observe(what)
        if reason:
            raise NotObservableError(reason)

    @property
    def audit_device_id(self) -> str | None:
        """The device as the audit log names it (its label's EUI-64, when known)."""
        return self.label_device_id

    def instruments(self) -> frozenset[str]:
        """The instruments this profile sends destructive commands through (its permit's)."""
        return frozenset({self.probe.name}) if self.probe is not None else frozenset()

    @contextmanager
    def gated(self, clause: str, action: str) -> Iterator[None]:
        """The block runs under the gate's permit for ``clause`` (authorised, STARTED committed
        before, DONE or FAILED after); no gate given means refused: it fails closed."""
        if self.gate is None:
            what = f"{clause} {action}"
            refused(self.name, what)
            raise AccessDeniedError(f"profile {self.name!r}: {what} refused: the profile was "
                                    "given no access gate (make it with the run's gate)",
                                    clause=clause, destructive=True)
        with self.gate.destructive(clause, device_id=self.audit_device_id,
                                   instruments=self.instruments(), action=f"{clause} {action}",
                                   detail={"profile": self.name}):
            yield

    @contextmanager
    def service_requests(self, why: str) -> Iterator[None]:
        """The block may send destructive Service Requests that are no triage clause (e.g. to
        install the device in a QA hub to read it), each audited; no gate: refused."""
        if self.gate is None:
            refused(self.name, why)
            raise AccessDeniedError(f"profile {self.name!r}: {why} refused: the profile was "
                                    "given no access gate", destructive=True)
        with self.gate.service_requests(device_id=self.audit_device_id,
                                        instruments=self.instruments(), why=why):
            yield

    @abc.abstractmethod
    def _set_supply(self, state: str) -> str:
        """Backend hook of :meth:`set_supply` (runs under the gate's permit)."""

    @abc.abstractmethod
    def _reset_certificates(self) -> None:
        """Backend hook of :meth:`reset_certificates`."""

    @abc.abstractmethod
    def _clear_consumer_data(self) -> None:
        """Backend hook of :meth:`clear_consumer_data`."""

    @abc.abstractmethod
    def _reset_han(self) -> None:
        """Backend hook of :meth:`reset_han`."""

    @abc.abstractmethod
    def _reset_lifecycle(self) -> None:
        """Backend hook of :meth:`reset_lifecycle`."""

    @abc.abstractmethod
    def read_consumer_data(self) -> dict[str, str | None]:
        """Every consumer datum by name; None where the device holds nothing."""

    def read_metrology(self) -> dict[str, str | None]:
        """A meter's cumulative registers by name (legal metrology, kept by a reset); a route
        that cannot read them raises NotObservableError (TRI-VER-01 then says so)."""
        raise NotObservableError(f"profile {self.name!r} does not read the cumulative "
                                 "registers")


def load_profile(name: str) -> type[DeviceProfile]:
    """The profile class registered as ``name``."""
    cls = load_backend(PROFILE_KIND, name)
    if not (isinstance(cls, type) and issubclass(cls, DeviceProfile)):
        raise BenchConfigError(f"profile {name!r} is not a DeviceProfile", key_path="profile")
    return cls
