"""Read an emulated meter with an independent DLMS client: dlms-cosem 21.3.2 (MIT), alone.

Run as a separate process, it imports nothing of meterbench: only dlms-cosem and pyserial.
``python read_with_dlms_cosem.py socket://127.0.0.1:PORT`` associates as the public client
(0x10) with server 1, no authentication, over HDLC straight away, and prints one JSON object
with the clock (attribute 2 of 0.0.1.0.0.255), the serial number (0.0.96.1.0.255) and the
total active energy import register (1.0.1.8.0.255, value and scaler_unit).
``python read_with_dlms_cosem.py socket://... EK_HEX AK_HEX`` associates instead as the
management client (0x01) with HLS-GMAC (mechanism 5, security suite 0: dlms-cosem ciphers the
association and every APDU with the keys and answers the meter's challenge through
reply_to_HLS_authentication, checking the meter's answer to its own), and reads besides the
event log's entries in use (0.0.99.98.0.255 attribute 7, not public) and the meter's system
title from its Security setup object (0.0.43.0.0.255 attribute 5).
"""

from __future__ import annotations

import json
import sys

import serial
from dlms_cosem import cosem, enumerations
from dlms_cosem.clients.dlms_client import DlmsClient
from dlms_cosem.clients.hdlc_transport import SerialHdlcTransport
from dlms_cosem.utils import parse_as_dlms_data


def main(url: str, keys: list[str]) -> None:
    """Read the objects and print them as JSON on stdout (with HLS when given the keys)."""
    hls = len(keys) == 2
    client_address = 0x01 if hls else 0x10
    port = serial.serial_for_url(url, baudrate=9600, timeout=5)
    transport = SerialHdlcTransport(client_logical_address=client_address,
                                    server_logical_address=1, serial_port=url, serial=port,
                                    timeout=5)
    security: dict[str, object] = {}
    if hls:
        security = {"authentication_method": enumerations.AuthenticationMechanism.HLS_GMAC,
                    "encryption_key": bytes.fromhex(keys[0]),
                    "authentication_key": bytes.fromhex(keys[1]),
                    "client_system_title": b"DLMSCOSM"}
    client = DlmsClient(client_logical_address=client_address, server_logical_address=1,
                        io_interface=transport, timeout=5, **security)

    def get(interface: enumerations.CosemInterface, obis: str, attribute: int) -> object:
        raw = client.get(cosem.CosemAttribute(interface=interface,
                                              instance=cosem.Obis.from_string(obis),
                                              attribute=attribute))
        return parse_as_dlms_data(raw)

    with client.session():
        clock = get(enumerations.CosemInterface.CLOCK, "0.0.1.0.0.255", 2)
        serial_number = get(enumerations.CosemInterface.DATA, "0.0.96.1.0.255", 2)
        energy = get(enumerations.CosemInterface.REGISTER, "1.0.1.8.0.255", 2)
        scaler_unit = get(enumerations.CosemInterface.REGISTER, "1.0.1.8.0.255", 3)
        extra = {}
        if hls:
            extra = {"event_log_entries": get(enumerations.CosemInterface.PROFILE_GENERIC,
                                              "0.0.99.98.0.255", 7),
                     "meter_system_title": bytes(get(
                         enumerations.CosemInterface.SECURITY_SETUP, "0.0.43.0.0.255", 5)
                     ).hex().upper()}
    port.close()
    print(json.dumps({
        "clock": bytes(clock).hex(),
        "serial": bytes(serial_number).decode("ascii"),
        "energy": energy,
        "scaler_unit": list(scaler_unit),
        **extra,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
