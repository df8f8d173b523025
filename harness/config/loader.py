"""Read a bench file (TOML) into a BenchConfig, with errors that name file, key path and need."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.config.errors import validation_error
from harness.config.models import BenchConfig, InstrumentConfig
from harness.errors import BenchConfigError
from harness.registry import group_for, known_backends, twin_kind


def default_bench_path() -> Path:
    """The emulated bench shipped with meterbench (repository checkout or installed wheel)."""
    here = Path(__file__).resolve().parent.parent
    candidates = (here.parent / "benches" / "emulated.toml", here / "_benches" / "emulated.toml")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise BenchConfigError("the default emulated bench file is not installed", file="emulated.toml")


def load_bench(path: str | Path) -> BenchConfig:
    """Load and validate a bench file; every user error is a BenchConfigError, never a traceback."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BenchConfigError("bench file not found", file=str(path)) from None
    except OSError as exc:
        raise BenchConfigError(f"cannot read bench file: {exc.strerror}", file=str(path)) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BenchConfigError(
            f"not UTF-8 text at byte offset {exc.start}", file=str(path), offset=exc.start
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise BenchConfigError(f"not valid TOML: {exc}", file=str(path)) from None
    return parse_bench(data, source=str(path))


def parse_bench(data: dict[str, Any], *, source: str = "<bench>") -> BenchConfig:
    """Validate an already-parsed bench mapping; ``source`` names it in errors."""
    try:
        config = BenchConfig.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, source, data) from None
    _check_backends(config, source)
    return config


def _check_backends(config: BenchConfig, source: str) -> None:
    """Every backend must be registered for its kind (checked by name, nothing imported)."""
    for name, inst in config.instruments.items():
        known = known_backends(inst.kind)
        if inst.backend not in known:
            raise BenchConfigError(
                f"unknown {inst.kind} backend {inst.backend!r}",
                file=source,
                key_path=f"instruments.{name}.backend",
                expected=f"one of {', '.join(known)}" if known else "a registered backend "
                f"(none is registered for {inst.kind!r}: is its plugin installed?)",
            )
        if inst.emulated:
            twins = known_backends(twin_kind(inst.kind))
            if inst.backend not in twins:
                raise no_twin_error(name, inst, source, twins)


def no_twin_error(name: str, inst: InstrumentConfig, source: str,
                  known: list[str]) -> BenchConfigError:
    """The error for an emulated instrument whose backend has no emulated twin registered
    (else it would be served by another backend's twin, which rejects its commands)."""
    return BenchConfigError(
        f"instrument {name!r} is emulated, but no emulated twin is registered for "
        f"{inst.kind} backend {inst.backend!r}",
        file=source, key_path=f"instruments.{name}.backend",
        expected=(f"an emulated {inst.kind} backend: one of {', '.join(known)}" if known
                  else "a package that registers one in the entry-point group "
                  f"{group_for(twin_kind(inst.kind))!r}")
        + "; or a real instrument (address = ...)",
        instrument=name, kind=inst.kind, backend=inst.backend)
