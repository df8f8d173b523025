"""What each Service Request does to the SMI and to the emulated devices behind their hub."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from _dcc_emulator_helpers import dcc_of, post, signed, small_bench, user_id, wait_ready

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.bench import EmulatedBench
from harness.emulator.world.models import CommsHub, MeterDevice, create_device
from harness.protocols import duis
from harness.protocols.duis import DCC_EUI64, RequestId, ServiceRequest, ServiceResponse
from harness.protocols.gbcs_alerts import GbcsAlert

S = SmiStatus
_counter = itertools.count(100)


def rid(target: str = DCC_EUI64, user: str = "supplier") -> RequestId:
    """A fresh RequestID from ``user`` to ``target``."""
    return RequestId(user_id(user), target, next(_counter))


def send(bench: EmulatedBench, request: ServiceRequest, user: str = "supplier"
         ) -> ServiceResponse:
    """Sign ``request`` as ``user`` and post it to the bench's DCC."""
    return post(bench.addresses["dcc"], signed(request, user))


def status(bench: EmulatedBench, device_id: str) -> SmiStatus:
    """The device's SMI status now."""
    return dcc_of(bench).inventory.get(device_id).status


def install_hub(bench: EmulatedBench) -> CommsHub:
    """8.14.1 for the bench's hub (the DCC then commissions it)."""
    hub = bench.devices["ch"]
    assert isinstance(hub, CommsHub)
    answer = send(bench, duis.ch_install_success(rid(), hub.eui64, mpxn="1900000000001",
                                                 aerial_install=True, location="Deep indoors"))
    assert answer.response_code == "I0", answer.message
    return hub


@pytest.fixture
def bench() -> Iterator[EmulatedBench]:
    """A small bench, powered, strict signatures."""
    with small_bench() as bench:
        yield bench


def test_the_smi_starts_with_the_benchs_devices_as_they_are(bench: EmulatedBench) -> None:
    records = dcc_of(bench).inventory.records()
    hub = bench.devices["ch"]
    assert isinstance(hub, CommsHub)
    assert {d.eui64 for d in bench.devices.values()} | {hub.gpf_eui64} == set(records)
    assert records[hub.gpf_eui64].device_type is DeviceType.GPF
    assert records[hub.gpf_eui64].chf_id == hub.eui64
    assert all(r.status is S.PENDING for r in records.values())


def test_installing_a_hub_commissions_it_with_its_gpf(bench: EmulatedBench) -> None:
    hub = install_hub(bench)
    assert status(bench, hub.eui64) is S.COMMISSIONED
    assert status(bench, hub.gpf_eui64) is S.COMMISSIONED
    assert hub.status is S.COMMISSIONED  # the emulated hub's own commissioning ran
    assert GbcsAlert.DEVICE_COMMISSIONED in hub.log_codes()
    history = dcc_of(bench).inventory.changes(device_id=hub.eui64)
    assert [c.who for c in history][-2:] == [user_id("supplier"), "DCC"]


def test_pre_notification_of_a_known_device_follows_its_status(bench: EmulatedBench) -> None:
    esme = bench.devices["esme"]
    details = {"manufacturer": "EMUL", "model": "EMU-ESME-1", "device_type": "ESME"}
    assert send(bench, duis.pre_notification(rid(), esme.eui64, **details)).response_code == "I0"
    record = dcc_of(bench).inventory.get(esme.eui64)
    assert (record.status, record.manufacturer) == (S.PENDING, "EMUL")
    wrong_type = send(bench, duis.pre_notification(rid(), esme.eui64, manufacturer="EMUL",
                                                   model="X", device_type="GSME"))
    assert wrong_type.response_code == "E5" and "as a ESME" in wrong_type.message
    new = "00DB120000ABCDEF"
    answer = send(bench, duis.pre_notification(rid(), new, **details))
    assert answer.body["Device"]["DeviceStatus"] == "Pending"
    assert dcc_of(bench).inventory.get(new).origin == "12.2 pre-notification"


def test_whitelisting_joins_and_removing_before_commissioning(bench: EmulatedBench) -> None:
    hub = install_hub(bench)
    gsme = bench.devices["gsme"]
    assert isinstance(gsme, MeterDevice)
    add = duis.update_han_device_log(rid(hub.eui64), gsme.eui64,
                                     install_code=gsme.label.install_code.code,
                                     import_mpxn="7700000001")
    assert send(bench, add).response_code == "I0"
    assert status(bench, gsme.eui64) is S.INSTALLED_NOT_COMMISSIONED  # joined at once
    assert gsme.han_status().coordinator == hub.eui64
    record = dcc_of(bench).inventory.get(gsme.eui64)
    assert (record.chf_id, record.mpxn) == (hub.eui64, "7700000001")
    by_mpxn = send(bench, duis.read_inventory(rid(), mpxn="7700000001"))
    assert by_mpxn.body["Device"]["DeviceID"] == record.duis_id
    remove = send(bench, duis.update_han_device_log(rid(hub.eui64), gsme.eui64, add=False))
    assert remove.body["Removed"] == "true"
    assert gsme.eui64 in hub.historic_device_log()


def test_a_meter_whose_key_is_wrong_stays_whitelisted() -> None:
    with small_bench(powered=False) as bench:
        faulty = create_device("esme", DeviceType.ESME, "EMU-ESME-1", seed=7,
                               faults=["han_join_fails"], clock=bench.clock)
        bench.present("esme", faulty)
        assert dcc_of(bench).inventory.find(faulty.eui64) is not None  # entered on present
        bench.power_slots()
        wait_ready(bench.devices.values())
        hub = install_hub(bench)
        add = duis.update_han_device_log(rid(hub.eui64), faulty.eui64,
                                         install_code=faulty.label.install_code.code)
        assert send(bench, add).response_code == "I0"
        assert status(bench, faulty.eui64) is S.WHITELISTED
        assert not faulty.han_status().joined
        assert GbcsAlert.DEVICE_JOINING_FAILED in hub.log_codes()


