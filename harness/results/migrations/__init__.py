"""The results store's schema history as Alembic migrations (``versions/``), applied in place
by :func:`harness.results.migrate.upgrade` when a store is opened for writing."""
