"""The emulated bench: every ``emulated = true`` instrument of a bench file, served on loopback.

It builds one emulated device per slot, wires each to the instruments the slot names, and
starts a server per instrument: the emulated twin registered for the instrument's (kind,
backend) in the entry-point group ``meterbench.emulated.<kind>``, found as drivers are, so a
third-party backend ships its own. ``addresses`` is what a driver needs to reach each one,
so the drivers never know they talk to an emulator.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, Self, cast, runtime_checkable

from harness import registry
from harness.config.loader import no_twin_error
from harness.config.models import BenchConfig, InstrumentConfig
from harness.emulator.optical.cosem_security import meter_keys
from harness.emulator.optical.device_registers import optical_password, registers_for_device
from harness.emulator.optical.registers import OpticalRegisters
from harness.emulator.power.scpi import CommandLog, SupplyState
from harness.emulator.world.clock import Clock
from harness.emulator.world.device import EmulatedDevice
from harness.emulator.world.models import create_device
from harness.errors import BackendUnavailableError, BenchConfigError

log = logging.getLogger("meterbench.emulator")


class EmulatedServer(Protocol):
    """What the emulated bench needs of each server it runs."""

    @property
    def resource(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class EmulatedTwin(Protocol):
    """Makes the (not yet started) server of one emulated instrument: registered under its
    backend name in ``meterbench.emulated.<kind>``, called with the bench being started (its
    config, devices, clock, host, command log), the instrument's name and its config."""

    def __call__(self, bench: EmulatedBench, name: str, inst: InstrumentConfig, /
                 ) -> EmulatedServer: ...


def twin_for(name: str, inst: InstrumentConfig, source: str = "<bench>") -> EmulatedTwin:
    """The emulated twin registered for instrument ``name``'s (kind, backend).

    None registered: a BenchConfigError naming the bench file and key path (a missing
    optional module stays a BackendUnavailableError with its install hint)."""
    kind = registry.twin_kind(inst.kind)
    known = registry.known_backends(kind)
    if inst.backend not in known:
        raise no_twin_error(name, inst, source, known)
    twin: object = registry.load_backend(kind, inst.backend)  # a callable, not a class
    if not callable(twin):
        raise BackendUnavailableError(
            f"the emulated twin of {inst.kind} backend {inst.backend!r} is not callable: {twin!r}",
            kind=kind, backend=inst.backend)
    return cast("EmulatedTwin", twin)


@runtime_checkable
class _RegisterServer(Protocol):
    """An emulated optical probe's server (serial or BLE): it serves one device's registers."""

    def replace_registers(self, registers: OpticalRegisters) -> None: ...


@runtime_checkable
class _SecretServer(Protocol):
    """An emulated DCC: it knows its test users' credentials."""

    def secret(self, key: str) -> str | None: ...


