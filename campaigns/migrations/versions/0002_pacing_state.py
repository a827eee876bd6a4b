"""pacing state: each engine's last pacing decision per campaign, for dialer status

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 17:21:11.719991
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_state",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explain", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "node"),
    )


def downgrade() -> None:
    op.drop_table("pacing_state")
