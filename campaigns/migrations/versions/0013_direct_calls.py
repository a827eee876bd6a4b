"""direct calls: console settings per campaign, operators' call requests, callback bookkeeping

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 07:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_setting",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("callback_release_s", sa.Integer(), nullable=False),
        sa.Column("preview_hold_s", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "direct_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempt_id", sa.String(length=40), nullable=True),
        sa.Column("refused", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_direct_call_open", "direct_call", ["campaign_id", "attempt_id"])
    op.add_column("callback", sa.Column("attempt_id", sa.String(length=40), nullable=True))
    op.add_column("callback", sa.Column("set_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    op.drop_column("callback", "set_by")
    op.drop_column("callback", "attempt_id")
    op.drop_index("ix_direct_call_open", table_name="direct_call")
    op.drop_table("direct_call")
    op.drop_table("console_setting")
