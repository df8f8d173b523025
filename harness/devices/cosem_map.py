"""The COSEM object map the ``dlms`` profile reads and the emulated meters serve (one place
for both sides, as :mod:`.reference_map` is for mode C).

Standard objects where COSEM has them (Blue Book OBIS codes): the trust anchors are
certificates in the Security setup object (class 64, 0.0.43.0.0.255: attribute 6
``certificates``, method 7 export_certificate). What COSEM has no object for (tamper flags,
HAN, consumer data counts, battery, time-of-use registers) is held by MANUFACTURER-SPECIFIC
Data objects (class 1, 0.0.96.D.E.255 with D in 50..99) carrying the reference map's text.
The resets: the Global Meter Reset script table (documented) clears the consumer data, the
event log's ``reset`` (class 7 method 1, documented) clears it; the certificate, HAN and
lifecycle resets and the supply moves class 70 has no method for run from a
MANUFACTURER-SPECIFIC script table (value group E 128): class 64 can remove a certificate,
not put a model's original anchors back.
"""

from __future__ import annotations

from harness.domain.types import DeviceType
from harness.protocols.dlms import Obis

PUBLIC_CLIENT = 0x10
MANAGEMENT_CLIENT = 0x01
CLOCK = Obis.parse("0.0.1.0.0.255")
SERIAL = Obis.parse("0.0.96.1.0.255")
FIRMWARE = Obis.parse("1.0.0.2.0.255")
IDENTITY = {
    "device_id": Obis.parse("0.0.96.1.1.255"), "manufacturer": Obis.parse("0.0.96.1.2.255"),
    "model": Obis.parse("0.0.96.1.3.255"), "device_type": Obis.parse("0.0.96.1.4.255"),
    "smets_version": Obis.parse("0.0.96.1.5.255"), "gbcs_version": Obis.parse("0.0.96.1.6.255"),
}
"""Device ID 2..7 (class 1, visible strings): the identity beside the serial number."""
IDENTITY_FIELDS = {"device_id": "eui64", "manufacturer": "manufacturer", "model": "model",
                   "device_type": "device_type", "smets_version": "smets_version",
                   "gbcs_version": "gbcs_version"}
"""Each identity object's field of the emulated device's identity."""
IMPORT_REGISTER = {DeviceType.ESME: Obis.parse("1.0.1.8.0.255"),
                   DeviceType.GSME: Obis.parse("7.0.3.0.0.255")}
"""Total import register (class 3): ESME in Wh (unit 30), GSME in dm3 (m3, unit 13, -3)."""
UNIT_WH, UNIT_M3 = 30, 13
LOGS = {"event": Obis.parse("0.0.99.98.0.255"), "security": Obis.parse("0.0.99.98.1.255"),
        "power": Obis.parse("0.0.99.97.0.255")}
"""Profile generic (class 7) of each device log: rows (clock time, event code)."""
EVENT_CODE = Obis.parse("0.0.96.11.0.255")
DISCONNECT_CONTROL = Obis.parse("0.0.96.3.10.255")
"""Class 70: control_state 0 disconnected, 1 connected, 2 ready for reconnection."""
SUPPLY_TEXT = {DeviceType.ESME: {0: "disabled", 1: "enabled", 2: "armed"},
               DeviceType.GSME: {0: "closed", 1: "open", 2: "armed"}}
GLOBAL_RESET = Obis.parse("0.0.10.0.0.255")
CONSUMER_DATA_SCRIPT = 1
"""Global Meter Reset script id that clears the consumer data (the registers stay)."""
MANUFACTURER_SCRIPTS = Obis.parse("0.0.10.0.128.255")
SCRIPTS = {"certificates": 1, "han": 2, "lifecycle": 3, "button": 4, "arm": 5}
"""Manufacturer-specific script ids: the resets, the consumer's button, arming an ESME."""
MIRRORED = {
    "96.50.0": "0.0.96.50.0.255", "96.60.0": "0.0.96.60.0.255", "96.60.1": "0.0.96.60.1.255",
    "96.60.2": "0.0.96.60.2.255", "96.60.3": "0.0.96.60.3.255",
    "96.90.0": "0.0.96.90.0.255", "96.91.0": "0.0.96.91.0.255", "96.92.0": "0.0.96.92.0.255",
    "96.93.0": "0.0.96.93.0.255", "99.1.0": "0.0.96.95.1.255", "99.2.0": "0.0.96.95.2.255",
    "99.3.0": "0.0.96.95.3.255", "1.8.9": "0.0.96.94.9.255", "96.6.3": "0.0.96.96.3.255",
    "96.6.4": "0.0.96.96.4.255",
}
"""Reference map address -> the manufacturer-specific Data object holding its text (only what
COSEM has no object for: the anchors are in :data:`SECURITY_SETUP`)."""
SECURITY_SETUP = Obis.parse("0.0.43.0.0.255")
"""Security setup (class 64 version 1) of the management association: the certificates."""
OBJECT_UNAVAILABLE = 11
"""The Data-Access-Result of an object that holds nothing (mode C's ER-NODATA)."""
