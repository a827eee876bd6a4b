"""shared campaigns: one campaign dialed by several nodes, each with its own share and pacing row

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-30 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("operator") as batch:
        batch.add_column(sa.Column("node", sa.String(length=64), nullable=True))
    op.create_table(
        "campaign_share",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("fence", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ringing", sa.Integer(), server_default="0", nullable=False),
        sa.Column("waiting", sa.Integer(), server_default="0", nullable=False),
        sa.Column("in_call", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ready", sa.Integer(), server_default="0", nullable=False),
        sa.Column("wrapping", sa.Integer(), server_default="0", nullable=False),
        sa.Column("allowance", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id", "node"),
    )


def downgrade() -> None:
    op.drop_table("campaign_share")
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("node")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("shared")
