"""dialer nodes: each running engine's heartbeat, so another node can take over a silent one

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 19:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialer_node",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_index(op.f("ix_dialer_node_heartbeat_at"), "dialer_node", ["heartbeat_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_dialer_node_heartbeat_at"), table_name="dialer_node")
    op.drop_table("dialer_node")
