"""The DCC adapter: DUIS Service Requests to a DCC test environment, DCC Boxed or the emulator.

``DccAdapter`` (base.py) signs, delivers (retrying only what is safe) and checks; the
``duis`` backend (duis_http.py) speaks HTTP(S); ``ServiceRequestsMixin`` gives one method
per Service Request.  Typical use on an emulated bench::

    dcc = bench.instrument("dcc", DccAdapter)  # signs as the user its options name
    dcc.pre_notify(esme_id, device_type="ESME", manufacturer="...", model="...")
    dcc.whitelist(chf_id, esme_id, install_code, mpxn="...")
    dcc.inventory_status(esme_id)  # SmiStatus
"""

from __future__ import annotations

from harness.drivers.dcc.base import (
    DESTRUCTIVE_VARIANTS,
    READ_ONLY_VARIANTS,
    DccAccessDeniedError,
    DccAdapter,
    DccExchange,
    DccResponseError,
    DeliveryUncertainError,
    web_service_for,
)
from harness.drivers.dcc.credentials import DccCredentials, load_credentials

__all__ = [
    "DESTRUCTIVE_VARIANTS",
    "READ_ONLY_VARIANTS",
    "DccAccessDeniedError",
    "DccAdapter",
    "DccCredentials",
    "DccExchange",
    "DccResponseError",
    "DeliveryUncertainError",
    "load_credentials",
    "web_service_for",
]
