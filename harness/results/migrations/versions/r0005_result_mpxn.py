"""A device result's MPxN (the MPAN or MPRN the returns manifest gave): a nullable column, so
every older row stays valid (NULL: not recorded), and the console finds a device by it."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0005"
down_revision = "r0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``device_result.mpxn`` where it is absent."""
    present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("device_result")}
    if "mpxn" not in present:
        op.add_column("device_result", sa.Column("mpxn", sa.String(13)))


def downgrade() -> None:
    """Drop the column."""
    op.drop_column("device_result", "mpxn")
