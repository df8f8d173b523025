"""A device result's return date and SMETS generation (from the returns manifest) and the
kind of bench that triaged it: nullable columns, so every older row stays valid (NULL:
not recorded)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0003"
down_revision = "r0002"
branch_labels = None
depends_on = None

COLUMNS = ("return_date", "generation", "bench_kind")


def upgrade() -> None:
    """Add the columns a database made before them lacks (the hand-made path added some)."""
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("device_result")}
    for name in COLUMNS:
        if name not in present:
            op.add_column("device_result", sa.Column(name, sa.String(10)))


def downgrade() -> None:
    """Drop the columns."""
    for name in reversed(COLUMNS):
        op.drop_column("device_result", name)
