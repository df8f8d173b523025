"""An index over the columns a device search reads (MPxN, label ID, device ID, item key),
MPxN first: an exact MPxN is found at once, and a search within the four columns scans this
narrow index instead of rows kilobytes long (their transcripts and evidence)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "r0006"
down_revision = "r0005"
branch_labels = None
depends_on = None

NAME = "device_result_search"
COLUMNS = ["mpxn", "label_id", "device_id", "item_key"]


def upgrade() -> None:
    """Create the index where it is absent."""
    present = {i["name"] for i in sa.inspect(op.get_bind()).get_indexes("device_result")}
    if NAME not in present:
        op.create_index(NAME, "device_result", COLUMNS)


def downgrade() -> None:
    """Drop the index."""
    op.drop_index(NAME, "device_result")
