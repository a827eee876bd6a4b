"""campaign state: active, paused, stopped or archived, and a version raised by every change

Replaces the boolean ``active`` column: an inactive campaign becomes ``stopped``.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode lets SQLite rebuild the table where it cannot alter it in place.
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=16), server_default="active", nullable=False))
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    campaign = sa.table("campaign", sa.column("active", sa.Boolean()), sa.column("state", sa.String()))
    op.execute(campaign.update().where(campaign.c.active.is_(False)).values(state="stopped"))
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("active")


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
    campaign = sa.table("campaign", sa.column("active", sa.Boolean()), sa.column("state", sa.String()))
    op.execute(campaign.update().where(campaign.c.state != "active").values(active=False))
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("version")
        batch_op.drop_column("state")
