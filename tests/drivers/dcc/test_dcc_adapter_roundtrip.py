"""The DCC adapter against the emulated DCC: an ESME installed and uninstalled end to end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from _dcc_driver_helpers import adapter_for, emulated_bench

from harness.domain.types import SmiStatus
from harness.drivers.dcc import DccAccessDeniedError, DccCredentials, DccResponseError
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.bench import EmulatedBench
from harness.emulator.dcc import EmulatedDcc, user_party
from harness.emulator.world.credentials import shared_pki
from harness.emulator.world.models import CommsHub, Esme
from harness.protocols.gbcs_alerts import GbcsAlert

S = SmiStatus
DUMMY_MPAN = "1900000000123"


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[EmulatedBench, DuisHttpAdapter]]:
    """The default emulated bench, powered, and an adapter signing as its Supplier."""
    with emulated_bench() as bench:
        adapter = adapter_for(bench)
        try:
            yield bench, adapter
        finally:
            adapter.close()


def install_hub(adapter: DuisHttpAdapter, hub: CommsHub) -> None:
    """Install the bench's hub through the DCC unless it already is."""
    if adapter.inventory_status(hub.eui64) is S.COMMISSIONED:
        return
    adapter.ch_status_update("8.14.1", hub.eui64, mpxn=DUMMY_MPAN, aerial_install=False,
                             location="Indoors on external wall")


@pytest.mark.usefixtures("permit")
def test_an_esme_goes_through_install_and_uninstall(world: tuple[EmulatedBench, DuisHttpAdapter]
                                                    ) -> None:
    bench, dcc = world
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    assert isinstance(hub, CommsHub) and isinstance(esme, Esme)
    emulated = bench.servers["dcc"]
    assert isinstance(emulated, EmulatedDcc)
    mark = emulated.inventory.version
    assert dcc.identify().startswith(f"DUIS endpoint {bench.addresses['dcc']} (HTTP 200")

    install_hub(dcc, hub)  # 8.14.1; the DCC then commissions CHF and GPF over the SM WAN
    assert dcc.inventory_status(hub.eui64) is S.COMMISSIONED
    assert dcc.inventory_status(hub.gpf_eui64) is S.COMMISSIONED

    dcc.pre_notify(esme.eui64, device_type="ESME", manufacturer="EMUL", model="EMU-ESME-1",
                   firmware_version="010402")
    assert dcc.inventory_status(esme.eui64) is S.PENDING

    answer = dcc.whitelist(hub.eui64, esme.eui64, esme.label.install_code, mpxn=DUMMY_MPAN)
    assert answer.body["JoinResponse"] == "SUCCESS"
    assert answer.response_id and answer.response_id.startswith(
        "-".join(hub.eui64[i:i + 2] for i in range(0, 16, 2)))
    # The meter, powered and waiting, joins the hub over the HAN with its install code.
    han = esme.han_status()
    assert han.joined and han.coordinator == hub.eui64
    assert dcc.inventory_status(esme.eui64) is S.INSTALLED_NOT_COMMISSIONED

    dcc.commission(esme.eui64)
    assert dcc.inventory_status(esme.eui64) is S.COMMISSIONED
    assert esme.consumer_data().mpxn == DUMMY_MPAN

    supply = dcc.read_supply_status(esme.eui64)
    assert supply.body["SupplyStatus"] == "Enabled"
    assert dcc.read_firmware_version(esme.eui64).body["FirmwareVersion"] == "1.4.2"
    log = dcc.read_event_log(esme.eui64).body["LogEntry"]
    codes = [entry["AlertCode"] for entry in (log if isinstance(log, list) else [log])]
    assert f"0x{GbcsAlert.DEVICE_JOINED_SMHAN:04X}" in codes
    assert f"0x{GbcsAlert.DEVICE_COMMISSIONED:04X}" in codes

    dcc.decommission(esme.eui64)
    assert dcc.inventory_status(esme.eui64) is S.DECOMMISSIONED

    reset = dcc.reset(esme.eui64)  # PROPOSED, not DUIS
    assert reset.body["Device"]["DeviceStatus"] == "Pending"
    assert "PROPOSAL" in reset.body["Proposal"]
    assert dcc.inventory_status(esme.eui64) is S.PENDING
    assert esme.han_status().awaiting_install_code_join
    assert not esme.consumer_data().available
    assert esme.eui64 not in {entry.eui64 for entry in hub.device_log()}

    history = emulated.inventory.status_history(esme.eui64)
    assert history == [S.PENDING, S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED,
                       S.DECOMMISSIONED, S.PENDING]
    who = {c.who for c in emulated.inventory.changes(since=mark, device_id=esme.eui64)}
    assert who == {dcc.credentials.user_id, f"CHF {hub.eui64}"}  # type: ignore[union-attr]
    # The transcript holds each request as sent and each answer.
    text = dcc.transcript.render()
    assert "sr:Request" in text and "sr:Response" in text and "ds:Signature" in text


