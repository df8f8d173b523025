"""Signing credentials named by secret references, never in clear; errors name the key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _dcc_driver_helpers import instrument_config

from harness.config.secrets import resolve_references
from harness.domain.types import RemotePartyRole
from harness.drivers.dcc import DccCredentials, load_credentials
from harness.drivers.dcc.duis_http import DuisHttpAdapter
from harness.emulator.dcc import EmulatedDcc, user_party
from harness.emulator.dcc.users import private_key_pem
from harness.emulator.world.credentials import shared_pki
from harness.errors import BenchConfigError, OperationError

PARTY = user_party(shared_pki(0), "supplier")


def load(options: dict[str, Any], *, prefix: str = "options", base: Path | None = None
         ) -> DccCredentials:
    """What a bench does: resolve the secret references, then hand the values to the driver."""
    secrets = resolve_references(options, key_path=prefix, base=base)
    return load_credentials(options, secrets=secrets, prefix=prefix, base=base)


@pytest.fixture
def key_and_cert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test supplier's key in an environment variable, its certificate in a file."""
    monkeypatch.setenv("MB_TEST_DCC_KEY", private_key_pem(PARTY.private_key))
    cert = tmp_path / "supplier.pem"
    cert.write_bytes(PARTY.pem())
    return cert


def test_key_from_the_environment_and_certificate_from_a_file(key_and_cert: Path) -> None:
    options = {"signing_key": "env:MB_TEST_DCC_KEY", "signing_certificate": str(key_and_cert)}
    creds = load(options)
    assert creds.user_id == "90B3D51F30010000"  # the certificate's x500UniqueIdentifier
    assert creds.certificate == PARTY.certificate
    assert "PRIVATE" not in repr(creds)


def test_a_key_file_named_by_a_secrets_file_relative_to_the_bench(tmp_path: Path) -> None:
    (tmp_path / "user.key").write_text(private_key_pem(PARTY.private_key))
    (tmp_path / "secrets.env").write_text("DCC_KEY=user.key\n")
    (tmp_path / "user.pem").write_bytes(PARTY.pem())
    options = {"signing_key": "file:secrets.env#DCC_KEY", "signing_certificate": "user.pem",
               "user_id": "90-B3-D5-1F-30-01-00-00"}
    creds = load(options, base=tmp_path)
    assert creds.duis_id == "90-B3-D5-1F-30-01-00-00"


def test_a_key_written_in_the_bench_file_is_refused() -> None:
    with pytest.raises(BenchConfigError) as caught:
        load({"signing_key": private_key_pem(PARTY.private_key),
                          "signing_certificate": "x.pem"}, prefix="instruments.dcc.options")
    assert caught.value.key_path == "instruments.dcc.options.signing_key"
    assert "never written in a bench file" in str(caught.value)


def test_a_missing_certificate_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MB_TEST_DCC_KEY", private_key_pem(PARTY.private_key))
    with pytest.raises(BenchConfigError) as caught:
        load({"signing_key": "env:MB_TEST_DCC_KEY"})
    assert caught.value.key_path == "options.signing_certificate"
    with pytest.raises(BenchConfigError, match="cannot read"):
        load({"signing_key": "env:MB_TEST_DCC_KEY",
                          "signing_certificate": str(tmp_path / "absent.pem")})


def test_a_key_that_is_not_the_certificates_is_refused(key_and_cert: Path, tmp_path: Path
                                                      ) -> None:
    other = shared_pki(0).organisation(RemotePartyRole.NETWORK_OPERATOR)
    cert = tmp_path / "other.pem"
    cert.write_bytes(other.pem())
    with pytest.raises(BenchConfigError, match="does not belong"):
        load({"signing_key": "env:MB_TEST_DCC_KEY", "signing_certificate": str(cert)})


def test_a_certificate_whose_key_is_not_ec_is_refused() -> None:
    """A non-EC certificate is named as not the key's (found by mypy: it raised AttributeError)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ed25519
    from cryptography.x509.oid import NameOID

    from harness.drivers.dcc.credentials import DccCredentials

    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed25519")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, None))
    with pytest.raises(ValueError, match="does not belong"):
        DccCredentials("90B3D51F30010000", PARTY.private_key, cert)


def test_emulator_references_wait_for_the_emulator() -> None:
    dcc_env = EmulatedDcc(user="rsa")
    dcc_env.start()
    try:
        config = instrument_config(signing_key="emulator:", signing_certificate="emulator:")
        dcc = DuisHttpAdapter("dcc", config, dcc_env.resource).open()  # no credentials yet
        with pytest.raises(OperationError, match="no signing credentials"):
            dcc.read_inventory("00DB120000000001")
        creds = dcc.resolve_credentials(resolve_references(
            config.options, key_path="instruments.dcc.options", emulator=dcc_env.secret))
        assert creds.user_id == dcc_env.users.by_name("rsa").user_id  # type: ignore[union-attr]
        assert dcc.read_inventory("00DB120000000001", check=False).response_code == "E19"
    finally:
        dcc_env.stop()
