"""What an emulated meter's optical port exposes: identification, readout, registers.

The engine speaks the protocol; a register map gives it meaning. The reference profile's
map over the emulated device models implements this contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from harness.errors import OperationError
from harness.protocols.iec62056_21 import DataSet, Identification


class RegisterError(OperationError):
    """A register read, write or execute the meter refuses; ``code`` is the answer's text."""

    def __init__(self, code: str = "ERROR") -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class PortBehaviour:
    """How well the port works: dead, or losing/corrupting a fraction of its frames; and, for
    a battery meter, whether it sleeps: ``wake_window_s`` (None: always awake) is how long it
    stays awake after the last byte it received, ``wakeup_min_s`` the shortest NUL preamble
    (in line time at 300 Bd) that wakes it (IEC 62056-21 battery wake-up: 2.1-2.3 s)."""

    dead: bool = False
    drop_fraction: float = 0.0
    corrupt_fraction: float = 0.0
    wake_window_s: float | None = None
    wakeup_min_s: float = 2.0


class OpticalRegisters(Protocol):
    """The meter side of the optical port, as the engine needs it."""

    def identification(self) -> Identification:
        """What the meter answers to a sign-on request."""
        ...

    def device_address(self) -> str:
        """The address a request may name (an empty request address always matches)."""
        ...

    def signed_on(self) -> None:
        """A probe signed on (a meter logs local port access)."""
        ...

    def readout(self) -> list[DataSet]:
        """The data readout (mode C, option '0')."""
        ...

    def check_password(self, level: str, password: str) -> bool:
        """Whether ``password`` opens programming mode at ``level`` ('1' P1, '2' P2)."""
        ...

    def read(self, address: str) -> str:
        """R1: a register's value; raise RegisterError to refuse."""
        ...

    def write(self, address: str, value: str) -> None:
        """W1: set a register; raise RegisterError to refuse."""
        ...

    def execute(self, address: str, value: str) -> None:
        """E2: run an operation; raise RegisterError to refuse."""
        ...

    def behaviour(self) -> PortBehaviour:
        """Faults of the port itself."""
        ...


@dataclass
class DictRegisters:
    """A register map held in a dict: for tests and for simple emulated meters."""

    ident: Identification
    address: str = ""
    values: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    password: str = "00000000"
    port: PortBehaviour = PortBehaviour()
    executed: list[tuple[str, str]] = field(default_factory=list)
    sign_ons: int = 0

    def identification(self) -> Identification:
        return self.ident

    def device_address(self) -> str:
        return self.address

    def signed_on(self) -> None:
        self.sign_ons += 1

    def readout(self) -> list[DataSet]:
        return [DataSet(a, v, self.units.get(a)) for a, v in self.values.items()]

    def check_password(self, level: str, password: str) -> bool:
        return level == "1" and password == self.password

    def read(self, address: str) -> str:
        if address not in self.values:
            raise RegisterError()
        return self.values[address]

    def write(self, address: str, value: str) -> None:
        if address not in self.values:
            raise RegisterError()
        self.values[address] = value

    def execute(self, address: str, value: str) -> None:
        self.executed.append((address, value))

    def behaviour(self) -> PortBehaviour:
        return self.port
