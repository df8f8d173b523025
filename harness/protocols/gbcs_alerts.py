"""GBCS alert and event codes a triage reads: code → name and triage category.

Pure: no I/O.  The table is GB-SMART-METERING.md, "GBCS alert and event codes a triage
reads" (names per DCC gbcs-parser); nothing outside it is invented here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

from harness.errors import ProtocolError

__all__ = ["ALERTS", "AlertCategory", "AlertInfo", "GbcsAlert", "alert_info"]


class AlertCategory(StrEnum):
    """What a triage uses an alert for (the table's "triage use" column)."""

    HAN = "HAN"
    HAN_CH = "HAN (CH)"
    CH_METER_LINK = "CH–meter link"
    TAMPER = "tamper"
    SECURITY = "security"
    ACCESS = "access"
    FIRMWARE = "firmware"
    HARDWARE = "hardware"
    METROLOGY = "metrology"
    LOCAL_PORT = "expected during triage"
    POWER = "power"
    GAS_POWER = "gas power"
    LIFECYCLE = "lifecycle"
    CERTIFICATES = "certificates"
    RESET = "reset"
    CLOCK = "clock"


class GbcsAlert(IntEnum):
    """The alert/event codes of the domain table, by name."""

    DEVICE_JOINING_FAILED = 0x8F48
    DEVICE_JOINING_SUCCEEDED = 0x8F49
    DEVICE_UNJOINING_FAILED = 0x8F4A
    DEVICE_UNJOINING_SUCCEEDED = 0x8F4B
    DEVICE_JOINED_SMHAN = 0x8183
    CHF_DEVICE_LOG_CHANGED = 0x8F12
    CH_CONNECTED_TO_ESME = 0x81A2
    CH_DISCONNECTED_FROM_ESME = 0x81A3
    UNAUTHORISED_PHYSICAL_ACCESS_TAMPER = 0x8F3F
    UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER = 0x8F74
    UNAUTHORISED_PHYSICAL_ACCESS_MAGNETIC_FIELD = 0x8F75
    UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER = 0x8F76
    UNAUTHORISED_PHYSICAL_ACCESS_OTHER = 0x8F78
    TRUSTED_SOURCE_AUTHENTICATION_FAILURE = 0x8F3D
    UNAUTHORISED_COMMUNICATION_ACCESS = 0x8F3E
    SOURCE_NOT_AUTHORISED = 0x8F30
    FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON = 0x8F1B
    FIRMWARE_VERIFICATION_FAILED = 0x8F1C
    FIRMWARE_VERIFICATION_SUCCESSFUL = 0x8F72
    EXECUTING_FIRMWARE_VERSION_CHANGED = 0x8F43
    METROLOGY_FIRMWARE_VERIFICATION_FAILURE = 0x81AD
    ERROR_NON_VOLATILE_MEMORY = 0x81AE
    ERROR_PROGRAM_EXECUTION = 0x81AF
    ERROR_PROGRAM_STORAGE = 0x81B0
    ERROR_RAM = 0x81B1
    UNEXPECTED_HARDWARE_RESET = 0x81B2
    WATCHDOG_RESET = 0x81B3
    MEASUREMENT_FAULT = 0x81AC
    COMMUNICATION_FROM_LOCAL_PORT = 0x81A5
    SUPPLY_INTERRUPTED = 0x8F57
    SUPPLY_OUTAGE_RESTORED = 0x8F35
    SUPPLY_OUTAGE_RESTORED_ALT = 0x8F36
    GSME_POWER_SUPPLY_LOSS = 0x8F1D
    GSME_LOW_BATTERY = 0x8F1F
    DEVICE_COMMISSIONED = 0x8F69
    UPDATE_SECURITY_CREDENTIALS = 0x8F70
    OWN_DS_CERTIFICATE_REPLACEMENT_FAILED = 0x8F4C
    OWN_DS_CERTIFICATE_REPLACEMENT_SUCCEEDED = 0x8F4D
    EVENT_LOG_CLEARED = 0x8F52
    CLOCK_ADJUSTED_WITHIN_TOLERANCE = 0x8145
    CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE = 0x81C6

    @property
    def info(self) -> AlertInfo:
        """The table row for this code."""
        return ALERTS[int(self)]

    @property
    def description(self) -> str:
        """The alert's meaning as the domain table words it."""
        return ALERTS[int(self)].name

    @property
    def category(self) -> AlertCategory:
        """What a triage uses the alert for."""
        return ALERTS[int(self)].category


@dataclass(frozen=True)
class AlertInfo:
    """One row of the table: the code, its meaning and its triage use."""

    code: int
    name: str
    category: AlertCategory

    @property
    def hex(self) -> str:
        """The code as GBCS writes it: ``0x8F57``."""
        return f"0x{self.code:04X}"


_A, _C = GbcsAlert, AlertCategory
_ROWS: tuple[tuple[GbcsAlert, str, AlertCategory], ...] = (
    (_A.DEVICE_JOINING_FAILED, "device joining failed", _C.HAN),
    (_A.DEVICE_JOINING_SUCCEEDED, "device joining succeeded", _C.HAN),
    (_A.DEVICE_UNJOINING_FAILED, "device unjoining failed", _C.HAN),
    (_A.DEVICE_UNJOINING_SUCCEEDED, "device unjoining succeeded", _C.HAN),
    (_A.DEVICE_JOINED_SMHAN, "device joined SMHAN", _C.HAN),
    (_A.CHF_DEVICE_LOG_CHANGED, "CHF device log changed", _C.HAN_CH),
    (_A.CH_CONNECTED_TO_ESME, "CH connected to ESME", _C.CH_METER_LINK),
    (_A.CH_DISCONNECTED_FROM_ESME, "CH disconnected from ESME", _C.CH_METER_LINK),
    (_A.UNAUTHORISED_PHYSICAL_ACCESS_TAMPER, "unauthorised physical access: tamper", _C.TAMPER),
    (_A.UNAUTHORISED_PHYSICAL_ACCESS_METER_COVER,
     "unauthorised physical access: meter cover", _C.TAMPER),
    (_A.UNAUTHORISED_PHYSICAL_ACCESS_MAGNETIC_FIELD,
     "unauthorised physical access: strong magnetic field", _C.TAMPER),
    (_A.UNAUTHORISED_PHYSICAL_ACCESS_TERMINAL_COVER,
     "unauthorised physical access: terminal cover", _C.TAMPER),
    (_A.UNAUTHORISED_PHYSICAL_ACCESS_OTHER, "unauthorised physical access: other", _C.TAMPER),
    (_A.TRUSTED_SOURCE_AUTHENTICATION_FAILURE,
     "trusted source authentication failure", _C.SECURITY),
    (_A.UNAUTHORISED_COMMUNICATION_ACCESS,
     "unauthorised communication access attempted", _C.SECURITY),
    (_A.SOURCE_NOT_AUTHORISED, "source does not have authority for command", _C.ACCESS),
    (_A.FIRMWARE_VERIFICATION_FAILED_AT_POWER_ON,
     "firmware verification failed at power on", _C.FIRMWARE),
    (_A.FIRMWARE_VERIFICATION_FAILED, "firmware verification failed", _C.FIRMWARE),
    (_A.FIRMWARE_VERIFICATION_SUCCESSFUL, "firmware verification successful", _C.FIRMWARE),
    (_A.EXECUTING_FIRMWARE_VERSION_CHANGED,
     "change in the executing firmware version", _C.FIRMWARE),
    (_A.METROLOGY_FIRMWARE_VERIFICATION_FAILURE,
     "metrology firmware verification failure", _C.FIRMWARE),
    (_A.ERROR_NON_VOLATILE_MEMORY, "error: non-volatile memory", _C.HARDWARE),
    (_A.ERROR_PROGRAM_EXECUTION, "error: program execution", _C.HARDWARE),
    (_A.ERROR_PROGRAM_STORAGE, "error: program storage", _C.HARDWARE),
    (_A.ERROR_RAM, "error: RAM", _C.HARDWARE),
    (_A.UNEXPECTED_HARDWARE_RESET, "unexpected hardware reset", _C.HARDWARE),
    (_A.WATCHDOG_RESET, "watchdog", _C.HARDWARE),
    (_A.MEASUREMENT_FAULT, "measurement fault", _C.METROLOGY),
    (_A.COMMUNICATION_FROM_LOCAL_PORT,
     "communication from local port (e.g. optical)", _C.LOCAL_PORT),
    (_A.SUPPLY_INTERRUPTED, "supply interrupted", _C.POWER),
    (_A.SUPPLY_OUTAGE_RESTORED, "supply outage restored (≥ 3 minutes)", _C.POWER),
    (_A.SUPPLY_OUTAGE_RESTORED_ALT, "supply outage restored (≥ 3 minutes)", _C.POWER),
    (_A.GSME_POWER_SUPPLY_LOSS, "GSME power supply loss", _C.GAS_POWER),
    (_A.GSME_LOW_BATTERY, "low battery capacity", _C.GAS_POWER),
    (_A.DEVICE_COMMISSIONED, "device commissioned", _C.LIFECYCLE),
    (_A.UPDATE_SECURITY_CREDENTIALS, "update security credentials", _C.CERTIFICATES),
    (_A.OWN_DS_CERTIFICATE_REPLACEMENT_FAILED,
     "device's own digital signing certificate replacement failed", _C.CERTIFICATES),
    (_A.OWN_DS_CERTIFICATE_REPLACEMENT_SUCCEEDED,
     "device's own digital signing certificate replacement succeeded", _C.CERTIFICATES),
    (_A.EVENT_LOG_CLEARED, "event log cleared", _C.RESET),
    (_A.CLOCK_ADJUSTED_WITHIN_TOLERANCE, "clock adjusted within tolerance", _C.CLOCK),
    (_A.CLOCK_NOT_ADJUSTED_OUTSIDE_TOLERANCE,
     "clock not adjusted (outside tolerance)", _C.CLOCK),
)

ALERTS: dict[int, AlertInfo] = {int(code): AlertInfo(int(code), name, cat)
                                for code, name, cat in _ROWS}
"""Every code of the table, by its integer value."""


def alert_info(code: int) -> AlertInfo:
    """The table row for ``code``; a code outside the table is a ``ProtocolError`` (a
    ``ValueError``) naming it."""
    try:
        return ALERTS[int(code)]
    except KeyError:
        raise ProtocolError(f"0x{int(code):04X} is not a GBCS alert code meterbench knows",
                            code=int(code)) from None
