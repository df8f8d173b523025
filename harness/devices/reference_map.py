"""The reference register map: what the reference profile reads and writes over a local port.

Meters serve it over their optical port; a Communications Hub, which has none, over its
maintenance port (manufacturer-specific in the field; IEC 62056-21 mode C on our emulated hub).

A documented map of our own (no SMETS2 optical register map is published): addresses are
OBIS-like, values are plain text inside IEC 62056-21 data sets. The emulated meters serve
exactly this map, and a manufacturer whose meter speaks mode C programming mode can adopt
it or ship a profile plugin with its own. ``meterbench`` prints it with ``reference_map_md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.domain.types import RemotePartyRole


@dataclass(frozen=True)
class Register:
    """One register: its address, access (R read, W write, E execute) and value format."""

    name: str
    address: str
    access: str
    fmt: str
    description: str


NO_DATA = "ER-NODATA"
"""Error text for a register that holds nothing (e.g. consumer data after a reset)."""

IDENTITY = (
    Register("device_id", "0.0.0", "R", "16 hex digits", "EUI-64 the device reports"),
    Register("serial", "0.0.1", "R", "text", "manufacturer serial number"),
    Register("device_type", "96.1.0", "R", "GBCS name", "ESME, GSME, ..."),
    Register("manufacturer", "96.1.1", "R", "text", "manufacturer name"),
    Register("model", "96.1.2", "R", "text", "model name"),
    Register("firmware_version", "0.2.0", "R", "text", "executing firmware version"),
    Register("smets_version", "96.1.3", "R", "text", "SMETS version"),
    Register("gbcs_version", "96.1.4", "R", "text", "GBCS version"),
)
CLOCK = Register("clock", "0.9.0", "RW", "YYYY-MM-DDTHH:MM:SSZ", "device real-time clock (UTC)")
EVENT_LOG_COUNT = Register("event_log_count", "99.98.0", "R", "integer",
                           "entries in the event log; entry n (1 = oldest) at 99.98.n")
SECURITY_LOG_COUNT = Register("security_log_count", "99.97.0", "R", "integer",
                              "entries in the security log; entry n at 99.97.n")
POWER_LOG_COUNT = Register("power_log_count", "99.96.0", "R", "integer",
                           "entries in the power event log (supply loss and restore, as DUIS "
                           "6.13 PowerEvent reads it); entry n at 99.96.n")
LOG_ENTRY_FMT = "CODE;YYYY-MM-DDTHH:MM:SSZ (GBCS alert code as 4 hex digits)"
TAMPER = Register("tamper", "96.50.0", "R", "comma-separated flag names",
                  "active tamper flags, empty when none")
SUPPLY = Register("supply", "96.3.10", "RW", "enabled|disabled|armed (ESME), "
                  "open|closed|armed (GSME)", "load switch or valve state; write to switch")
BATTERY = Register("battery_v", "96.6.3", "R", "volts", "GSME battery voltage")
BATTERY_REMAINING = Register("battery_remaining", "96.6.4", "R", "percent",
                             "GSME battery capacity remaining, of nominal")
HAN = (
    Register("han_joined", "96.60.0", "R", "0|1", "joined to a HAN"),
    Register("han_channel", "96.60.1", "R", "11..26 or empty", "HAN channel"),
    Register("han_pan_id", "96.60.2", "R", "4 hex digits or empty", "HAN PAN ID"),
    Register("han_awaiting_install_code", "96.60.3", "R", "0|1",
             "not joined and set to join with its install-code key"),
)
WAN = (
    Register("wan_modem", "96.70.0", "R", "off|registered|fault|no SIM", "CH modem state"),
    Register("wan_sim", "96.70.1", "R", "0|1", "CH SIM present"),
    Register("wan_rssi", "96.70.3", "R", "dBm, decimal, or empty", "CH WAN signal strength"),
    Register("wan_connected", "96.70.4", "R", "0|1", "CH connected to the SM WAN"),
)
"""A Communications Hub's WAN side, read over its maintenance port."""
ANCHOR_BASE = "96.80"
"""Trust anchor for role r (GBCS RemotePartyRole number) at 96.80.r: ``subject;SPKI SHA-256``."""
ANCHOR_ROLES = (
    RemotePartyRole.ROOT, RemotePartyRole.RECOVERY, RemotePartyRole.SUPPLIER,
    RemotePartyRole.NETWORK_OPERATOR, RemotePartyRole.ACCESS_CONTROL_BROKER,
    RemotePartyRole.TRANSITIONAL_COS, RemotePartyRole.WAN_PROVIDER,
)
METROLOGY = (
    Register("import_register", "1.8.0", "R", "kWh or m3, decimal", "total import register"),
    Register("tou_registers", "1.8.9", "R", "semicolon-separated decimals",
             "time-of-use registers (empty list for single-rate models)"),
)
"""A meter's cumulative registers: legal metrology (MID 2014/32/EU Annex V MI-003), never
erased by a reset; the verification reads them back unchanged (TRI-VER-01)."""
CONSUMER_DATA = (
    Register("profile_count", "99.1.0", "R", "integer", "half-hourly profile entries held"),
    Register("daily_reads", "99.2.0", "R", "integer", "daily reads held"),
    Register("billing_reads", "99.3.0", "R", "integer", "billing reads held"),
    Register("prepayment_balance", "96.90.0", "R", "GBP, decimal", "prepayment credit"),
    Register("debts", "96.91.0", "R", "GBP, decimal", "total of the debt registers"),
    Register("customer_messages", "96.92.0", "R", "integer", "customer messages held"),
    Register("mpxn", "96.93.0", "R", "MPAN/MPRN", "the supply point the device serves"),
)
"""Every consumer datum (the registers are not: see METROLOGY); after a reset each read must
answer ER-NODATA."""
RESET_CERTIFICATES = Register("reset_certificates", "RST.CERT", "E", "",
                              "trust anchors back to the model's original state")
