"""contact limits: a campaign's per-number contact-frequency limits (e.g. 230-FZ)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The server default fills existing campaigns with "no limits"; batch mode lets SQLite
    # rebuild the table where it cannot alter it in place.
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("contact_limits", sa.String(length=64), server_default="", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("contact_limits")
