"""console: accounts, sessions, pause codes, scripts, dispositions, surveys, console events

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"  # 0006-0008 land from other branches; until then this needs "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_user_account_name"), "user_account", ["name"], unique=True)
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"], unique=False)
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_login_failure_name_at", "login_failure", ["name", "at"], unique=False)
    op.create_table(
        "pause_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "campaign_script",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=20000), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("campaign_id"),
    )
    op.create_table(
        "console_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("attempt_id", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "survey_question",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("text", sa.String(length=1000), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("choices", sa.JSON(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaign.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("campaign_id", "key", name="uq_survey_campaign_key"),
    )
    op.create_index(op.f("ix_survey_question_campaign_id"), "survey_question", ["campaign_id"], unique=False)
    op.create_table(
        "survey_answer",
        sa.Column("attempt_id", sa.String(length=40), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["attempt_id"], ["call_attempt.id"]),
        sa.ForeignKeyConstraint(["question_id"], ["survey_question.id"]),
        sa.PrimaryKeyConstraint("attempt_id", "question_id"),
    )
    with op.batch_alter_table("call_attempt") as batch:
        batch.add_column(sa.Column("note", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("operator") as batch:
        batch.add_column(sa.Column("desired_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pause_reason", sa.String(length=32), nullable=True))
    with op.batch_alter_table("disposition_code") as batch:
        batch.add_column(sa.Column("label_ru", sa.String(length=200), server_default="", nullable=False))
        batch.add_column(sa.Column("retry_in_s", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("dnc", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("callback", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch.add_column(sa.Column("position", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("disposition_code") as batch:
        for name in ("position", "callback", "dnc", "retry_in_s", "label_ru"):
            batch.drop_column(name)
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("pause_reason")
        batch.drop_column("desired_at")
    with op.batch_alter_table("call_attempt") as batch:
        batch.drop_column("disposed_at")
        batch.drop_column("note")
    op.drop_table("survey_answer")
    op.drop_index(op.f("ix_survey_question_campaign_id"), table_name="survey_question")
    op.drop_table("survey_question")
    op.drop_table("console_event")
    op.drop_table("campaign_script")
    op.drop_table("pause_code")
    op.drop_index("ix_login_failure_name_at", table_name="login_failure")
    op.drop_table("login_failure")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_index(op.f("ix_user_account_name"), table_name="user_account")
    op.drop_table("user_account")
