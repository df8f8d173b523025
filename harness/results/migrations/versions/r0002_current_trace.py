"""A device's current-draw trace: one row per device result (samples as JSON)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create ``current_trace`` where it does not exist yet."""
    if sa.inspect(op.get_bind()).has_table("current_trace"):
        return
    op.create_table(
        "current_trace",
        sa.Column("device_result_id", sa.Integer, sa.ForeignKey("device_result.id"),
                  primary_key=True, autoincrement=False),
        sa.Column("clause", sa.String(40), nullable=False),
        sa.Column("current_limit_a", sa.Float),
        sa.Column("sample_count", sa.Integer, nullable=False),
        sa.Column("samples", sa.Text, nullable=False))


def downgrade() -> None:
    """Drop the traces."""
    op.drop_table("current_trace")
