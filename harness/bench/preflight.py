"""Everything a campaign needs from its bench, checked before the first device (issue 15 §1).

A bench mistake is not a device verdict: a missing secret, a channel the supply does not
have, a profile that is not installed or a malformed instrument address would otherwise end
every device INCONCLUSIVE (or fail deep in a driver with a library's own message). Each is
found here, without opening anything, and named by file and key path.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import urlsplit

from harness.bench.session import BenchSession
from harness.config.models import BenchConfig, InstrumentConfig, SlotConfig
from harness.config.secrets import is_reference, resolve_secret
from harness.devices.profile import load_profile
from harness.errors import BackendUnavailableError, BenchConfigError

__all__ = ["check_before_campaign", "preflight"]

_VISA = re.compile(r"^(TCPIP|ASRL|USB|GPIB|VXI|PXI|VICP)\d*::", re.IGNORECASE)
"""A VISA resource name's interface prefix (``TCPIP::``, ``ASRL3::``, ``USB0::``...)."""
_VISA_FORMS = ("TCPIP::host::port::SOCKET, TCPIP::host::INSTR, ASRL/dev/ttyUSB0::INSTR "
               "(Windows: ASRL3::INSTR for COM3) or USB0::vendor::product::serial::INSTR")
_URL_SCHEMES = {
    "optical_probe": ("rfc2217", "socket", "loop", "hwgrep", "spy", "alt", "cp2110"),
    "zigbee": ("rfc2217", "socket", "loop", "hwgrep", "spy", "alt", "cp2110"),
    "dcc": ("http", "https"),
}
"""The URL schemes each kind's built-in backends open (pyserial's URL handlers; HTTP(S))."""
_ROLE_KINDS = {"power": "power", "optical": "optical_probe", "han": "zigbee"}
"""The instrument kind a slot role needs, where the harness uses the role itself."""


def preflight(session: BenchSession) -> list[BenchConfigError]:
    """Every problem a campaign on ``session``'s bench would meet, each naming file and key
    path (empty: nothing found). Opens nothing and resolves secrets only to check them."""
    config, source = session.config, session.source
    problems: list[BenchConfigError] = []
    for name, inst in config.instruments.items():
        if not inst.emulated:
            problems += _address_problems(name, inst, source)
        channels = inst.options.get("channels")
        if channels is not None and (type(channels) is not int or channels < 1):
            problems.append(BenchConfigError(
                f"{channels!r} is not a number of channels", file=source,
                key_path=f"instruments.{name}.options.channels", expected="a whole number >= 1"))
        problems += _option_secret_problems(name, inst, source)
    for slot_name in config.slots:
        problems += _slot_problems(slot_name, config, source)
    return problems


def check_before_campaign(session: BenchSession) -> None:
    """Raise one BenchConfigError naming every problem :func:`preflight` finds (the first,
    then each other as ``also ...``), or return when the bench has everything it needs."""
    problems = preflight(session)
    if problems:
        first, *rest = problems
        raise BenchConfigError(first.message, file=first.file, key_path=first.key_path,
                               expected=first.expected, more=[str(p) for p in rest])


# -- instruments --------------------------------------------------------------------------


def _address_problems(name: str, inst: InstrumentConfig, source: str) -> list[BenchConfigError]:
    """A real instrument's address, checked for its form: a VISA resource name for a SCPI
    supply (and anything that starts like one), a URL with a known scheme and a sane host and
    port, else a device path (``/dev/ttyUSB0``, ``COM3``) taken as it is."""
    where = f"instruments.{name}.address"
    address = (inst.address or "").strip()
    if not address:
        return [BenchConfigError("a real instrument needs an address (or emulated = true)",
                                 file=source, key_path=where)]
    if _VISA.match(address) or (inst.kind == "power" and inst.backend == "scpi"):
        why = _visa_problem(address)
        return [BenchConfigError(why, file=source, key_path=where, expected=_VISA_FORMS)] \
            if why else []
    if "://" in address:
        why = _url_problem(address, _URL_SCHEMES.get(inst.kind))
        return [BenchConfigError(why, file=source, key_path=where)] if why else []
    return []


def _visa_problem(address: str) -> str | None:
    """Why ``address`` is no VISA resource name a VISA library could open, or None."""
    from pyvisa import rname  # the grammar pyvisa itself uses, without a resource manager

    try:
        parsed = rname.parse_resource_name(address)
    except rname.InvalidResourceName:
        return f"{address!r} is not a VISA resource name"
    host = getattr(parsed, "host_address", None)
    why = _host_problem(str(host)) if host else None
    port = getattr(parsed, "port", None)
    if why is None and port is not None and not (str(port).isdigit()
                                                 and 1 <= int(port) <= 65535):
        why = f"port {port} is not a TCP port (1 to 65535)"
    return f"{address!r}: {why}" if why else None


