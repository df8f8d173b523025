"""One method per Service Request on a DCC adapter: build (``harness.protocols.duis``), send.

Each method picks the RequestID DUIS expects (a non-device request to the DCC, a device
request to the device, 8.11 to the CHF whose whitelist changes), sends it, and returns the
DUIS response; ``check=False`` returns an error response instead of raising.  The two
``PROPOSED`` methods send meterbench's proposed triage/reset requests, which are NOT DUIS.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeGuard

from harness.domain.eui64 import eui64_duis
from harness.domain.types import SmiStatus
from harness.drivers.dcc.base import DccAdapter
from harness.errors import OperationError
from harness.protocols import duis
from harness.protocols.duis import ServiceRequest, ServiceResponse, TriageCheck
from harness.protocols.installcode import InstallCode

if TYPE_CHECKING:
    from harness.protocols.duis import RequestId

__all__ = ["ServiceRequestAdapter", "ServiceRequestsMixin", "sends_service_requests"]

_LOG_START = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)


class ServiceRequestsMixin:
    """The Service Requests meterbench sends, as methods of a :class:`DccAdapter`."""

    if TYPE_CHECKING:  # provided by DccAdapter
        name: str

        def request_id(self, target: str | None = None) -> RequestId: ...

        def send(self, request: ServiceRequest, *, check: bool = True) -> ServiceResponse: ...

    # -- inventory (non-device, Command Variant 8) ---------------------------------------------

    def pre_notify(self, device_id: str, *, device_type: str, manufacturer: str, model: str,
                   firmware_version: str | None = None, smets_chts_version: str | None = None,
                   esme_variant: str | None = None, gpf_id: str | None = None,
                   check: bool = True) -> ServiceResponse:
        """12.2 Device Pre-notification: the SMI enters the device as Pending."""
        return self.send(duis.pre_notification(
            self.request_id(), device_id, manufacturer=manufacturer, model=model,
            device_type=device_type, firmware_version=firmware_version,
            smets_chts_version=smets_chts_version, esme_variant=esme_variant,
            associated_gpf_id=gpf_id), check=check)

    def read_inventory(self, device_id: str | None = None, *, mpxn: str | None = None,
                       check: bool = True) -> ServiceResponse:
        """8.2 Read Inventory by device (a CHF lists its HAN too) or by MPxN."""
        return self.send(duis.read_inventory(self.request_id(), device_id, mpxn=mpxn),
                         check=check)

    def inventory_status(self, device_id: str) -> SmiStatus:
        """The device's SMI status, by 8.2 Read Inventory."""
        response = self.read_inventory(device_id)
        devices = response.body.get("Device", [])
        for entry in devices if isinstance(devices, list) else [devices]:
            if isinstance(entry, dict) and entry.get("DeviceID") == eui64_duis(device_id):
                return SmiStatus(entry["DeviceStatus"])
        raise OperationError(f"{self.name}: 8.2 answer does not list {eui64_duis(device_id)}",
                             instrument=self.name)

    def update_inventory(self, device_id: str, *, status: str | None = None, ch: bool = False,
                         delete: bool = False, import_mpxn: str | None = None,
                         check: bool = True) -> ServiceResponse:
        """8.4 Update Inventory: a status (``ch`` for a hub), a deletion, or the MPxN."""
        return self.send(duis.update_inventory(self.request_id(), device_id, status=status,
                                               ch=ch, delete=delete, import_mpxn=import_mpxn),
                         check=check)

    def decommission(self, device_id: str, *, check: bool = True) -> ServiceResponse:
        """8.3 Decommission Device."""
        return self.send(duis.decommission_device(self.request_id(), device_id), check=check)

    def ch_status_update(self, variant: str, chf_id: str, *, check: bool = True,
                         **fields: Any) -> ServiceResponse:
        """8.14.1-8.14.4 by variant; ``fields`` are the ``duis.ch_*`` builder's keywords
        (e.g. ``return_type=``, ``reason=``, ``connection_method=`` for a fault return)."""
        return self.send(duis.ch_status_update(variant, self.request_id(), chf_id, **fields),
                         check=check)

    # -- device requests -----------------------------------------------------------------------

    def whitelist(self, chf_id: str, device_id: str, install_code: InstallCode | str, *,
                  join_time_s: int = 90, mpxn: str | None = None,
                  secondary_mpan: str | None = None, check: bool = True) -> ServiceResponse:
        """8.11 Update HAN Device Log (Add): whitelist ``device_id`` in CHF ``chf_id``.

        With ``check``, a CHF that answers with a join response code other than Success
        raises OperationError naming it."""
        code: str | bytes = (install_code.code if isinstance(install_code, InstallCode)
                             else install_code)
        response = self.send(duis.update_han_device_log(
            self.request_id(chf_id), device_id, add=True, install_code=code,
            join_time_period=join_time_s, import_mpxn=mpxn,
            secondary_import_mpan=secondary_mpan), check=check)
        refused = response.body.get("JoinResponseCode") not in (None, "0")
        if check and response.success and refused:
            raise OperationError(f"{self.name}: CHF {eui64_duis(chf_id)} refused "
                                 f"{eui64_duis(device_id)}: {response.body.get('JoinResponse')}",
                                 instrument=self.name)
        return response

    def remove_from_whitelist(self, chf_id: str, device_id: str, *, check: bool = True
                              ) -> ServiceResponse:
        """8.11 Update HAN Device Log (Remove)."""
        return self.send(duis.update_han_device_log(self.request_id(chf_id), device_id,
                                                    add=False), check=check)

    def commission(self, device_id: str, *, when: dt.datetime | None = None,
                   tolerance_s: int = 60, check: bool = True) -> ServiceResponse:
        """8.1.1 Commission Device (synchronising its clock to ``when``, default now)."""
        return self.send(duis.commission_device(
            self.request_id(device_id), current_datetime=when or dt.datetime.now(dt.UTC),
            tolerance_period=tolerance_s), check=check)

    def read_event_log(self, device_id: str, *, log: str = "Event",
                       start: dt.datetime | None = None, end: dt.datetime | None = None,
                       check: bool = True) -> ServiceResponse:
        """6.13 Read Event or Security Log (``log``: a DUIS LogToRead; default all of it)."""
        end = end or dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        return self.send(duis.read_event_log(self.request_id(device_id), start=start or _LOG_START,
                                             end=end, log=log), check=check)

    def read_supply_status(self, device_id: str, *, check: bool = True) -> ServiceResponse:
        """7.4 Read Supply Status."""
        return self.send(duis.read_supply_status(self.request_id(device_id)), check=check)

    def read_firmware_version(self, device_id: str, *, check: bool = True) -> ServiceResponse:
        """11.2 Read Firmware Version."""
        return self.send(duis.read_firmware_version(self.request_id(device_id)), check=check)

    # -- PROPOSED, not DUIS --------------------------------------------------------------------

    def triage(self, device_id: str, *,
               checks: tuple[TriageCheck | str, ...] = tuple(TriageCheck),
               check: bool = True) -> ServiceResponse:
        """PROPOSED (not DUIS) MBP.1 Triage Device: a read-only report of ``checks``."""
        return self.send(duis.triage_device(self.request_id(device_id), device_id,
                                            checks=checks), check=check)

    def reset(self, device_id: str, *, check: bool = True) -> ServiceResponse:
        """PROPOSED (not DUIS) MBP.2 Reset Device to its original state."""
        return self.send(duis.reset_device(self.request_id(device_id), device_id), check=check)


class ServiceRequestAdapter(ServiceRequestsMixin, DccAdapter):
    """A DCC adapter with the Service Request methods (``DuisHttpAdapter`` is one): what the
    duis profile and the QA suites drive."""


def sends_service_requests(dcc: object) -> TypeGuard[ServiceRequestAdapter]:
    """Whether ``dcc`` is a DCC adapter with the Service Request methods (a DccAdapter that is
    a ServiceRequestsMixin, whether or not it derives from ServiceRequestAdapter)."""
    return isinstance(dcc, ServiceRequestsMixin) and isinstance(dcc, DccAdapter)
