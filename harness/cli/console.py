"""``meterbench console``: serve the operator console (``harness.console``) under uvicorn.

``console [--db URL] [--audit-db URL] [--bench FILE...] [--host 127.0.0.1] [--port N]
[--accounts FILE]``; ``console --add-account NAME [--accounts FILE]`` adds a local account
(the password read twice from the terminal, stored scrypt-hashed).  It binds to loopback
unless ``--host`` says otherwise.  Every mistake (no accounts file, no audit log, a bad bench
file) is one ``error:`` line and exit status 2 before anything is served.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.errors import fail, usage_error
from harness.config.models import MAX_TIME_SCALE
from harness.errors import MeterbenchError
from harness.results.store import DEFAULT_DB_URL

DEFAULT_PORT = 8150


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def console_command(
    db: Annotated[str, typer.Option(
        "--db", help="Results store URL (e.g. sqlite:///meterbench.db).")] = DEFAULT_DB_URL,
    audit_db: Annotated[str | None, typer.Option(
        "--audit-db", help="Audit log URL (default: the --db database); it must exist "
                           "(`meterbench audit init`).")] = None,
    bench: Annotated[list[Path] | None, typer.Option(
        "--bench", "-b", help="A bench of this host (repeat for each bench).")] = None,
    host: Annotated[str, typer.Option(
        "--host", help="Address to listen on (default loopback only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help="TCP port.")] = DEFAULT_PORT,
    accounts: Annotated[Path | None, typer.Option(
        "--accounts", help="Console accounts file (default $MB_CONSOLE_ACCOUNTS, else "
                           "/etc/meterbench/console-accounts.yaml).")] = None,
    add_account: Annotated[str | None, typer.Option(
        "--add-account", help="Add (or reset) a local account NAME in the accounts file and "
                              "exit; the password is asked on the terminal.")] = None,
    time_scale: Annotated[float | None, typer.Option(
        "--time-scale", min=1.0, max=MAX_TIME_SCALE,
        help="Campaigns on emulated benches run N times faster.")] = None,
) -> None:
    """Serve the operator console: the line, prompts, history and the audit trail."""
    from harness.console.accounts import Accounts, accounts_path, load_accounts
    from harness.console.accounts import add_account as add

    path = accounts_path(accounts)
    if add_account is not None:
        password = typer.prompt(f"password for {add_account}", hide_input=True,
                                confirmation_prompt=True)
        try:
            add(path, add_account, password)
        except (MeterbenchError, ValueError) as exc:
            usage_error(str(exc))
        typer.echo(f"account {add_account} written to {path}")
        return
    import uvicorn

    from harness.console.app import Settings, create_app
    from harness.triage.audit import AuditLogError, AuditLogMissingError
    from harness.triage.site import resolve_site

    try:
        from harness.config.loader import load_bench

        configs = [load_bench(p) for p in bench or []]
        emulated = bool(configs) and all(c.instruments and all(
            i.emulated for i in c.instruments.values()) for c in configs)
        site = resolve_site(emulated=emulated)
        # A site whose operators all sign in by its directory needs no local accounts file.
        local = load_accounts(path) if path.exists() or site.directory is None else \
            Accounts(f"{path} (absent: the site's directory only)", {})
        settings = Settings(db=db, audit_db=audit_db or db, accounts=local,
                            site=site, bench_files=list(bench or []),
                            base_url=f"http://{host if _loopback(host) else '127.0.0.1'}:{port}",
                            time_scale=time_scale)
        app = create_app(settings)
    except (AuditLogMissingError, AuditLogError) as exc:
        usage_error(f"{exc} (the console records every sign-in and action there: create it "
                    "with `meterbench audit init --db URL`)")
    except MeterbenchError as exc:
        fail(exc)
    if not _loopback(host):
        typer.echo(f"warning: listening on {host}, not loopback: put TLS in front of it "
                   "(sessions are cookies)", err=True)
    typer.echo(f"meterbench console on http://{host}:{port}/ (site: {settings.site.source})",
               err=True)
    # Open event streams never end by themselves: a shutdown closes them after 3 s (the
    # campaigns running are then interrupted, their benches put in their safe state).
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=3)
