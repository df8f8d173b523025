"""The DCC adapter sends no destructive Service Request without the access gate's permit."""

from __future__ import annotations

import pytest
from _dcc_driver_helpers import SilentPeer, instrument_config

from harness.drivers.dcc import DccCredentials, DeliveryUncertainError
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.drivers.permit import SERVICE_REQUEST, Permit, holding
from harness.emulator.dcc import user_party
from harness.emulator.world.credentials import shared_pki
from harness.errors import AccessDeniedError

SUPPLIER = DccCredentials.from_party(user_party(shared_pki(0), "supplier"))


def test_a_destructive_service_request_without_a_permit_is_not_sent() -> None:
    peer = SilentPeer()
    try:
        dcc = DuisHttpAdapter("dcc", instrument_config(response_timeout_s=0.5), peer.url).open()
        dcc.use_credentials(SUPPLIER)
        for send in (lambda: dcc.decommission("00DB120000000001"),
                     lambda: dcc.reset("00DB120000000001"),
                     lambda: dcc.commission("00DB120000000001"),
                     lambda: dcc.whitelist("00DB120000000002", "00DB120000000001",
                                           "0" * 32)):
            with pytest.raises(AccessDeniedError, match="no permit"):
                send()
        assert peer.requests == [] and dcc.exchanges == []
    finally:
        peer.close()


def test_started_is_recorded_before_the_request_leaves_and_the_end_after() -> None:
    peer = SilentPeer()  # takes the request, never answers
    seen: list[tuple[str, str, int, dict]] = []
    permit = Permit(frozenset({SERVICE_REQUEST}), device_id="00DB120000000001",
                    audit=lambda action, outcome, detail: seen.append(
                        (action, outcome, len(peer.requests), dict(detail))))
    try:
        dcc = DuisHttpAdapter("dcc", instrument_config(response_timeout_s=0.3), peer.url).open()
        dcc.use_credentials(SUPPLIER)
        with holding(permit), pytest.raises(DeliveryUncertainError):
            dcc.decommission("00DB120000000001")
    finally:
        peer.close()
    assert [(a, o, n) for a, o, n, _ in seen] == [
        ("8.3 Decommission Device", "started", 0),  # nothing had reached the DCC yet
        ("8.3 Decommission Device", "failed", 1)]
    assert seen[0][3]["signer"] == SUPPLIER.user_id and "NOT sent again" in seen[1][3]["why"]
