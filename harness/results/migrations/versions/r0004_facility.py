"""Facility mode: a campaign's name (hosts join it by name), the shared queue of its devices
(``claim``: one row per device, claimed by one host at a time under a lease) and who holds
each bench (``bench_holder``: shown when a bench is refused, and by ``meterbench status``)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add ``campaign.name`` (unique where given) and the two facility tables."""
    inspector = sa.inspect(op.get_bind())
    if "name" not in {c["name"] for c in inspector.get_columns("campaign")}:
        op.add_column("campaign", sa.Column("name", sa.String(200)))
        op.create_index("campaign_name_unique", "campaign", ["name"], unique=True)
    if not inspector.has_table("claim"):
        op.create_table(
            "claim",
            sa.Column("campaign_id", sa.Integer, sa.ForeignKey("campaign.id"),
                      primary_key=True),
            sa.Column("item_key", sa.String(200), primary_key=True),
            sa.Column("state", sa.String(12), nullable=False),
            sa.Column("host", sa.String(200)),
            sa.Column("bench", sa.String(200)),
            sa.Column("pid", sa.Integer),
            sa.Column("claimed_at", sa.Float),
            sa.Column("lease_until", sa.Float),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("lost", sa.Text))
        op.create_index("claim_by_state", "claim", ["campaign_id", "state"])
    if not inspector.has_table("bench_holder"):
        op.create_table(
            "bench_holder",
            sa.Column("bench", sa.String(200), primary_key=True),
            sa.Column("host", sa.String(200), nullable=False),
            sa.Column("pid", sa.Integer, nullable=False),
            sa.Column("since", sa.Float, nullable=False),
            sa.Column("heartbeat", sa.Float, nullable=False),
            sa.Column("campaign_id", sa.Integer),
            sa.Column("device", sa.String(200)),
            sa.Column("purpose", sa.String(200)))


def downgrade() -> None:
    """Drop the facility tables and the campaign name."""
    op.drop_table("bench_holder")
    op.drop_index("claim_by_state", "claim")
    op.drop_table("claim")
    op.drop_index("campaign_name_unique", "campaign")
    op.drop_column("campaign", "name")
