"""Help as a reader sees it: plain metavars (PATH, N, TEXT) in place of typer's type names
(``<list[Path]>``, ``<bool>`` beside a flag, ``<int range>``)."""

from __future__ import annotations

from typing import Any

_METAVARS = {"Path": "PATH", "list[Path]": "PATH", "int": "N", "list[int]": "N",
             "float": "NUMBER", "str": "TEXT", "list[str]": "TEXT"}


def tidy_help(command: Any, parent: Any = None) -> None:
    """Give every option of ``command`` and its sub-commands (help option included) a plain
    metavar: none for a flag, PATH, N, NUMBER or TEXT for a value; choices keep theirs."""
    ctx = command.context_class(command, info_name=command.name, parent=parent)
    for param in command.get_params(ctx):
        if param.param_type_name != "option" or param.metavar is not None:
            continue
        if getattr(param, "is_flag", False):
            param.metavar = ""
            continue
        bare = param.bare_type() if hasattr(param, "bare_type") else ""
        if bare in _METAVARS:
            param.metavar = _METAVARS[bare]
    for sub in getattr(command, "commands", {}).values():
        tidy_help(sub, ctx)