def _url_problem(address: str, schemes: tuple[str, ...] | None) -> str | None:
    """Why ``address`` is no URL this kind of instrument opens, or None."""
    parts = urlsplit(address)
    scheme = parts.scheme.lower()
    if schemes is not None and scheme not in schemes:
        return f"{address!r}: unknown scheme {parts.scheme!r} (expected {', '.join(schemes)})"
    if scheme in ("rfc2217", "socket", "http", "https"):
        try:
            port = parts.port
        except ValueError:
            return f"{address!r}: the port is not a TCP port (1 to 65535)"
        if not parts.hostname:
            return f"{address!r}: no host"
        why = _host_problem(parts.hostname)
        if why:
            return f"{address!r}: {why}"
        if port is None and scheme in ("rfc2217", "socket"):
            return f"{address!r}: no port (host:port)"
    return None


def _host_problem(host: str) -> str | None:
    """Why a host written as dotted numbers is no IPv4 address (``10.20.0.311``), or None;
    a name is left to the resolver."""
    if re.fullmatch(r"[\d.]+", host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return f"{host} is not an IPv4 address (four numbers 0 to 255)"
    return None


def _option_secret_problems(name: str, inst: InstrumentConfig,
                            source: str) -> list[BenchConfigError]:
    """Each secret reference among an instrument's options, resolved to check it; an
    ``emulator:`` one on a real instrument is left to the driver, which says so when the run
    needs it (a lab's DCC is used only by some commands)."""
    problems = []
    for key, value in inst.options.items():
        if is_reference(value) and (inst.emulated or not value.startswith("emulator:")):
            why = _secret_problem(value, f"instruments.{name}.options.{key}", source,
                                  emulated=inst.emulated)
            if why is not None:
                problems.append(why)
    return problems


# -- slots ----------------------------------------------------------------------------------


def _slot_problems(slot: str, config: BenchConfig, source: str) -> list[BenchConfigError]:
    """A slot's instruments (kind, channel), its profiles (installed, for its device type)
    and the secrets they need (named and resolvable)."""
    cfg = config.slots[slot]
    problems = []
    for role, ref in cfg.instruments.items():
        where = f"slots.{slot}.instruments.{role}"
        inst = config.instruments.get(ref.instrument)
        if inst is None:
            continue  # the loader refuses an unknown instrument name already
        kind = _ROLE_KINDS.get(role)
        if kind is not None and inst.kind != kind:
            problems.append(BenchConfigError(
                f"{ref.instrument!r} is an instrument of kind {inst.kind}", file=source,
                key_path=where, expected=f"a {kind} instrument for the {role!r} role"))
        channels = inst.options.get("channels", 1 if inst.kind == "power" else None)
        if ref.channel is not None and isinstance(channels, int) and \
                not 1 <= ref.channel <= channels:
            problems.append(BenchConfigError(
                f"{ref.instrument} has no channel {ref.channel}", file=source, key_path=where,
                expected=f"a channel 1 to {channels} (its options.channels)"))
    for index, name in enumerate(cfg.all_profiles):
        where = (f"slots.{slot}.profile" if index == 0
                 else f"slots.{slot}.profiles[{cfg.profiles.index(name)}]")
        problems.extend(_profile_problems(slot, cfg, name, where, source))
    emulated = config.emulated
    for key, reference in cfg.secrets.items():
        why = _secret_problem(reference, f"slots.{slot}.secrets.{key}", source,
                              emulated=emulated)
        if why is not None:
            problems.append(why)
    return problems


def _profile_problems(slot: str, cfg: SlotConfig, name: str, where: str,
                      source: str) -> list[BenchConfigError]:
    """One of a slot's profiles: installed, for the slot's device type, its secrets named."""
    try:
        profile = load_profile(name)
    except (BackendUnavailableError, BenchConfigError) as exc:
        return [BenchConfigError(_plain(exc), file=source, key_path=where)]
    problems = []
    types = profile.device_types
    if types and cfg.device_type not in types:
        problems.append(BenchConfigError(
            f"profile {name!r} does not triage a {cfg.device_type.name}", file=source,
            key_path=where, expected="one for " + ", ".join(sorted(t.name for t in types))))
    for key in sorted(profile.required_secrets):
        if key not in cfg.secrets:
            problems.append(BenchConfigError(
                f"profile {name!r} needs the secret {key!r} (the reset opens the "
                "device's programming session with it)", file=source,
                key_path=f"slots.{slot}.secrets.{key}",
                expected=f'{key} = "env:NAME" or "file:PATH#KEY" in the slot\'s secrets'))
    return problems


def _secret_problem(reference: str, key_path: str, source: str, *,
                    emulated: bool) -> BenchConfigError | None:
    """Why ``reference`` cannot be resolved now, or None (an ``emulator:`` secret is the
    emulated device's own, answered when the emulator runs)."""
    if reference.startswith("emulator:"):
        if emulated:
            return None
        return BenchConfigError("emulator: secrets exist only on an emulated slot",
                                file=source, key_path=key_path,
                                expected="env:NAME or file:PATH#KEY on real hardware")
    base = Path(source).parent if source != "<bench>" else None
    try:
        resolve_secret(reference, key_path=key_path, base=base)
    except BenchConfigError as exc:
        return BenchConfigError(exc.message, file=source, key_path=key_path,
                                expected=exc.expected)
    return None


def _plain(exc: Exception) -> str:
    """An error's message without a ``<bench>:`` prefix of its own."""
    return getattr(exc, "message", None) or str(exc)
