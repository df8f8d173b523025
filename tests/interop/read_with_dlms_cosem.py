"""Read an emulated meter with an independent DLMS client: dlms-cosem 21.3.2 (MIT), alone.

Run as a separate process, it imports nothing of meterbench: only dlms-cosem and pyserial.
``python read_with_dlms_cosem.py socket://127.0.0.1:PORT`` associates as the public client
(0x10) with server 1, no authentication, over HDLC straight away, and prints one JSON object
with the clock (attribute 2 of 0.0.1.0.0.255), the serial number (0.0.96.1.0.255) and the
total active energy import register (1.0.1.8.0.255, value and scaler_unit).
"""

from __future__ import annotations

import json
import sys

import serial
from dlms_cosem import cosem, enumerations
from dlms_cosem.clients.dlms_client import DlmsClient
from dlms_cosem.clients.hdlc_transport import SerialHdlcTransport
from dlms_cosem.utils import parse_as_dlms_data


def main(url: str) -> None:
    """Read the three objects and print them as JSON on stdout."""
    port = serial.serial_for_url(url, baudrate=9600, timeout=5)
    transport = SerialHdlcTransport(client_logical_address=0x10, server_logical_address=1,
                                    serial_port=url, serial=port, timeout=5)
    client = DlmsClient(client_logical_address=0x10, server_logical_address=1,
                        io_interface=transport, timeout=5)

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
    port.close()
    print(json.dumps({
        "clock": bytes(clock).hex(),
        "serial": bytes(serial_number).decode("ascii"),
        "energy": energy,
        "scaler_unit": list(scaler_unit),
    }))


if __name__ == "__main__":
    main(sys.argv[1])
