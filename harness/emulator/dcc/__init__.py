"""The emulated DCC environment: DUIS Service Requests over HTTP(S) on loopback.

A Smart Metering Inventory (``inventory``, statuses and transitions in ``transitions``), the
registered users (``users``), the network that reaches devices through their Communications
Hub (``network``), the service core and its handlers (``service``, ``handlers_*``) and the
HTTP server at DCC Boxed's paths (``server``), put together by ``environment.EmulatedDcc``.
"""

from __future__ import annotations

from harness.emulator.dcc.environment import EmulatedDcc, serve_dcc
from harness.emulator.dcc.inventory import DeviceRecord, InventoryChange, SmartMeteringInventory
from harness.emulator.dcc.service import HANDLERS, WEB_SERVICES, DccService, web_service_for
from harness.emulator.dcc.transitions import TRANSITIONS, Transition
from harness.emulator.dcc.users import TEST_USERS, DccUser, UserRegistry, user_party

__all__ = [
    "HANDLERS",
    "TEST_USERS",
    "TRANSITIONS",
    "WEB_SERVICES",
    "DccService",
    "DccUser",
    "DeviceRecord",
    "EmulatedDcc",
    "InventoryChange",
    "SmartMeteringInventory",
    "Transition",
    "UserRegistry",
    "serve_dcc",
    "user_party",
    "web_service_for",
]
