"""lead numbers: a lead's alternate numbers and whose turn it is; the caller-ID name column

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 07:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("numbers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("phone_turn", sa.Integer(), server_default="0", nullable=False))
    with op.batch_alter_table("campaign") as batch:
        batch.add_column(
            sa.Column("callerid_name_column", sa.String(length=100), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("callerid_name_column")
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("phone_turn")
        batch.drop_column("numbers")
