"""The emulated Telegesis module and radio world, without a wire: lines in, lines out."""

from __future__ import annotations

import pytest

from harness.domain.types import DeviceType
from harness.emulator.world.clock import ManualClock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.emulator.zigbee import RadioWorld, TelegesisEngine
from harness.protocols import telegesis as tg
from harness.protocols.telegesis_extra import authfail, energy_byte, energy_dbm, parse_extension

EUI = "000D6F0000ABCDEF"


def world_of(*faults: str, seed: int = 0) -> tuple[RadioWorld, dict[str, EmulatedDevice]]:
    clock = ManualClock()
    devices = {"esme": create_device("esme", DeviceType.ESME, seed=1, clock=clock,
                                     faults=faults),
               "ch": create_device("ch", DeviceType.CHF, seed=3, clock=clock)}
    for device in devices.values():
        device.supply(device.nominal_voltage)
    clock.advance(1.0)
    return RadioWorld(devices, seed=seed), devices


def run(engine: TelegesisEngine, *commands: str, now: float = 0.0) -> list[str]:
    """Answers (without echoes) and the prompts due right after."""
    out: list[str] = []
    for command in commands:
        out += engine.receive(command, now)[1:]
        out += engine.due(now)
    return out


def test_noise_is_deterministic_per_seed_with_a_wifi_block() -> None:
    a, _ = world_of(seed=5)
    b, _ = world_of(seed=5)
    c, _ = world_of(seed=6)
    assert a.noise_dbm == b.noise_dbm != c.noise_dbm
    loud = [ch for ch, dbm in a.noise_dbm.items() if dbm > -85]
    assert len(loud) == 4 and loud == list(range(loud[0], loud[0] + 4))


def test_energy_scan_lines_and_the_hub_on_its_channel() -> None:
    world, devices = world_of()
    out = run(TelegesisEngine(world, EUI), "AT+ESCAN")
    assert out[0] == "+ESCAN:" and out[-1] == "OK"
    readings = tg.parse_escan(out)
    hub_channel = devices["ch"].channel  # type: ignore[attr-defined]
    assert energy_dbm(readings[hub_channel]) > world.noise_dbm[hub_channel] + 5
    assert energy_dbm(energy_byte(-90.4)) == -90 and energy_byte(-300) == 0x80


def test_registers_need_the_password_and_keys_are_write_only() -> None:
    world, _ = world_of()
    engine = TelegesisEngine(world, EUI)
    assert run(engine, "ATS09=00112233445566778899AABBCCDDEEFF") == ["ERROR:20"]
    assert run(engine, "ATS09=00112233445566778899AABBCCDDEEFF:wrong") == ["ERROR:20"]
    assert run(engine, "ATS09=0011:password", "ATS09?") == ["OK", "ERROR:05"]
    assert run(engine, "ATS0A8=1:password", "ATS0A?") == ["OK", "0110", "OK"]
    assert run(engine, "ATS0A8=0:password", "ATS0A?") == ["OK", "0010", "OK"]
    assert run(engine, "ATS0C=newpass:password", "ATS0A8=1:password") == ["OK", "ERROR:20"]
    assert run(engine, "ATS0A8=1:newpass") == ["OK"]
    assert run(engine, "ATS00=XYZ", "ATS7F?", "AT+WHAT") == ["ERROR:05", "ERROR:04",
                                                            "ERROR:02"]


def test_form_on_the_quietest_allowed_channel() -> None:
    world, _ = world_of()
    engine = TelegesisEngine(world, EUI)
    out = run(engine, f"ATS00={(1 << 4) | (1 << 9):04X}", "AT+EN")  # channels 15 and 20
    jpan = tg.parse_line(out[1])
    assert isinstance(jpan, tg.JoinedPan)
    assert jpan.channel == min((15, 20), key=lambda ch: world.energy_dbm(ch))
    assert jpan.epan_id == EUI and out[2] == "OK"
    assert run(engine, "AT+EN") == ["ERROR:28"]
    assert run(engine, "AT+DASSL") == ["OK", "LeftPAN"]
    assert run(engine, "AT+DASSL") == ["ERROR:93"]


def join_window(engine: TelegesisEngine, key_commands: tuple[str, ...]) -> list[str]:
    run(engine, "ATS00=0001", "AT+EN", *key_commands, "AT+PJOIN:3C", now=0.0)
    engine.due(0.01)  # the meter is heard scanning, and tries a moment later
    return engine.due(5.0)


