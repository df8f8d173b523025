"""The bench resolves the secret references of its instruments' options and hands the values
to the drivers, which never resolve one themselves (harness.config.secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.bench.bench import Bench
from harness.config.loader import default_bench_path, load_bench
from harness.config.models import InstrumentConfig
from harness.drivers.zigbee.telegesis import TelegesisDongle
from harness.errors import BenchConfigError


def bench_with_dongle_password(reference: str) -> Bench:
    """benches/emulated.toml with the dongle's register password named by ``reference``."""
    config = load_bench(default_bench_path())
    dongle = config.instruments["dongle"]
    options = {**dongle.options, "password_secret": reference}
    instruments = {**config.instruments, "dongle": dongle.model_copy(update={"options": options})}
    return Bench(config.model_copy(update={"instruments": instruments}),
                 source=str(default_bench_path()))


def test_the_bench_resolves_env_and_file_references_for_the_driver(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MB_TEST_DONGLE_PASSWORD", "s3cret")
    assert bench_with_dongle_password("env:MB_TEST_DONGLE_PASSWORD")._secrets("dongle") == {
        "password_secret": "s3cret"}
    (tmp_path / "lab.env").write_text("DONGLE=other\n")
    reference = f"file:{tmp_path / 'lab.env'}#DONGLE"
    assert bench_with_dongle_password(reference)._secrets("dongle") == {
        "password_secret": "other"}


def test_an_emulated_instrument_gets_its_emulator_references_from_the_emulated_bench() -> None:
    bench = bench_with_dongle_password("env:UNUSED")
    bench.emulated_secret = lambda instrument, key: f"{instrument}/{key}"
    secrets = bench._secrets("dcc")
    assert secrets["signing_key"] == "dcc/signing_key"
    assert secrets["receive_tls_client_ca"] == "dcc/receive_tls_client_ca"


def test_a_missing_variable_is_named_by_its_key_path_before_any_driver_runs() -> None:
    bench = bench_with_dongle_password("env:MB_TEST_NO_SUCH_VARIABLE")
    with pytest.raises(BenchConfigError) as caught:
        bench._secrets("dongle")
    assert caught.value.key_path == "instruments.dongle.options.password_secret"
    assert "MB_TEST_NO_SUCH_VARIABLE is not set" in str(caught.value)


def test_a_driver_does_not_resolve_a_reference_it_was_not_handed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Even with the variable set, a driver built without the bench's values refuses."""
    monkeypatch.setenv("MB_TEST_DONGLE_PASSWORD", "s3cret")
    config = InstrumentConfig(kind="zigbee", backend="telegesis", address="loop://",
                              options={"password_secret": "env:MB_TEST_DONGLE_PASSWORD"})
    with pytest.raises(BenchConfigError, match="not resolved"):
        TelegesisDongle("dongle", config)._password()
    handed = TelegesisDongle("dongle", config, secrets={"password_secret": "s3cret"})
    assert handed._password() == "s3cret"


def test_a_password_written_in_clear_is_refused_without_echoing_it() -> None:
    config = InstrumentConfig(kind="zigbee", backend="telegesis", address="loop://",
                              options={"password_secret": "hunter2"})
    with pytest.raises(BenchConfigError) as caught:
        TelegesisDongle("dongle", config)._password()
    assert "not a secret reference" in str(caught.value) and "hunter2" not in str(caught.value)