@pytest.mark.usefixtures("permit")
def test_an_rsa_may_read_but_not_commission(world: tuple[EmulatedBench, DuisHttpAdapter]) -> None:
    bench, supplier = world
    hub, gsme = bench.devices["ch"], bench.devices["gsme"]
    assert isinstance(hub, CommsHub)
    install_hub(supplier, hub)
    if supplier.inventory_status(gsme.eui64) is S.PENDING:
        supplier.whitelist(hub.eui64, gsme.eui64, gsme.label.install_code)
    assert supplier.inventory_status(gsme.eui64) is S.INSTALLED_NOT_COMMISSIONED

    rsa = adapter_for(bench)
    rsa.use_credentials(DccCredentials.from_party(user_party(shared_pki(0), "rsa")))
    emulated = bench.servers["dcc"]
    assert isinstance(emulated, EmulatedDcc)
    try:
        assert rsa.inventory_status(gsme.eui64) is S.INSTALLED_NOT_COMMISSIONED
        assert rsa.read_supply_status(gsme.eui64).body["SupplyStatus"] == "Disabled"
        before = emulated.inventory.snapshot()
        with pytest.raises(DccAccessDeniedError) as refused:
            rsa.commission(gsme.eui64)
        assert refused.value.response_code == "E2"
        with pytest.raises(DccAccessDeniedError):
            rsa.reset(gsme.eui64)  # the proposal gives an RSA no reset
        assert emulated.inventory.snapshot() == before
        # check=False hands back the refusal instead of raising.
        assert rsa.decommission(gsme.eui64, check=False).response_code == "E2"
    finally:
        rsa.close()


@pytest.mark.usefixtures("permit")
def test_a_device_the_dcc_cannot_reach_is_a_communications_failure() -> None:
    with emulated_bench() as bench:
        dcc = adapter_for(bench)
        hub, esme = bench.devices["ch"], bench.devices["esme"]
        assert isinstance(hub, CommsHub)
        install_hub(dcc, hub)
        dcc.whitelist(hub.eui64, esme.eui64, esme.label.install_code)
        assert dcc.read_firmware_version(esme.eui64).success
        esme.supply(0.0)  # the meter is unplugged: the hub reaches nobody over its HAN
        with pytest.raises(DccResponseError) as caught:
            dcc.read_firmware_version(esme.eui64)
        assert caught.value.response_code == "E21"
        assert "does not answer over the HAN" in str(caught.value)
        hub.supply(0.0)  # and now the hub is off the SM WAN too
        with pytest.raises(DccResponseError) as caught:
            dcc.read_firmware_version(esme.eui64)
        assert caught.value.response_code == "E20"
        assert "not connected to the SM WAN" in str(caught.value)
        assert dcc.inventory_status(esme.eui64) is S.INSTALLED_NOT_COMMISSIONED
        dcc.close()
