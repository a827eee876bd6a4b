"""campaign owner: the one node dialing each campaign; index call attempts by number

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_owner",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_index(op.f("ix_campaign_owner_node"), "campaign_owner", ["node"], unique=False)
    op.create_index("ix_attempt_phone", "call_attempt", ["phone"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_attempt_phone", table_name="call_attempt")
    op.drop_index(op.f("ix_campaign_owner_node"), table_name="campaign_owner")
    op.drop_table("campaign_owner")
