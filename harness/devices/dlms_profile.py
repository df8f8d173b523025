"""The ``dlms`` profile: triage over DLMS/COSEM on the optical port (mode E, HDLC, LLS or HLS).

One association per :meth:`session`, as the management client 0x01: high-level security
HLS-GMAC (mechanism 5) when the slot's secrets carry the meter's keys (``dlms_encryption_key`` and
``dlms_authentication_key``, 32 hex digits each), else low-level security with the slot's
``optical_password``; profile option ``ciphered = true`` asks for the ciphered LN context
(every APDU glo-ciphered with those keys). Standard objects where COSEM has them: identity
(Device ID 1..7, 0.0.96.1.x.255; active firmware 1.0.0.2.0.255), the clock (class 8), the
import register (class 3, with its scaler and unit), the event, security and power logs (class
7, read by range on their clock column), the supply (Disconnect control, class 70), the trust
anchors (Security setup, class 64: attribute 6 lists the certificates, export_certificate gives
each one's DER, whose subject OU names its GBCS role and whose SubjectPublicKeyInfo SHA-256 is
the anchor's digest). The resets are COSEM methods: consumer data through the Global Meter
Reset script (0.0.10.0.0.255, documented), the event log through its profile generic ``reset``
(documented); certificates, HAN and lifecycle through the MANUFACTURER-SPECIFIC script table
0.0.10.0.128.255 (class 64 can remove a certificate but not restore a model's original anchors;
the reset is verified by reading the anchors back through class 64). Tamper flags, HAN state,
battery and consumer data counts have no COSEM object: they are read from manufacturer-specific
Data objects holding the reference map's text (see :mod:`harness.emulator.optical.cosem_model`,
which the emulated meters serve).
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from harness.devices import cosem_map as cm
from harness.devices import reference_map as rmap
from harness.devices.profile import DeviceProfile
from harness.devices.records import CertificateInfo, DeviceIdentity, Diagnostics, HanInfo, LogRecord
from harness.domain.certificates import certificate_role
from harness.domain.types import DeviceType, RemotePartyRole
from harness.drivers.optical.dlms import DlmsAccessError, DlmsSession, HlsKeys
from harness.errors import BenchConfigError, OperationError, ProtocolError
from harness.protocols.dlms import CosemDateTime, Data, DataType, Obis
from harness.protocols.dlms import security_setup as s64

LOG_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
"""Start of the range a whole log is read with."""


def _time(value: Data) -> datetime.datetime:
    """A COSEM date-time octet string as UTC, to the second (as the logs keep it)."""
    if value.type not in (DataType.OCTET_STRING, DataType.DATE_TIME):
        raise ProtocolError(f"expected a date-time, got {value}")
    when = CosemDateTime.from_bytes(value.value).to_datetime()
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return when.astimezone(datetime.UTC).replace(microsecond=0)


def _dn(name: x509.Name) -> str:
    """A distinguished name as the mode C route reports it (RFC 4514, no parentheses)."""
    return name.rfc4514_string().replace("(", "").replace(")", "")


def _text(value: Data) -> str:
    if isinstance(value.value, bytes):
        return value.value.decode("ascii", "replace")
    return str(value.value)


class DlmsProfile(DeviceProfile):
    """Meters read over DLMS/COSEM (the emulated meters serve it beside mode C)."""

    name = "dlms"
    device_types = frozenset({DeviceType.ESME, DeviceType.GSME})
    required_secrets = frozenset({"optical_password"})

    _active: DlmsSession | None = None
    _device_type: DeviceType | None = None

    @contextmanager
    def session(self) -> Iterator[None]:
        if self._active is not None:
            yield
            return
        if self.probe is None:
            raise OperationError("the dlms profile talks through an optical probe; it was "
                                 "given none")
        keys = self._hls_keys()
        password = None if keys is not None else self.secret("optical_password")
        ciphered = bool(self.options.get("ciphered", False)) and keys is not None
        with self.probe.dlms(client=cm.MANAGEMENT_CLIENT, password=password, hls=keys,
                             ciphered=ciphered,
                             mode_e=bool(self.options.get("mode_e", True))) as session:
            self._active = session
            try:
                yield
            finally:
                self._active = None

    def _hls_keys(self) -> HlsKeys | None:
        """The meter's keys when the slot's secrets carry both (then HLS), else None (LLS)."""
        names = ("dlms_encryption_key", "dlms_authentication_key")
        given = [name for name in names if name in self._secrets]
        if not given:
            return None
        if len(given) == 1:
            missing = next(name for name in names if name not in given)
            raise BenchConfigError(f"dlms profile: the slot's secrets have {given[0]} but not "
                                   f"{missing}", key_path=f"secrets.{missing}",
                                   expected="both keys (HLS) or neither (LLS)")
        return HlsKeys.from_hex(self._secrets[names[0]], self._secrets[names[1]])

    def _dlms(self) -> DlmsSession:
        if self._active is None:
            raise OperationError("dlms profile used outside a session")
        return self._active

    def _get(self, class_id: int, obis: Obis | str, attribute: int = 2) -> Data:
        with self.session():
            return self._dlms().get(class_id, obis, attribute)

    def _mirror(self, address: str) -> str | None:
        """The text of a manufacturer-specific object; None where the meter holds nothing."""
        try:
            return _text(self._get(1, cm.MIRRORED[address]))
        except DlmsAccessError as exc:
            if exc.context.get("result") == cm.OBJECT_UNAVAILABLE:
                return None
            raise

    def _script(self, table: Obis, script: int) -> None:
        with self.session():
            self._dlms().action(9, table, 1, Data(DataType.LONG_UNSIGNED, script))

    def _type(self) -> DeviceType:
        if self._device_type is None:
            self._device_type = DeviceType.parse(_text(self._get(1, cm.IDENTITY["device_type"])))
        return self._device_type

    # -- the contract ----------------------------------------------------------------------

    def identify(self) -> DeviceIdentity:
        with self.session():
            v = {name: _text(self._get(1, obis)) for name, obis in cm.IDENTITY.items()}
            return DeviceIdentity(
                device_type=DeviceType.parse(v["device_type"]), device_id=v["device_id"],
                serial=_text(self._get(1, cm.SERIAL)), manufacturer=v["manufacturer"],
                model=v["model"], firmware_version=_text(self._get(1, cm.FIRMWARE)),
                smets_version=v["smets_version"], gbcs_version=v["gbcs_version"])

    def read_log(self, kind: str, until: datetime.datetime) -> tuple[LogRecord, ...]:
        """One log's entries up to ``until`` (selective access by range), oldest first."""
        with self.session():
            rows = self._dlms().buffer(cm.LOGS[kind], LOG_EPOCH,
                                       until + datetime.timedelta(days=1))
        return tuple(LogRecord(int(row.value[1].value), _time(row.value[0])) for row in rows)

    def read_diagnostics(self) -> Diagnostics:
        with self.session():
            identity = self.identify()
            device_time = self.read_clock()
            read_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
            gas = identity.device_type is DeviceType.GSME
            han = {a: self._mirror(a) or "" for a in ("96.60.0", "96.60.1", "96.60.2",
                                                      "96.60.3")}
            anchors = self.read_trust_anchors()
            battery = self._mirror("96.6.3") if gas else None
            remaining = self._mirror("96.6.4") if gas else None
            return Diagnostics(
                identity=identity, device_time=device_time, read_at=read_at,
                event_log=self.read_log("event", device_time),
                security_log=self.read_log("security", device_time),
                power_log=self.read_log("power", device_time),
                tamper=frozenset(t for t in (self._mirror("96.50.0") or "").split(",") if t),
                supply=self.read_supply(),
                han=HanInfo(joined=han["96.60.0"] == "1",
                            channel=int(han["96.60.1"]) if han["96.60.1"] else None,
                            pan_id=int(han["96.60.2"], 16) if han["96.60.2"] else None,
                            awaiting_install_code_join=han["96.60.3"] == "1"),
                certificates=tuple(anchors),
                battery_v=float(battery) if battery else None,
                battery_percent=float(remaining) if remaining else None)

    def read_trust_anchors(self) -> tuple[CertificateInfo, ...]:
        """Each anchor slot through class 64: the certificates listed in attribute 6, each
        exported (DER), its role from the subject OU and its SubjectPublicKeyInfo SHA-256."""
        held: dict[RemotePartyRole, CertificateInfo] = {}
        with self.session():
            session = self._dlms()
            listed = s64.CertificateInfo.list_from(session.get(
                s64.SECURITY_SETUP_CLASS, cm.SECURITY_SETUP, 6))
            for info in listed:
                if info.entity == s64.CertificateEntity.SERVER:
                    continue  # the meter's own certificates: not an anchor
                der = session.action(s64.SECURITY_SETUP_CLASS, cm.SECURITY_SETUP,
                                     s64.EXPORT_CERTIFICATE,
                                     s64.by_serial(info.serial_number, info.issuer),
                                     read_only=True)
                if der is None or der.type is not DataType.OCTET_STRING:
                    raise ProtocolError(f"dlms profile: export_certificate answered {der}",
                                        expected="the certificate's DER as an octet-string")
                try:
                    cert = x509.load_der_x509_certificate(bytes(der.value))
                except ValueError:
                    raise ProtocolError("dlms profile: export_certificate gave no X.509 "
                                        "certificate", expected="DER") from None
                subject = _dn(cert.subject)
                if subject.encode() != info.subject:
                    raise ProtocolError(f"dlms profile: certificate {info.serial_number.hex()} "
                                        f"exported with subject {subject!r}, listed as "
                                        f"{info.subject!r}", expected="the listed subject")
                role = certificate_role(cert)
                if role not in rmap.ANCHOR_ROLES:
                    continue
                if role in held:
                    raise ProtocolError(f"dlms profile: two {role.name} trust anchors listed",
                                        expected="one certificate per anchor slot")
                spki = cert.public_key().public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
                held[role] = CertificateInfo(role, subject,
                                             hashlib.sha256(spki).hexdigest().upper())
        return tuple(held.get(role, CertificateInfo(role, None, None))
                     for role in rmap.ANCHOR_ROLES)

    def read_clock(self) -> datetime.datetime:
        return _time(self._get(8, cm.CLOCK))

    def read_supply(self) -> str:
        with self.session():
            state = self._get(70, cm.DISCONNECT_CONTROL, 3).value
            return cm.SUPPLY_TEXT[self._type()].get(int(state), f"unknown ({state})")

    def _set_supply(self, state: str) -> str:
        with self.session():
            session = self._dlms()
            if state in ("disabled", "closed"):
                session.action(70, cm.DISCONNECT_CONTROL, 1)  # remote_disconnect
            elif state == "enabled":
                session.action(70, cm.DISCONNECT_CONTROL, 2)  # remote_reconnect: contacts close
            elif state == "armed" and self._type() is DeviceType.GSME:
                session.action(70, cm.DISCONNECT_CONTROL, 2)  # remote_reconnect: valve armed
            elif state == "armed":
                self._script(cm.MANUFACTURER_SCRIPTS, cm.SCRIPTS["arm"])  # manufacturer-specific
            elif state == "open":
                self._script(cm.MANUFACTURER_SCRIPTS, cm.SCRIPTS["button"])  # manufacturer-specific
            else:
                raise OperationError(f"dlms profile: no supply state {state!r}")
            return self.read_supply()

    def _reset_certificates(self) -> None:
        self._script(cm.MANUFACTURER_SCRIPTS, cm.SCRIPTS["certificates"])  # manufacturer-specific

    def _clear_consumer_data(self) -> None:
        self._script(cm.GLOBAL_RESET, cm.CONSUMER_DATA_SCRIPT)  # documented: Global Meter Reset

    def _reset_han(self) -> None:
        self._script(cm.MANUFACTURER_SCRIPTS, cm.SCRIPTS["han"])  # manufacturer-specific

    def _reset_lifecycle(self) -> None:
        with self.session():
            self._script(cm.MANUFACTURER_SCRIPTS, cm.SCRIPTS["lifecycle"])  # manufacturer-specific
            self._dlms().action(7, cm.LOGS["event"], 1, Data(DataType.INTEGER, 0))  # documented

    def read_consumer_data(self) -> dict[str, str | None]:
        with self.session():
            return {r.name: self._mirror(r.address) for r in rmap.CONSUMER_DATA}

    def read_metrology(self) -> dict[str, str | None]:
        with self.session():
            obis = cm.IMPORT_REGISTER[self._type()]
            try:
                value = int(self._get(3, obis).value)
            except DlmsAccessError as exc:
                if exc.context.get("result") != cm.OBJECT_UNAVAILABLE:
                    raise
                register = None
            else:
                scaler, unit = (d.value for d in self._get(3, obis, 3).value)
                quantity = value * 10.0 ** scaler / (1000 if unit == cm.UNIT_WH else 1)  # kWh or m3
                register = f"{quantity:.3f}"
            return {"import_register": register, "tou_registers": self._mirror("1.8.9")}
