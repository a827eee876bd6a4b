"""owner fence: a counter bumped each time a node takes a campaign, checked when dialing

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 07:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_owner") as batch:
        batch.add_column(sa.Column("fence", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("campaign_owner") as batch:
        batch.drop_column("fence")
