"""import batches (a list being imported is not dialable until released; leads keep their file row)
and the service's folder jobs (do-not-call refresh, scheduled exports)

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_list") as batch:
        batch.add_column(sa.Column("importing", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("import_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("import_seen_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("lead") as batch:
        batch.add_column(sa.Column("import_row", sa.Integer(), nullable=True))
    op.create_table(
        "scheduled_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("pattern", sa.String(length=100), nullable=False),
        sa.Column("outputs", sa.String(length=200), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_scheduled_task_campaign_id"), "scheduled_task", ["campaign_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_scheduled_task_campaign_id"), table_name="scheduled_task")
    op.drop_table("scheduled_task")
    with op.batch_alter_table("lead") as batch:
        batch.drop_column("import_row")
    with op.batch_alter_table("lead_list") as batch:
        batch.drop_column("import_seen_at")
        batch.drop_column("import_owner")
        batch.drop_column("importing")
