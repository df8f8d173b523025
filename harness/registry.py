"""Find instrument backends by name through entry points, imported only when asked for.

Each instrument kind has its own entry-point group ``meterbench.<kind>``; the built-in
backends are registered in pyproject.toml exactly as a third-party package registers its own.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points

from harness.errors import BackendUnavailableError

GROUP_PREFIX = "meterbench."

# Which extra brings in which optional module, for the install hint.
_EXTRAS: dict[str, str] = {
    "usb": "usb",
    "bleak": "ble",
    "bumble": "ble-emulation",
    "xdist": "parallel",
}


def group_for(kind: str) -> str:
    """The entry-point group that lists the backends of an instrument kind."""
    return f"{GROUP_PREFIX}{kind}"


def twin_kind(kind: str) -> str:
    """The registry kind of the emulated twins of instrument ``kind``: the servers of its
    ``emulated = true`` instruments, in the group ``meterbench.emulated.<kind>``."""
    return f"emulated.{kind}"


@cache
def _entry_points(kind: str) -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=group_for(kind))}


def known_backends(kind: str) -> list[str]:
    """Names of the registered backends of one kind, sorted."""
    return sorted(_entry_points(kind))


def load_backend(kind: str, name: str) -> type:
    """Import and return the backend class ``name`` of instrument ``kind``.

    An unknown name lists the known ones; a backend whose optional dependency is missing says
    which extra to install.
    """
    eps = _entry_points(kind)
    if name not in eps:
        known = ", ".join(known_backends(kind)) or "none registered"
        raise BackendUnavailableError(
            f"unknown {kind} backend {name!r}; known: {known}", kind=kind, backend=name
        )
    try:
        return eps[name].load()
    except ModuleNotFoundError as exc:
        missing = (exc.name or "").split(".")[0]
        extra = _EXTRAS.get(missing)
        hint = f"pip install 'meterbench[{extra}]'" if extra else f"pip install {missing}"
        raise BackendUnavailableError(
            f"{kind} backend {name!r} needs the module {missing!r}, which is not installed: {hint}",
            kind=kind,
            backend=name,
            missing=missing,
        ) from None


def clear_cache() -> None:
    """Forget the cached entry points (after installing a plugin in the same process)."""
    _entry_points.cache_clear()
