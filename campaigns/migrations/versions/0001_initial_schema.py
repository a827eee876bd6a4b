"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 16:44:30.090574
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=32), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("dial_template", sa.String(length=200), nullable=False),
        sa.Column("caller_id", sa.String(length=80), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("calling_window", sa.String(length=64), nullable=False),
        sa.Column("ring_timeout_s", sa.Integer(), nullable=False),
        sa.Column("max_channels", sa.Integer(), nullable=False),
        sa.Column("originate_rate", sa.Float(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("retry_rules", sa.JSON(), nullable=False),
        sa.Column("connect_limit_s", sa.Float(), nullable=False),
        sa.Column("abandon_cap", sa.Float(), nullable=False),
        sa.Column("abandon_window", sa.String(length=16), nullable=False),
        sa.Column("amd", sa.Boolean(), nullable=False),
        sa.Column("safe_harbour_sound", sa.String(length=255), nullable=True),
        sa.Column("machine_message", sa.String(length=255), nullable=True),
        sa.Column("uk_abandon_rule", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_name"), ["name"], unique=True)

    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("interface", sa.String(length=200), nullable=False),
        sa.Column("desired_state", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_operator_name"), ["name"], unique=True)

    op.create_table(
        "disposition_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "code", name="uq_disposition_campaign_code"),
    )
    op.create_table(
        "dnc_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("dnc_entry", schema=None) as batch_op:
        batch_op.create_index("ix_dnc_phone", ["phone", "campaign_id"], unique=False)

    op.create_table(
        "lead_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("columns", sa.JSON(), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_imported", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lead_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lead_list_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "operator_campaign",
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
        ),
        sa.PrimaryKeyConstraint("operator_id", "campaign_id"),
    )
    op.create_table(
        "lead",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("time_zones", sa.String(length=2000), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_call_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["lead_list.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "phone", name="uq_lead_campaign_phone"),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index("ix_lead_due", ["campaign_id", "status", "next_call_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_lead_list_id"), ["list_id"], unique=False)

    op.create_table(
        "call_attempt",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("node", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ringing_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("connected_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("hangup_cause", sa.Integer(), nullable=True),
        sa.Column("operator", sa.String(length=100), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("abandoned", sa.Boolean(), nullable=False),
        sa.Column("safe_harbour", sa.Boolean(), nullable=False),
        sa.Column("amd_status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("call_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_attempt_campaign_started", ["campaign_id", "started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_attempt_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_attempt_outcome"), ["outcome"], unique=False)

    op.create_table(
        "callback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["lead.id"],
        ),
        sa.ForeignKeyConstraint(
            ["operator_id"],
            ["operator.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_callback_campaign_id"), ["campaign_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_callback_lead_id"), ["lead_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("callback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_callback_lead_id"))
        batch_op.drop_index(batch_op.f("ix_callback_campaign_id"))

    op.drop_table("callback")
    with op.batch_alter_table("call_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_attempt_outcome"))
        batch_op.drop_index(batch_op.f("ix_call_attempt_lead_id"))
        batch_op.drop_index("ix_attempt_campaign_started")

    op.drop_table("call_attempt")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_list_id"))
        batch_op.drop_index("ix_lead_due")

    op.drop_table("lead")
    op.drop_table("operator_campaign")
    with op.batch_alter_table("lead_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lead_list_campaign_id"))

    op.drop_table("lead_list")
    with op.batch_alter_table("dnc_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_dnc_phone")

    op.drop_table("dnc_entry")
    op.drop_table("disposition_code")
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_name"))

    op.drop_table("operator")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_name"))

    op.drop_table("campaign")
