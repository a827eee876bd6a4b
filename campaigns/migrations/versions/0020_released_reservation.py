"""the preview reservation a lead was last given back from because it ran out: Call or Skip
pressed on it afterwards is told so, not "not found"

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 17:30:00

Adds the nullable ``lead.released_from``. Adding a nullable column rewrites nothing on either
store.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch_op:
        batch_op.add_column(sa.Column("released_from", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch_op:
        batch_op.drop_column("released_from")