RESET_CONSUMER_DATA = Register("reset_consumer_data", "RST.DATA", "E", "",
                               "make every consumer datum unavailable")
RESET_HAN = Register("reset_han", "RST.HAN", "E", "",
                     "leave the HAN and wait to rejoin with the install code")
RESET_LIFECYCLE = Register("reset_lifecycle", "RST.SMI", "E", "",
                           "clear SMI-relevant state and the event log (logs 0x8F52)")
HAN_DEVICE_ADD = Register("han_device_add", "HAN.ADD", "E", "EUI-64,install code (hex, CRC)",
                          "CHF: add a device to the device log with its install code (SR 8.11)")
HAN_DEVICE_REMOVE = Register("han_device_remove", "HAN.DEL", "E", "EUI-64",
                             "CHF: remove a device from the device log (SR 8.11)")


def anchor_address(role: RemotePartyRole) -> str:
    """Where the anchor for ``role`` is read."""
    return f"{ANCHOR_BASE}.{role.value}"


def log_entry_address(count_register: Register, n: int) -> str:
    """Where entry ``n`` (1 = oldest) of a log is read."""
    return count_register.address.rsplit(".", 1)[0] + f".{n}"


def all_registers() -> tuple[Register, ...]:
    """Every register of the map, in the order the document lists them."""
    anchors = tuple(
        Register(f"anchor_{role.name.lower()}", anchor_address(role), "R", "subject;SPKI hex",
                 f"{role.name.replace('_', ' ').title()} trust anchor")
        for role in ANCHOR_ROLES
    )
    return (*IDENTITY, CLOCK, EVENT_LOG_COUNT, SECURITY_LOG_COUNT, POWER_LOG_COUNT, TAMPER,
            SUPPLY, BATTERY, BATTERY_REMAINING,
            *HAN, *WAN, *anchors, *METROLOGY, *CONSUMER_DATA, RESET_CERTIFICATES,
            RESET_CONSUMER_DATA, RESET_HAN, RESET_LIFECYCLE, HAN_DEVICE_ADD, HAN_DEVICE_REMOVE)


def reference_map_md() -> str:
    """The map as a Markdown table, for manufacturers."""
    rows = ["| address | name | access | format | meaning |", "|---|---|---|---|---|"]
    rows += [f"| `{r.address}` | {r.name} | {r.access} | {r.fmt} | {r.description} |"
             for r in all_registers()]
    rows.append(f"\nLog entries: {LOG_ENTRY_FMT}. A register that holds nothing answers "
                f"the error `({NO_DATA})`.")
    return "\n".join(rows)
