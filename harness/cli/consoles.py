"""The command line's consoles, made per call so COLUMNS and redirection are honoured."""

from __future__ import annotations

from rich.console import Console


def out() -> Console:
    """Standard output console."""
    return Console()


def err() -> Console:
    """Standard error console."""
    return Console(stderr=True)
