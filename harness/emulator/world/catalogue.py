"""The emulated device models: per-model settings where the domain gives no rule.

GB-SMART-METERING.md leaves several things manufacturer-specific (which anchors a
factory-fresh device holds, log sizes, timings, WAN/HAN variants): each is a field of
:class:`DeviceModel`, so a new model is data, not code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.domain.types import DeviceType, RemotePartyRole, SmiStatus
from harness.emulator.world.power_model import DEFAULT_PROFILES, PowerProfile
from harness.errors import BenchConfigError
from harness.protocols.gbcs_alerts import GbcsAlert

_R = RemotePartyRole

ALL_ANCHOR_ROLES: tuple[RemotePartyRole, ...] = (
    _R.ROOT, _R.RECOVERY, _R.SUPPLIER, _R.NETWORK_OPERATOR, _R.ACCESS_CONTROL_BROKER,
    _R.WAN_PROVIDER, _R.TRANSITIONAL_COS,
)
"""The trust-anchor slots a device has, one per remote-party role."""


@dataclass(frozen=True)
class DeviceModel:
    """Everything that differs between two models of the same device type."""

    name: str
    device_type: DeviceType
    manufacturer: str
    optical_flag: str  # IEC 62056-21 manufacturer letters (lower-case third: 20 ms answers)
    eui64_prefix: str  # first 6 hex digits of every EUI-64 this model is given
    serial_prefix: str  # label serial numbers start with this
    firmware_version: str
    hardware_version: str = "1.0"
    smets_version: str = "SMETS2"
    gbcs_version: str = "4.0"
    wan_variant: str | None = None  # Communications Hubs only
    han_variant: str | None = None  # Communications Hubs only ("single band" / "dual band")
    nominal_voltage: float = 230.0
    power: PowerProfile = DEFAULT_PROFILES[DeviceType.ESME]
    # Original state: the anchor variant per role a factory-fresh device holds (None: empty).
    original_anchors: dict[RemotePartyRole, int | None] = field(
        default_factory=lambda: dict.fromkeys(ALL_ANCHOR_ROLES, 0)
    )
    original_status: SmiStatus = SmiStatus.PENDING
    install_code_length: int = 16
    tou_registers: int = 0  # time-of-use import registers (0: single rate)
    prepayment: bool = True
    commit_s: float = 2.0  # writes reach non-volatile memory this long after the first one
    log_capacity: int = 100  # entries per log before the oldest is overwritten
    supply_loss_code: int = GbcsAlert.SUPPLY_INTERRUPTED
    restored_after_s: float = 180.0  # an outage this long logs "supply outage restored"
    rtc_drift_ppm: float = 2.0
    clock_tolerance_s: float = 10.0  # adjust_clock beyond this is refused (0x81C6)
    # ESME load switch / GSME valve: the pulse an operation draws, and the state it ships in.
    actuator_a: float = 0.0
    actuator_s: float = 0.0
    original_supply: str = "enabled"
    # GSME battery.
    battery_mah: float = 0.0
    low_battery_fraction: float = 0.1
    valve_mah: float = 0.0  # capacity one valve operation uses
    low_battery_v: float = 0.0  # supply below this logs low battery at power on
    # A battery meter's optical port sleeps: awake this long after the last byte it received
    # (None: mains powered, always awake), woken by a NUL preamble at least this long.
    optical_wake_window_s: float | None = None
    optical_wakeup_min_s: float = 2.0
    # Communications Hub.
    join_timeout_s: float = 3600.0
    device_log_capacity: int = 5
    historic_log_capacity: int = 15  # GB-SMART-METERING.md, CHF whitelist (SR 8.11)
    rssi_dbm: float = -75.0  # typical signal on the bench
    # Optical port: every emulated meter answers DLMS/COSEM over HDLC beside mode C; a DLMS
    # model also announces mode E in its identification (``/EMh5\2...``) and its catalogue
    # entry triages it with the ``dlms`` profile.
    optical_dlms: bool = False
    # Drawn into generated populations and catalogue batches (a model only a bench slot with
    # its profile can triage stays out until the emulated benches have such a slot; the DLMS
    # twins are in: every emulated optical bench's meter slots also run the ``dlms`` profile).
    in_population: bool = True

    @property
    def has_tou(self) -> bool:
        """Whether the model keeps time-of-use registers."""
        return self.tou_registers > 0


def _ch_profile(idle: float) -> PowerProfile:
    base = DEFAULT_PROFILES[DeviceType.CHF]
    return PowerProfile(base.inrush_a, base.inrush_s, base.boot_a, base.boot_s, idle,
                        base.burst_a, base.burst_every_s, base.burst_len_s, base.noise,
                        base.min_voltage_ratio, base.bursts)


_FACTORY_ONLY_ROOTS = {**dict.fromkeys(ALL_ANCHOR_ROLES, None),
                       _R.ROOT: 0, _R.RECOVERY: 0, _R.ACCESS_CONTROL_BROKER: 0,
                       _R.WAN_PROVIDER: 0}

MODELS: dict[str, DeviceModel] = {
    m.name: m
    for m in (
        DeviceModel(
            "EMU-ESME-1", DeviceType.ESME, "Emulated Meters Ltd", "EMh", "00DB12", "18E",
            "1.4.2", actuator_a=0.15, actuator_s=0.08,
        ),
        DeviceModel(
            "EMU-ESME-2", DeviceType.ESME, "Emulated Meters Ltd", "EMh", "00DB13", "19E",
            "2.0.7", hardware_version="2.1", tou_registers=4, actuator_a=0.18, actuator_s=0.1,
            original_anchors=_FACTORY_ONLY_ROOTS, original_supply="armed", log_capacity=250,
        ),
        DeviceModel(  # the DLMS/COSEM twin of EMU-ESME-1 (same behaviour, other labels)
            "EMU-ESME-1D", DeviceType.ESME, "Emulated Meters Ltd", "EMh", "00DB14", "18D",
            "1.4.2", actuator_a=0.15, actuator_s=0.08, optical_dlms=True,
        ),
        DeviceModel(
            "EMU-GSME-1", DeviceType.GSME, "Emulated Meters Ltd", "EMg", "00DB22", "G4E",
            "3.1.0", nominal_voltage=3.6, power=DEFAULT_PROFILES[DeviceType.GSME],
            supply_loss_code=GbcsAlert.GSME_POWER_SUPPLY_LOSS, actuator_a=0.12,
            actuator_s=3.0, original_supply="closed", battery_mah=19000.0, valve_mah=0.5,
            low_battery_v=3.3, rtc_drift_ppm=5.0, commit_s=4.0, optical_wake_window_s=20.0,
        ),
        DeviceModel(  # the DLMS/COSEM twin of EMU-GSME-1: a sleepy port woken, then mode E
            "EMU-GSME-1D", DeviceType.GSME, "Emulated Meters Ltd", "EMg", "00DB24", "G4D",
            "3.1.0", nominal_voltage=3.6, power=DEFAULT_PROFILES[DeviceType.GSME],
            supply_loss_code=GbcsAlert.GSME_POWER_SUPPLY_LOSS, actuator_a=0.12,
            actuator_s=3.0, original_supply="closed", battery_mah=19000.0, valve_mah=0.5,
            low_battery_v=3.3, rtc_drift_ppm=5.0, commit_s=4.0, optical_wake_window_s=20.0,
            optical_dlms=True,
        ),
        DeviceModel(
            "EMU-CH-1", DeviceType.CHF, "Emulated Hubs plc", "EMc", "00DB31", "CH1",
            "6.2.1", wan_variant="cellular (central/south)", han_variant="single band",
            power=DEFAULT_PROFILES[DeviceType.CHF], prepayment=False,
        ),
        DeviceModel(
            "EMU-CH-2", DeviceType.CHF, "Emulated Hubs plc", "EMc", "00DB32", "CH2",
            "7.0.3", wan_variant="long range radio (north)", han_variant="dual band",
            power=_ch_profile(0.02), prepayment=False, device_log_capacity=8,
            original_anchors=_FACTORY_ONLY_ROOTS, join_timeout_s=1800.0,
        ),
    )
}
"""The built-in models, by name."""

DEFAULT_MODEL: dict[DeviceType, str] = {
    DeviceType.ESME: "EMU-ESME-1",
    DeviceType.GSME: "EMU-GSME-1",
    DeviceType.CHF: "EMU-CH-1",
}
"""The model a slot gets when its bench file names none."""


def model_for(device_type: DeviceType, name: str | None = None) -> DeviceModel:
    """The model called ``name`` (the type's default when None); it must be of ``device_type``."""
    if device_type not in DEFAULT_MODEL:
        raise BenchConfigError(
            f"the emulator has no models of device type {device_type.name}",
            expected=", ".join(t.name for t in DEFAULT_MODEL),
        )
    key = name or DEFAULT_MODEL[device_type]
    model = MODELS.get(key)
    if model is None:
        raise BenchConfigError(f"unknown emulated model {key!r}",
                               expected="one of " + ", ".join(MODELS))
    if model.device_type is not device_type:
        raise BenchConfigError(
            f"model {key!r} is a {model.device_type.name}, not a {device_type.name}",
            expected=", ".join(n for n, m in MODELS.items() if m.device_type is device_type),
        )
    return model


def models_of(device_type: DeviceType) -> list[DeviceModel]:
    """The built-in models of one type that populations draw from, in catalogue order."""
    return [m for m in MODELS.values() if m.device_type is device_type and m.in_population]