def test_meter_joins_only_with_the_key_from_its_install_code() -> None:
    world, devices = world_of()
    esme = devices["esme"]
    key = esme.label.install_code.link_key().hex()
    engine = TelegesisEngine(world, EUI)
    prompts = join_window(engine, (f"ATS09={key}:password", "ATS0A8=1:password"))
    new = tg.parse_line(prompts[0])
    assert isinstance(new, tg.NewNode) and new.eui64 == esme.eui64
    assert tg.parse_line(prompts[1]) == tg.DeviceAnnounce("FFD", esme.eui64, new.node_id)
    assert esme.han_status().coordinator == EUI
    # Joined: not a candidate in the next window.
    assert run(engine, "AT+PJOIN:3C", now=6.0) == ["OK"] and engine.due(9.0) == []


@pytest.mark.parametrize("scale", [1.0, 10.0, 100.0])
def test_join_delay_is_the_meters_time_and_scales(scale: float) -> None:
    """A fast bench's meter tries the window its join delay divided by the time scale after
    it is heard (a wall-clock 0.3 s at x100 was the join test's largest wait), never sooner."""
    world, devices = world_of()
    key = devices["esme"].label.install_code.link_key().hex()
    engine = TelegesisEngine(world, EUI, join_delay_s=0.3, time_scale=scale)
    run(engine, "ATS00=0001", "AT+EN", f"ATS09={key}:password", "ATS0A8=1:password",
        "AT+PJOIN:3C", now=0.0)  # heard scanning at 0: it tries 0.2..1 of its delay later
    assert engine.due(0.2 * 0.3 / scale * 0.99) == []
    prompts = engine.due(0.3 / scale * 1.001)
    assert prompts and isinstance(tg.parse_line(prompts[0]), tg.NewNode)
    with pytest.raises(ValueError, match="time_scale"):
        TelegesisEngine(world, EUI, time_scale=0)


def test_without_s0a_bit_8_the_well_known_key_is_used_and_fails() -> None:
    world, devices = world_of()
    esme = devices["esme"]
    key = esme.label.install_code.link_key().hex()
    prompts = join_window(TelegesisEngine(world, EUI), (f"ATS09={key}:password",))
    (line,) = prompts
    failed = parse_extension(line)
    assert failed is not None and failed.eui64 == esme.eui64
    assert line == authfail(failed.node_id, esme.eui64)
    assert tg.parse_line(line) == tg.Text(line)  # the codec does not know our extension
    assert not esme.han_status().joined


@pytest.mark.parametrize("fault", ["han_join_fails", "wrong_install_code_label"])
def test_key_faults_fail_authentication(fault: str) -> None:
    world, devices = world_of(fault)
    key = devices["esme"].label.install_code.link_key().hex()
    prompts = join_window(TelegesisEngine(world, EUI),
                          (f"ATS09={key}:password", "ATS0A8=1:password"))
    assert [line.split(":")[0] for line in prompts] == ["AUTHFAIL"]


def test_a_dead_radio_is_silent() -> None:
    world, devices = world_of("han_radio_dead")
    key = devices["esme"].label.install_code.link_key().hex()
    assert join_window(TelegesisEngine(world, EUI),
                       (f"ATS09={key}:password", "ATS0A8=1:password")) == []
    assert [t.slot for t in world.transmitters()] == ["ch"]


def test_ntable_and_dassr_for_a_joined_meter() -> None:
    world, devices = world_of()
    esme = devices["esme"]
    engine = TelegesisEngine(world, EUI)
    key = esme.label.install_code.link_key().hex()
    new = tg.parse_line(join_window(engine, (f"ATS09={key}:password", "ATS0A8=1:password"))[0])
    assert isinstance(new, tg.NewNode)
    table = tg.parse_ntable(run(engine, "AT+NTABLE:00,0000", now=6.0))
    (row,) = table.entries
    assert (row.eui64, row.node_id, row.lqi) == (esme.eui64, new.node_id,
                                                 world.lqi(world.signal_dbm("esme", esme), 11))
    remote = tg.parse_ntable(run(engine, f"AT+NTABLE:00,{new.node_id:04X}", now=6.0))
    assert [r.eui64 for r in remote.entries] == [EUI]
    out = run(engine, f"AT+DASSR:{esme.eui64}", now=6.0)
    assert out == ["SEQ:03", "OK", f"NODELEFT:{new.node_id:04X},{esme.eui64}", "ACK:03"]
    assert not esme.han_status().joined
    assert run(engine, "AT+DASSR:1234", now=6.0) == ["SEQ:04", "OK", "NACK:04"]
