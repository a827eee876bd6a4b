"""schedules: campaign opening hours and their events, drop-folder list sources, scheduled job runs

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("days", sa.String(length=40), nullable=False),
        sa.Column("hours", sa.String(length=16), nullable=False),
        sa.Column("zone", sa.String(length=64), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_campaign_schedule_campaign_id"), "campaign_schedule", ["campaign_id"])
    op.create_table(
        "schedule_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_schedule_event_campaign_id"), "schedule_event", ["campaign_id"])
    op.create_table(
        "list_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("folder", sa.String(length=1000), nullable=False),
        sa.Column("pattern", sa.String(length=100), nullable=False),
        sa.Column("every_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_list_source_campaign_id"), "list_source", ["campaign_id"])
    op.create_table(
        "imported_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["lead_list.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["list_source.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "sha256", name="uq_imported_file_content"),
    )
    op.create_index(op.f("ix_imported_file_source_id"), "imported_file", ["source_id"])
    op.create_table(
        "job_run",
        sa.Column("job_id", sa.String(length=100), nullable=False),
        sa.Column("fire_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "fire_at"),
    )


def downgrade() -> None:
    op.drop_table("job_run")
    op.drop_index(op.f("ix_imported_file_source_id"), table_name="imported_file")
    op.drop_table("imported_file")
    op.drop_index(op.f("ix_list_source_campaign_id"), table_name="list_source")
    op.drop_table("list_source")
    op.drop_index(op.f("ix_schedule_event_campaign_id"), table_name="schedule_event")
    op.drop_table("schedule_event")
    op.drop_index(op.f("ix_campaign_schedule_campaign_id"), table_name="campaign_schedule")
    op.drop_table("campaign_schedule")
