"""The error tree: each phase is also the standard exception that fits, and all pickle."""

from __future__ import annotations

import pickle

import pytest

from harness import errors


@pytest.mark.parametrize(
    ("cls", "std"),
    [
        (errors.BenchConfigError, ValueError),
        (errors.BackendUnavailableError, ImportError),
        (errors.InstrumentConnectError, ConnectionError),
        (errors.InstrumentTimeoutError, TimeoutError),
        (errors.ProtocolError, ValueError),
        (errors.AccessDeniedError, PermissionError),
        (errors.UnsafeStateError, RuntimeError),
        (errors.OperationError, RuntimeError),
        (errors.BenchLockedError, errors.BenchUnavailableError),
    ],
)
def test_each_error_is_also_the_standard_exception(cls: type, std: type) -> None:
    assert issubclass(cls, errors.MeterbenchError)
    assert issubclass(cls, std)


def test_errors_pickle_with_their_context() -> None:
    original = errors.BenchConfigError(
        "unknown key", file="lab.toml", key_path="instruments.psu.kind", expected="power"
    )
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is errors.BenchConfigError
    assert (copy.file, copy.key_path, copy.expected) == ("lab.toml", "instruments.psu.kind",
                                                          "power")
    assert str(copy) == str(original) == (
        "lab.toml: instruments.psu.kind: unknown key (expected power)"
    )
    timeout = pickle.loads(pickle.dumps(errors.InstrumentTimeoutError("slow", instrument="psu")))
    assert timeout.context == {"instrument": "psu"} and str(timeout) == "slow"
    assert isinstance(timeout, TimeoutError)


def test_every_error_class_pickles() -> None:
    for name in dir(errors):
        cls = getattr(errors, name)
        if isinstance(cls, type) and issubclass(cls, errors.MeterbenchError):
            copy = pickle.loads(pickle.dumps(cls("boom", device="00DB123456789012")))
            assert type(copy) is cls and copy.context["device"] == "00DB123456789012"
