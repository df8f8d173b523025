"""Run Python code in a child process that looks like Windows to meterbench: no ``fcntl``,
``pwd``, ``grp``, ``termios`` or ``resource``, no ``os.getuid``/``geteuid``, no ``SIGHUP``.

Third-party libraries that pick a platform backend at import (pyserial, filelock, pyvisa,
pytest's plugins) are imported first, as they would load their Windows backends there; only
what is imported afterwards — meterbench itself — meets the blocked modules.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SHIM = """
import os, signal, sys
import filelock, platformdirs, pytest, pyvisa, serial, serial.rfc2217, _pytest.config
from importlib.metadata import entry_points
for _ep in entry_points(group="pytest11"):
    if _ep.value.split(".")[0] != "harness":
        _ep.load()
for _name in ("fcntl", "pwd", "grp", "termios", "resource", "tty"):
    sys.modules[_name] = None  # any import of it now raises ImportError
for _name in ("getuid", "geteuid", "getegid", "getgroups"):
    if hasattr(os, _name):
        delattr(os, _name)
if hasattr(signal, "SIGHUP"):
    delattr(signal, "SIGHUP")
os.environ.setdefault("USERNAME", "labuser")  # what getpass reads on Windows
"""


def run_posixless(code: str, *args: str, cwd: Path | None = None,
                  timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``SHIM`` then ``code`` (with ``args`` as sys.argv[1:]) in a fresh interpreter."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", SHIM + code, *args], capture_output=True,
                          text=True, timeout=timeout, cwd=cwd or REPO, env=env)
