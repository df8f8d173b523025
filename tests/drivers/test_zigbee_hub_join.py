"""The dongle as joiner (issue 19 §5), on both backends against their emulated sticks over
``socket://``: a hub that holds the dongle's install code in its device log admits it; a hub
whose key derivation is corrupt (han_join_fails), one that never got the dongle, a PAN nobody
runs and a hub with a dead radio do not, each with the stack's own reason; a hung dongle is an
error naming the dongle, never a join outcome; an EZSP stick joins with the install code its
manufacturing token holds."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from harness.config.secrets import resolve_references
from harness.domain.types import DeviceType
from harness.drivers.zigbee import JoinStatus, PanInfo, ZigbeeDongle
from harness.emulator.ezsp.engine import EzspNcpEngine
from harness.emulator.ezsp.server import EzspNcpServer
from harness.emulator.loopback import LoopbackSerialServer
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models.comms_hub import CommsHub
from harness.emulator.zigbee import RadioWorld
from harness.errors import MeterbenchError
from harness.protocols.installcode import InstallCode
from harness.triage.hub_join import join_hub
from tests.drivers import test_zigbee_ezsp as ezsp
from tests.drivers import test_zigbee_telegesis as telegesis

Serve = Callable[[dict[str, EmulatedDevice]], LoopbackSerialServer]
Open = Callable[[str], ZigbeeDongle]
BACKENDS: dict[str, tuple[Serve, Open]] = {
    "telegesis": (telegesis.serve, lambda address: telegesis.dongle(address)),
    "ezsp": (ezsp.serve, lambda address: ezsp.dongle(address)),
}
CODE = InstallCode.generate(random.Random(19))


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest) -> tuple[Serve, Open]:
    return BACKENDS[request.param]


def hub_bench(backend: tuple[Serve, Open], *faults: str
              ) -> Iterator[tuple[CommsHub, ZigbeeDongle, LoopbackSerialServer]]:
    serve, open_dongle = backend
    devices = ezsp.powered(ch=(DeviceType.CHF, 3, faults))
    server = serve(devices)
    d = open_dongle(server.resource)
    d.open()
    hub = devices["ch"]
    assert isinstance(hub, CommsHub)
    try:
        yield hub, d, server
    finally:
        server.muted = False
        d.close()
        server.stop()


@pytest.fixture
def healthy(backend: tuple[Serve, Open]
            ) -> Iterator[tuple[CommsHub, ZigbeeDongle, LoopbackSerialServer]]:
    yield from hub_bench(backend)


def test_a_hub_with_the_dongle_in_its_device_log_admits_it(healthy: tuple) -> None:
    hub, d, _ = healthy
    eui = d.identity().eui64
    hub.whitelist(eui, CODE)
    outcome = d.join_network(hub.channel, hub.pan_id, CODE, 3.0)
    assert outcome.joined, outcome
    assert outcome.network is not None and outcome.network.role == "FFD"
    assert (outcome.network.channel, outcome.network.pan_id) == (hub.channel, hub.pan_id)
    assert outcome.network.extended_pan_id == hub.eui64
    assert any(e.eui64 == eui and e.joined for e in hub.device_log())
    assert d.leave_network() and d.network_info() is None


def test_a_hub_without_the_dongle_or_its_network_does_not_admit_it(healthy: tuple) -> None:
    hub, d, _ = healthy
    eui = d.identity().eui64
    refused = d.join_network(hub.channel, hub.pan_id, CODE, 3.0)  # not in the device log
    assert refused.status is JoinStatus.REFUSED and d.network_info() is None
    hub.whitelist(eui, CODE)
    wrong_code = InstallCode.generate(random.Random(20))
    assert d.join_network(hub.channel, hub.pan_id, wrong_code, 3.0).status is (
        JoinStatus.NO_NETWORK_KEY)
    nobody = d.join_network(hub.channel, hub.pan_id ^ 0x5555, CODE, 3.0)
    assert nobody.status is JoinStatus.NO_NETWORK
    assert not any(e.eui64 == eui and e.joined for e in hub.device_log())


@pytest.mark.parametrize(("fault", "status"), [("han_join_fails", JoinStatus.NO_NETWORK_KEY),
                                                ("han_radio_dead", JoinStatus.NO_NETWORK)])
def test_a_faulty_hub_does_not_admit_the_dongle(backend: tuple[Serve, Open], fault: str,
                                                status: JoinStatus) -> None:
    """The hub's own behaviour in the radio world: a corrupt derivation seals the network key
    under a key the dongle does not hold; a dead radio sends no beacon to associate with."""
    for hub, d, _ in hub_bench(backend, fault):
        hub.whitelist(d.identity().eui64, CODE)
        result = join_hub(d, _pan(hub), CODE, 3.0)
        assert result.status is status and not result.joined, result
        assert d.network_info() is None  # join_hub leaves whatever happened


def test_a_hung_dongle_is_an_error_naming_it(healthy: tuple) -> None:
    hub, d, server = healthy
    hub.whitelist(d.identity().eui64, CODE)
    server.muted = True
    with pytest.raises(MeterbenchError) as caught:
        join_hub(d, _pan(hub), CODE, 1.0)
    assert caught.value.context.get("instrument") == d.name


def test_the_install_code_comes_from_the_bench_secret(backend: tuple[Serve, Open],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``install_code_secret`` (env:/file:, resolved as the bench does) gives the dongle its
    code; a malformed one is a clear error that does not show it; none: None here (the
    emulated sticks hold none of their own)."""
    serve, open_dongle = backend
    server = serve(ezsp.powered(ch=(DeviceType.CHF, 3, ())))
    try:
        plain = open_dongle(server.resource)
        for value, ok in ((CODE.reveal(), True), ("00112233", False), (None, True)):
            options = {} if value is None else {"install_code_secret": "env:MB_TEST_CODE"}
            if value is not None:
                monkeypatch.setenv("MB_TEST_CODE", value)
            config = plain.config.model_copy(update={"options": options})
            d = type(plain)("dongle", config, secrets=resolve_references(
                options, key_path="instruments.dongle.options"))
            with d:
                if value is None:
                    assert d.install_code() is None
                elif ok:
                    assert d.install_code() == CODE
                else:
                    with pytest.raises(MeterbenchError, match="install_code_secret") as bad:
                        d.install_code()
                    assert value not in str(bad.value)
    finally:
        server.stop()


def _pan(hub: CommsHub) -> PanInfo:
    """The hub's network as a PAN scan reports it."""
    return PanInfo(hub.channel, hub.pan_id, hub.eui64, True)


def test_an_ezsp_stick_joins_with_the_install_code_it_holds() -> None:
    """The NCP's MFG_INSTALLATION_CODE token is the dongle's own code: the hub given it admits
    the stick, and neither the token nor the key shows in the transcript."""
    devices = ezsp.powered(ch=(DeviceType.CHF, 3, ()))
    hub = devices["ch"]
    assert isinstance(hub, CommsHub)
    own = InstallCode.generate(random.Random(99))
    engine = EzspNcpEngine(RadioWorld(devices), ezsp.NCP_EUI, time_scale=20.0,
                           install_code=own)
    server = EzspNcpServer(engine)
    server.start()
    try:
        with ezsp.dongle(server.resource) as d:
            assert d.install_code() == own
            hub.whitelist(d.identity().eui64, own)
            assert join_hub(d, _pan(hub), own, 3.0).joined
            text = d.transcript.render().upper()
            assert own.reveal() not in text and own.link_key().hex() not in text
    finally:
        server.stop()
