"""Read a bench file (TOML) into a BenchConfig, with errors that name file, key path and need."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harness.bench.models import BenchConfig, _RefError
from harness.errors import BenchConfigError
from harness.registry import known_backends

_EXPECTED = {
    "missing": "this key to be present",
    "extra_forbidden": "no such key (check the spelling)",
    "literal_error": None,
    "float_parsing": "a number",
    "int_parsing": "an integer",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "dict_type": "a table",
    "list_type": "an array",
}


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
        raise _to_config_error(exc, source, data) from None
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


def _to_config_error(exc: ValidationError, source: str, data: dict[str, Any]) -> BenchConfigError:
    """Summarise pydantic's errors as one BenchConfigError: the first error leads, others follow."""
    lines: list[tuple[str, str, str | None]] = []
    for err in exc.errors():
        ctx_error = (err.get("ctx") or {}).get("error")
        if isinstance(ctx_error, _RefError):
            lines.append((ctx_error.key_path, str(ctx_error), None))
            continue
        loc = [str(p) for p in err["loc"] if not str(p).startswith("function-")]
        key_path = ".".join(loc) or "(top level)"
        message = err["msg"].removeprefix("Value error, ")
        expected = _EXPECTED.get(err["type"])
        if err["type"] == "literal_error":
            expected = f"one of {err['ctx']['expected']}"
            message = f"unknown value {_lookup(data, err['loc'])!r}"
        elif err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "missing key"
        lines.append((key_path, message, expected))
    key_path, message, expected = lines[0]
    more = [f"{k}: {m}" + (f" (expected {e})" if e else "") for k, m, e in lines[1:]]
    return BenchConfigError(
        message, file=source, key_path=key_path, expected=expected, more=more
    )


def _lookup(data: Any, loc: tuple[Any, ...]) -> Any:
    """The value at a pydantic location in the raw data, or None."""
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        else:
            return None
    return data