def test_update_inventory_sets_only_what_duis_lets_it(bench: EmulatedBench) -> None:
    hub, esme = bench.devices["ch"], bench.devices["esme"]
    assert send(bench, duis.update_inventory(rid(), hub.eui64, status="Withdrawn", ch=True)
                ).response_code == "I0"
    assert status(bench, hub.eui64) is S.WITHDRAWN
    assert status(bench, hub.gpf_eui64) is S.WITHDRAWN  # type: ignore[attr-defined]
    refused = send(bench, duis.update_inventory(rid(), esme.eui64, status="Withdrawn", ch=True))
    assert refused.response_code == "EMB01" and "does not apply to a ESME" in refused.message
    assert send(bench, duis.update_inventory(rid(), esme.eui64, import_mpxn="1900000000777")
                ).response_code == "I0"
    assert dcc_of(bench).inventory.get(esme.eui64).mpxn == "1900000000777"
    # 8.4 is open to every role, an RSA's included: a Pending device may be deleted.
    deleted = send(bench, duis.update_inventory(rid(user="rsa"), esme.eui64, delete=True), "rsa")
    assert deleted.response_code == "I0", deleted.message
    assert dcc_of(bench).inventory.find(esme.eui64) is None


def test_reads_go_through_the_hub_to_the_device(bench: EmulatedBench) -> None:
    hub = install_hub(bench)
    gsme = bench.devices["gsme"]
    send(bench, duis.update_han_device_log(rid(hub.eui64), gsme.eui64,
                                           install_code=gsme.label.install_code.code))
    supply = send(bench, duis.read_supply_status(rid(gsme.eui64)))
    assert (supply.body["SupplyStatus"], supply.body["DeviceSupplyState"]) == ("Disabled",
                                                                               "closed")
    firmware = send(bench, duis.read_firmware_version(rid(hub.gpf_eui64)))  # type: ignore[attr-defined]
    assert firmware.body["FirmwareVersion"] == "6.2.1"
    assert firmware.body["DeviceModel"] == "EMU-CH-1 (GPF)"
    hub_supply = send(bench, duis.read_supply_status(rid(hub.eui64)))
    assert hub_supply.response_code == "E11"
    security = send(bench, duis.read_event_log(rid(hub.eui64), start="2000-01-01T00:00:00Z",
                                               end="2100-01-01T00:00:00Z", log="PowerEvent"))
    assert security.response_code == "I0"


def test_triage_reports_without_changing_anything(bench: EmulatedBench) -> None:
    hub = install_hub(bench)
    esme = bench.devices["esme"]
    send(bench, duis.update_han_device_log(rid(hub.eui64), esme.eui64,
                                           install_code=esme.label.install_code.code))
    before = dcc_of(bench).inventory.snapshot()
    codes_before = esme.log_codes()
    report = send(bench, duis.triage_device(rid(esme.eui64), esme.eui64,
                                            checks=tuple(duis.TriageCheck)))
    assert report.response_code == "I0" and report.body_tag == "ProposedTriageReport"
    body = report.body
    assert body["WAN"]["Reachable"] == "true" and body["WAN"]["Modem"] == "registered"
    assert body["HAN"] == {"Joined": "true", "Coordinator": body["WAN"]["HubID"],
                           "ToItsHub": "true", "AwaitingInstallCodeJoin": "false"}
    assert body["Firmware"] == {"Version": "1.4.2", "VerificationFailureLogged": "false"}
    assert int(body["EventLog"]["Entries"]) >= 1
    assert "PROPOSAL" in report.message
    assert dcc_of(bench).inventory.snapshot() == before and esme.log_codes() == codes_before
    # A reset of a device still in service is refused (the proposal's rule).
    refused = send(bench, duis.reset_device(rid(esme.eui64), esme.eui64))
    assert refused.response_code == "E5" and "decommission it first" in refused.message


def test_a_hub_installed_without_sm_wan_waits_to_be_commissioned() -> None:
    with small_bench(powered=False) as bench:
        hub = create_device("ch", DeviceType.CHF, "EMU-CH-1", seed=8, faults=["no_sim"],
                            clock=bench.clock)
        assert isinstance(hub, CommsHub)
        bench.present("ch", hub)
        bench.power_slots()
        wait_ready(bench.devices.values())
        answer = send(bench, duis.ch_install_no_sm_wan(
            rid(), hub.eui64, mpxn="1900000000001", aerial_install=False,
            location="Basement or Cellar", premise_type="Terraced", metal_obstruction=True,
            connectivity_obstruction=False, shared_obstruction=False))
        assert answer.response_code == "I0", answer.message
        send(bench, duis.read_inventory(rid(), hub.eui64))  # the DCC settles again
        assert status(bench, hub.eui64) is S.INSTALLED_NOT_COMMISSIONED
        assert hub.status is S.INSTALLED_NOT_COMMISSIONED  # the hub recorded its install
        esme = bench.devices["esme"]
        unreachable = send(bench, duis.update_han_device_log(
            rid(hub.eui64), esme.eui64, install_code=esme.label.install_code.code))
        assert unreachable.response_code == "E20" and "no SIM" in unreachable.message
