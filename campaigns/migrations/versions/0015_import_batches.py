"""import batches: a list being imported is not dialable until released; leads keep their file row

Revision ID: 0015
Revises: 0010
Create Date: 2026-11-30 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_list") as batch:
        batch.add_column(sa.Column("importing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("import_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("import_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("import_row", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("import_row")
    with op.batch_alter_table("lead_list") as batch:
        batch.drop_column("import_seen_at")
        batch.drop_column("import_owner")
        batch.drop_column("importing")
