"""The first results schema: campaigns, device results and measurements.

Created where absent, so an older database made before migrations (by ``create_all``) is
taken over as it is."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the three core tables where they do not exist yet."""
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if "campaign" not in have:
        op.create_table(
            "campaign",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("bench", sa.String(200), nullable=False),
            sa.Column("operator", sa.String(200), nullable=False),
            sa.Column("role", sa.String(40), nullable=False),
            sa.Column("batch_name", sa.String(400), nullable=False),
            sa.Column("started", sa.String(32), nullable=False),
            sa.Column("finished", sa.String(32)))
    if "device_result" not in have:
        op.create_table(
            "device_result",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaign.id"), nullable=False),
            sa.Column("item_key", sa.String(200), nullable=False),
            sa.Column("slot", sa.String(200)),
            sa.Column("device_id", sa.String(64)),
            sa.Column("device_type", sa.String(20), nullable=False),
            sa.Column("model", sa.String(200)),
            sa.Column("label_id", sa.String(200)),
            sa.Column("verdict", sa.String(20), nullable=False),
            sa.Column("category", sa.String(40)),
            sa.Column("duis_return_reason", sa.String(200)),
            sa.Column("reset", sa.Boolean, nullable=False),
            sa.Column("why", sa.Text, nullable=False),
            sa.Column("started", sa.String(32), nullable=False),
            sa.Column("finished", sa.String(32), nullable=False),
            sa.Column("duration_s", sa.Float, nullable=False),
            sa.Column("operator", sa.String(200), nullable=False),
            sa.Column("role", sa.String(40), nullable=False),
            sa.Column("bench", sa.String(200), nullable=False),
            sa.Column("transcript", sa.Text),
            sa.Column("evidence", sa.Text, nullable=False),
            sa.UniqueConstraint("campaign_id", "item_key",
                                name="device_result_once_per_campaign"))
    if "measurement" not in have:
        op.create_table(
            "measurement",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("device_result_id", sa.Integer, sa.ForeignKey("device_result.id"),
                      nullable=False, index=True),
            sa.Column("clause", sa.String(40), nullable=False),
            sa.Column("name", sa.String(200), nullable=False),
            sa.Column("value", sa.Text),
            sa.Column("numeric_value", sa.Float),
            sa.Column("unit", sa.String(40), nullable=False),
            sa.Column("low", sa.Float),
            sa.Column("high", sa.Float),
            sa.Column("expected", sa.Text),
            sa.Column("passed", sa.Boolean, nullable=False))


def downgrade() -> None:
    """Drop the core tables (every result with them)."""
    for name in ("measurement", "device_result", "campaign"):
        op.drop_table(name)
