"""The Smart Metering Inventory: allowed and refused transitions, atomic requests, the log."""

from __future__ import annotations

import threading

import pytest

from harness.domain.types import DeviceType, SmiStatus
from harness.emulator.dcc.inventory import DeviceRecord, SmartMeteringInventory
from harness.emulator.dcc.transitions import TRANSITIONS, allowed_targets, transition
from harness.protocols.duis import DuisError
from harness.protocols.installcode import InstallCode

S = SmiStatus
ESME = "00DB120000000001"


def inventory_with(status: SmiStatus = S.PENDING) -> SmartMeteringInventory:
    """An SMI holding one ESME in ``status``."""
    inventory = SmartMeteringInventory()
    inventory.seed(DeviceRecord(ESME, DeviceType.ESME, status), "test")
    return inventory


@pytest.mark.parametrize("path", [
    [S.PENDING, S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED, S.DECOMMISSIONED,
     S.PENDING],
    [S.PENDING, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED, S.WITHDRAWN, S.PENDING],
    [S.PENDING, S.WHITELISTED, S.PENDING, S.WITHDRAWN],
    [S.COMMISSIONED, S.SUSPENDED, S.COMMISSIONED, S.RECOVERY, S.RECOVERED, S.COMMISSIONED],
])
def test_a_device_moves_along_allowed_transitions(path: list[SmiStatus]) -> None:
    inventory = inventory_with(path[0])
    for target in path[1:]:
        with inventory.transaction("90B3D51F30010000", "rid") as tx:
            tx.set_status(ESME, target, "test")
    assert inventory.status_history(ESME) == path


@pytest.mark.parametrize(("source", "target"), [
    (S.PENDING, S.COMMISSIONED),  # not without being installed
    (S.PENDING, S.DECOMMISSIONED),
    (S.WHITELISTED, S.COMMISSIONED),
    (S.DECOMMISSIONED, S.COMMISSIONED),
    (S.WITHDRAWN, S.WHITELISTED),
    (S.NOT_APPLICABLE, S.PENDING),
    (S.RECOVERY, S.COMMISSIONED),
])
def test_a_transition_not_in_the_table_is_refused_with_e5(source: SmiStatus,
                                                          target: SmiStatus) -> None:
    inventory = inventory_with(source)
    before = inventory.snapshot()
    with pytest.raises(DuisError) as caught, inventory.transaction("u", "rid") as tx:
        tx.set_status(ESME, target, "test")
    assert caught.value.response_code == "E5"
    assert f"cannot become {target}" in str(caught.value)
    assert inventory.snapshot() == before and inventory.version == 1


def test_the_table_names_what_triggers_each_transition() -> None:
    for (source, target), rule in TRANSITIONS.items():
        assert source is not target
        assert rule.triggers and all(rule.triggers)
    assert allowed_targets(S.NOT_APPLICABLE) == []
    assert transition(S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED) is not None
    # Every status but Not Applicable can be reached from Pending.
    seen, todo = {S.PENDING}, [S.PENDING]
    while todo:
        for nxt in allowed_targets(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(SmiStatus) - {S.NOT_APPLICABLE}


def test_a_request_that_fails_half_way_changes_nothing() -> None:
    inventory = inventory_with(S.PENDING)
    before, version = inventory.snapshot(), inventory.version
    with pytest.raises(DuisError), inventory.transaction("u", "rid") as tx:
        tx.set_status(ESME, S.WHITELISTED, "first step")
        tx.update(ESME, "second step", mpxn="1900000000002")
        tx.get("00DB120000000099")  # not in the inventory: E19
    assert inventory.snapshot() == before
    assert inventory.changes(since=version) == []


def test_every_change_says_who_under_which_request_and_masks_install_codes() -> None:
    inventory = inventory_with(S.PENDING)
    mark = inventory.version
    code = InstallCode(bytes(range(16)))
    with inventory.transaction("90B3D51F30010000", "90-B3-...:42") as tx:
        tx.set_status(ESME, S.WHITELISTED, "8.11 Update HAN Device Log")
        tx.update(ESME, "8.11 Update HAN Device Log", install_code=code, mpxn="1900000000002")
    status, details = inventory.changes(since=mark)
    assert (status.who, status.request_id, status.device_id) == (
        "90B3D51F30010000", "90-B3-...:42", ESME)
    assert status.changes == (("status", "Pending", "Whitelisted"),)
    assert ("mpxn", "", "1900000000002") in details.changes
    shown = dict((name, new) for name, _, new in details.changes)["install_code"]
    assert code.reveal(with_crc=False) not in shown and "****" in shown
    assert status.seq + 1 == details.seq


def test_adding_an_existing_device_or_an_installed_one_is_refused() -> None:
    inventory = inventory_with(S.PENDING)
    with pytest.raises(DuisError, match="already"), inventory.transaction("u") as tx:
        tx.add(DeviceRecord(ESME, DeviceType.ESME, S.PENDING), "again")
    with pytest.raises(DuisError, match="Pending"), inventory.transaction("u") as tx:
        tx.add(DeviceRecord("00DB120000000002", DeviceType.ESME, S.COMMISSIONED), "new")
    assert len(inventory) == 1


def test_unknown_devices_are_e19_and_deleted_ones_are_gone() -> None:
    inventory = inventory_with(S.PENDING)
    with pytest.raises(DuisError) as caught:
        inventory.get("00-DB-12-00-00-00-00-99")
    assert caught.value.response_code == "E19"
    with inventory.transaction("u", "rid") as tx:
        tx.delete(ESME, "8.4 delete")
    assert ESME not in inventory and inventory.changes()[-1].changes == (
        ("record", "Pending", "deleted"),)


def test_concurrent_requests_each_land_whole() -> None:
    inventory = SmartMeteringInventory()
    ids = [f"00DB12000000{n:04X}" for n in range(40)]
    for device_id in ids:
        inventory.seed(DeviceRecord(device_id, DeviceType.ESME, S.PENDING), "test")
    mark = inventory.version

    def install(device_id: str) -> None:
        """Take one device through install, one request per step."""
        for target in (S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED):
            with inventory.transaction(device_id, "rid") as tx:
                tx.set_status(device_id, target, "test")
                tx.update(device_id, "test", mpxn=device_id[-4:] + str(target)[:3])

    threads = [threading.Thread(target=install, args=(d,)) for d in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    changes = inventory.changes(since=mark)
    assert len(changes) == 40 * 3 * 2
    assert [c.seq for c in changes] == list(range(mark + 1, mark + 1 + len(changes)))
    assert all(inventory.get(d).status is S.COMMISSIONED for d in ids)
    for device_id in ids:  # each device's changes kept their order
        assert inventory.status_history(device_id)[1:] == [
            S.WHITELISTED, S.INSTALLED_NOT_COMMISSIONED, S.COMMISSIONED]
