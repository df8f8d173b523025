"""A throw-away PostgreSQL server for tests: initdb in a temporary folder, pg_ctl start/stop.

Found in ``/usr/lib/postgresql/*/bin`` (Debian, Ubuntu) or on PATH. initdb refuses to run
as root, so as root the server runs as the ``postgres`` user (``runuser``) in a folder that
user owns. Trust authentication on 127.0.0.1 and a private socket folder: tests only.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SERVER_USER = "postgres"
"""Who runs the server when the tests run as root (the account the Debian package makes)."""
SUPERUSER = "meterbench"
"""The database superuser initdb creates (tests connect as it, without a password)."""


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (not installed, or no user to run it as)."""


def find_bin_dir() -> Path:
    """The folder holding initdb, pg_ctl and postgres; the newest Debian version first."""
    def version(path: str) -> tuple[int, ...]:
        name = Path(path).parent.parent.name
        return tuple(int(p) for p in name.split(".") if p.isdigit())

    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version, reverse=True)
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(on_path)
    for initdb in candidates:
        folder = Path(initdb).resolve().parent  # a symlink on PATH: its real folder
        if (folder / "pg_ctl").exists() and (folder / "postgres").exists():
            return folder
    raise PostgresUnavailable("PostgreSQL is not installed (no initdb and pg_ctl in "
                              "/usr/lib/postgresql/*/bin or on PATH); install it with "
                              "`apt-get install postgresql`")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server: where it keeps its data, its port, and how to reach it."""

    bin_dir: Path
    base: Path
    port: int
    run_as: list[str]

    @property
    def data(self) -> Path:
        """The cluster's data folder."""
        return self.base / "data"

    @property
    def log(self) -> Path:
        """The server's log file (read it when start fails)."""
        return self.base / "server.log"

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.run_as, str(self.bin_dir / tool), *args], cwd=self.base,
                              capture_output=True, text=True, timeout=120, check=False)

    @classmethod
    def start(cls) -> PostgresServer:
        """initdb and start a new server on a free port; PostgresUnavailable when impossible."""
        bin_dir = find_bin_dir()
        run_as: list[str] = []
        owner: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(f"running as root and there is no {SERVER_USER!r} "
                                          "user to run PostgreSQL as (initdb refuses root)"
                                          ) from None
            runuser = shutil.which("runuser")
            if runuser is None:
                raise PostgresUnavailable("running as root without runuser: cannot start "
                                          "PostgreSQL as another user (initdb refuses root)")
            run_as = [runuser, "-u", SERVER_USER, "--"]
        # Not under pytest's basetemp: that folder is private to root, the server user must
        # be able to reach its own data and socket folder.
        base = Path(tempfile.mkdtemp(prefix="meterbench-pg-"))
        if owner is not None:
            os.chown(base, owner.pw_uid, owner.pw_gid)
        server = cls(bin_dir, base, free_port(), run_as)
        try:
            server._init_and_start()
        except BaseException:
            server.stop()
            raise
        return server

    def _init_and_start(self) -> None:
        done = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                         "-E", "UTF8", "--no-sync")
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed ({done.returncode}): "
                                      f"{(done.stderr or done.stdout).strip()}")
        options = (f"-c port={self.port} -c listen_addresses=127.0.0.1 "
                   f"-c unix_socket_directories={self.base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off")
        done = self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                         "-l", str(self.log), "-o", options)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed ({done.returncode}): "
                                      f"{done.stderr.strip()} {log[-2000:]}")

    def create_database(self, name: str) -> str:
        """A new, empty database; its URL."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER,
                             dbname="postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: its data is thrown away) and delete its folder."""
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


def session_server() -> Iterator[PostgresServer]:
    """A throw-away server for a test session fixture (``yield from`` it): the test is
    skipped where PostgreSQL is not installed, and fails instead under MB_REQUIRE_POSTGRES=1
    (CI sets it once it has installed PostgreSQL); stopped, its data deleted, at the end."""
    import pytest

    try:
        import psycopg  # noqa: F401 - the driver the store uses

        server = PostgresServer.start()
    except (ImportError, PostgresUnavailable) as exc:
        reason = f"no PostgreSQL server for these tests: {exc}"
        if os.environ.get("MB_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (MB_REQUIRE_POSTGRES=1)", pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()
