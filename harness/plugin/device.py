"""The device under test as the triage suites see it: its slot, label, record and profile.

In slot mode each bench slot holds one device; with ``--batch`` every manifest row is a
device, presented in turn in the slot for its type (by the emulated bench itself, or by the
operator on a physical bench). Labels come from the manifest, or, on the emulated bench, are
"scanned" off the emulated device, as an operator would scan the printed label.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.bench.bench import Slot
from harness.config.catalogue import normalise_model
from harness.devices.profile import DeviceProfile
from harness.drivers.power.base import PowerChannel
from harness.protocols.installcode import InstallCode
from harness.triage.gate import Gate
from harness.triage.intake import BatchRow
from harness.triage.manifest import Manifests, ModelManifest
from harness.triage.record import TriageRecord


@dataclass
class Label:
    """What the facility reads off the device's printed label."""

    serial: str | None
    device_id: str | None
    # As scanned: an operator's typed code stays text until a profile parses it (an unusable
    # one then makes only the clauses that need it not assessed).
    install_code: InstallCode | str | None = field(default=None, repr=False)


@dataclass
class Dut:
    """One device under test: where it sits, what its label says, what triage learned."""

    key: str
    slot: Slot
    record: TriageRecord
    row: BatchRow | None = None
    label: Label = field(default_factory=lambda: Label(None, None))
    manifest: ModelManifest | None = None
    manifests: Manifests = field(default_factory=Manifests)
    gate: Gate | None = field(default=None, repr=False)  # the run's access gate
    _profile: DeviceProfile | None = field(default=None, repr=False)

    # -- what the foundation suites use of a slot --------------------------------------------

    @property
    def name(self) -> str:
        """The slot's name."""
        return self.slot.name

    @property
    def device_type(self) -> str:
        """GBCS device type name."""
        return self.slot.device_type

    @property
    def config(self):
        """The slot's bench-file configuration."""
        return self.slot.config

    @property
    def power(self) -> PowerChannel:
        """The supply channel feeding the device."""
        return self.slot.power

    # -- triage helpers -------------------------------------------------------------------------

    def catalogue_entry(self, reported_model: str) -> ModelManifest | None:
        """The catalogue entry triage holds the device to: the manifest row's model when that
        entry is the model the device reports (its name, an alias or ``reports_as``), else
        the entry of the reported model; None when the catalogue knows neither."""
        if self.row is not None:
            found = self.manifests.lookup(self.row.model)
            if found is not None and any(normalise_model(n) == normalise_model(reported_model)
                                         for n in found[1].names(found[0])):
                return found[1]
        return self.manifests.for_model(reported_model)

    def profile(self) -> DeviceProfile:
        """The device's profile (one per device, kept for the whole triage): the one its
        manifest model's catalogue entry names, else the slot's own; a profile that addresses
        the device by its label (e.g. through the DCC) gets what it says."""
        if self._profile is None:
            entry = self.manifests.for_model(self.row.model) if self.row is not None else None
            named = entry.profile if entry is not None else None
            self._profile = self.slot.profile(device_id=self.label.device_id,
                                              install_code=self.label.install_code,
                                              gate=self.gate, name=named)
        return self._profile

    def power_up(self) -> None:
        """Nominal voltage and current limit, output on, then wait the slot's boot time."""
        supply = self.power
        if not supply.is_on:
            supply.set_voltage(self.config.supply_voltage)
            supply.set_current_limit(self.config.current_limit)
            supply.on()
            self.wait(self.config.boot_s)

    def wait(self, seconds: float) -> None:
        """Wait ``seconds`` of device time (divided by the bench's time scale in fast mode)."""
        self.slot.bench.wait(seconds)
