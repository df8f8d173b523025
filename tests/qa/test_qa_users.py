"""Who acts in each QA role on the DCC, and what DUIS lets each role send."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.bench.bench import Bench
from harness.bench.session import BenchSession
from harness.config.models import BenchConfig, InstrumentConfig
from harness.drivers.dcc.base import DccAdapter
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.dcc import EmulatedDcc
from harness.errors import BenchConfigError
from harness.qa import acting_as, credentials_for, may_send


@pytest.fixture(scope="module")
def opened() -> Iterator[BenchSession]:
    """The emulated bench, open (no device powered: nothing here talks to one)."""
    session = BenchSession.from_file(None)
    session.open(purpose="qa users")
    yield session
    session.close()


def test_opening_an_emulated_bench_resolves_its_dcc_user(opened: BenchSession) -> None:
    assert opened.bench is not None
    dcc = opened.bench.instrument("dcc", DccAdapter)
    assert dcc.credentials is not None
    assert dcc.credentials.user_id == "90B3D51F30010000"  # ZAZ1's test Supplier
    answer = dcc.read_inventory(mpxn="0000000000000", check=False)
    assert answer.response_code == "E19"  # signed, accepted, and nothing has that MPxN


@pytest.mark.usefixtures("permit")
def test_each_role_is_its_own_dcc_user(opened: BenchSession) -> None:
    bench = opened.bench
    assert bench is not None
    dcc = bench.instrument("dcc", DccAdapter)
    supplier = credentials_for(bench, dcc, "supplier")
    rsa = credentials_for(bench, dcc, "rsa")
    assert supplier is dcc.credentials
    assert rsa.user_id != supplier.user_id
    emulated = opened.emulator.servers["dcc"]  # type: ignore[union-attr]
    assert isinstance(emulated, EmulatedDcc)
    assert emulated.users.by_user_id(rsa.user_id).name == "rsa"  # type: ignore[union-attr]
    assert emulated.secret("nobody/signing_key") is None
    with acting_as(dcc, rsa):  # an RSA may read the inventory, not commission
        assert dcc.request_id().originator == rsa.user_id
        assert dcc.commission("00DB12BB54C4A4C7", check=False).response_code == "E2"
    assert dcc.credentials is supplier
    with pytest.raises(BenchConfigError, match="not a DCC user"):
        credentials_for(bench, dcc, "manufacturer")


def test_a_lab_bench_names_each_role_s_user() -> None:
    config = InstrumentConfig(kind="dcc", backend="duis", address="https://dcc.example:8443",
                              options={"users": {"rsa": {"signing_key": "env:MB_NO_SUCH_KEY",
                                                         "signing_certificate": "rsa.pem"}}})
    bench = Bench(BenchConfig.model_validate({"bench": {"name": "lab"},
                                              "instruments": {"dcc": config.model_dump()}}))
    dcc = DuisHttpAdapter("dcc", config)
    with pytest.raises(BenchConfigError, match=r"users\.rsa\.signing_key.*MB_NO_SUCH_KEY"):
        credentials_for(bench, dcc, "rsa")
    with pytest.raises(BenchConfigError, match=r"options\.users\.supplier"):
        credentials_for(bench, dcc, "supplier")  # no own user resolved, none named


def test_duis_eligibility_decides_what_a_role_may_send() -> None:
    assert [may_send("rsa", v) for v in ("12.2", "8.2", "7.4", "11.2", "6.13")] == [True] * 5
    assert [may_send("rsa", v) for v in ("8.11", "8.1.1", "8.3", "MBP.2")] == [False] * 4
    assert all(may_send("supplier", v) for v in ("8.11", "8.1.1", "8.3", "MBP.1", "MBP.2"))