@dataclass
class EmulatedBench:
    """A running emulated bench; use as a context manager or call start/stop."""

    config: BenchConfig
    clock: Clock = field(default_factory=Clock)
    source: str = "<bench>"  # the bench file, for errors
    host: str = "127.0.0.1"
    devices: dict[str, EmulatedDevice] = field(default_factory=dict)
    servers: dict[str, EmulatedServer] = field(default_factory=dict)
    supplies: dict[str, SupplyState] = field(default_factory=dict)
    # Other emulated instruments (e.g. a radio world) that must follow a device swap.
    present_listeners: list[Callable[[str, EmulatedDevice], None]] = field(default_factory=list)
    # Where supplies and relays log every command they receive (None: no log).
    command_log: CommandLog | None = None

    def start(self) -> Self:
        """Create the devices and start every emulated instrument's server."""
        # Every twin found before anything starts: a missing one fails fast, nothing to undo.
        twins = {name: twin_for(name, inst, self.source)
                 for name, inst in self.config.instruments.items() if inst.emulated}
        try:
            for slot_name, slot in self.config.slots.items():
                self.devices[slot_name] = create_device(
                    slot_name,
                    slot.device_type,
                    slot.emulation.model,
                    seed=slot.emulation.seed,
                    faults=slot.emulation.faults,
                    clock=self.clock,
                    nominal_voltage=slot.supply_voltage,
                )
            for name, twin in twins.items():
                server = twin(self, name, self.config.instruments[name])
                server.start()
                self.servers[name] = server
        except BaseException:
            self.stop()
            raise
        log.info("emulated bench %s up: %s", self.config.bench.name, self.addresses)
        return self

    def stop(self) -> None:
        """Stop every server (each leaves its outputs off); safe to call twice."""
        while self.servers:
            name, server = self.servers.popitem()
            try:
                server.stop()
            except Exception:
                log.exception("stopping emulated %s", name)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def addresses(self) -> dict[str, str]:
        """Instrument name → the address its driver opens."""
        return {name: server.resource for name, server in self.servers.items()}

    def describe(self) -> dict[str, Any]:
        """Endpoints for people and scripts: ``{"instruments": {...}, "devices": {...}}``."""
        instruments = {
            name: {
                "kind": self.config.instruments[name].kind,
                "backend": self.config.instruments[name].backend,
                # for another process: an in-process port is this process's only
                "address": getattr(server, "shared_resource", server.resource),
                **({"addresses": server.addresses} if hasattr(server, "addresses") else {}),
            }
            for name, server in self.servers.items()
        }
        devices = {
            slot: {
                "device_type": dev.device_type.name,
                "instruments": {
                    role: str(ref) for role, ref in self.config.slots[slot].instruments.items()
                },
            }
            for slot, dev in self.devices.items()
        }
        return {"bench": self.config.bench.name, "instruments": instruments, "devices": devices}

    def present(self, slot: str, device: EmulatedDevice) -> None:
        """Put ``device`` in ``slot``, as an operator swaps the DUT: supply, probe and radio
        now reach it, and the device it replaces is unplugged."""
        cfg = self.config.slots.get(slot)
        if cfg is None:
            raise BenchConfigError(f"no slot named {slot!r}", key_path=f"slots.{slot}")
        if device.device_type is not cfg.device_type:
            raise BenchConfigError(
                f"a {device.device_type.name} cannot go in slot {slot!r} "
                f"(it takes a {cfg.device_type.name})", key_path=f"slots.{slot}.device_type")
        old = self.devices.get(slot)
        if old is not None and old is not device:
            old.supply(0.0)
        self.devices[slot] = device
        for role, ref in cfg.instruments.items():
            if role == "power" and ref.instrument in self.supplies:
                state = self.supplies[ref.instrument]
                with state.lock:
                    channel = state.channels[ref.channel or 1]
                    channel.device = device
                    channel.apply()
            server = self.servers.get(ref.instrument)
            if (self.config.instruments[ref.instrument].kind == "optical_probe"
                    and isinstance(server, _RegisterServer)):
                server.replace_registers(registers_for_device(device))
        for listener in self.present_listeners:
            listener(slot, device)

    def power_slots(self) -> None:
        """Switch every slot's supply channel on at its nominal voltage (the front panel)."""
        for slot in self.config.slots.values():
            ref = slot.instruments.get("power")
            state = self.supplies.get(ref.instrument) if ref else None
            if ref is None or state is None:
                continue
            with state.lock:
                channel = state.channels[ref.channel or 1]
                channel.voltage, channel.current_limit = slot.supply_voltage, slot.current_limit
                channel.output = True
                channel.apply()

    def secret(self, slot: str, key: str) -> str | None:
        """An emulated device's own secret, for ``emulator:`` references in the bench file.

        For an emulated DCC instrument (``slot`` naming it), the test user's credentials."""
        server = self.servers.get(slot)
        if isinstance(server, _SecretServer) and self.config.instruments[slot].kind == "dcc":
            return server.secret(key)
        device = self.devices.get(slot)
        if device is None:
            return None
        if key == "optical_password":
            return optical_password(device)
        return meter_keys(device).secret(key)  # dlms_encryption_key, dlms_authentication_key

    def served_slot(self, name: str) -> str:
        """The one slot whose instruments name ``name`` (a probe serves one meter)."""
        slots = [slot for slot, cfg in self.config.slots.items()
                 if any(ref.instrument == name for ref in cfg.instruments.values())]
        if len(slots) != 1:
            raise BenchConfigError(
                f"emulated {name!r} must serve exactly one slot, not {len(slots)}",
                file=self.source, key_path=f"instruments.{name}",
            )
        return slots[0]
