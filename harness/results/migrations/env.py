"""Alembic's entry for the results store (its schema history is ``versions/``, applied in
place by :func:`harness.results.migrate.upgrade`): runs the migrations on the connection the
harness hands over (``config.attributes["connection"]``), inside the caller's transaction."""

from __future__ import annotations

from alembic import context

from harness.results.migrate import VERSION_TABLE

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic upgrade head` from a shell: the URL in alembic.ini
    from sqlalchemy import engine_from_config, pool

    engine = engine_from_config(context.config.get_section(context.config.config_ini_section)
                                or {}, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.begin() as conn:
        context.configure(connection=conn, version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
