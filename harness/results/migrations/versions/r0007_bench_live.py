"""What a bench holder is doing now, for every screen of the facility: the stage its device is
in, the current that device drew at the latest reading and since when the device has been on
the bench (the database's clock); nullable, written by the live holder as its run goes."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0007"
down_revision = "r0006"
branch_labels = None
depends_on = None

COLUMNS = (("stage", sa.String(80)), ("amps", sa.Float), ("device_since", sa.Float))


def upgrade() -> None:
    """Add the three columns to ``bench_holder`` where absent."""
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("bench_holder")}
    for name, kind in COLUMNS:
        if name not in present:
            op.add_column("bench_holder", sa.Column(name, kind))


def downgrade() -> None:
    """Drop them."""
    for name, _ in COLUMNS:
        op.drop_column("bench_holder", name)
