"""wrap-up held until disposition (campaign limit and default code); lead edits with their audit

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Server defaults fill existing campaigns with "no held wrap-up"; batch mode lets SQLite
    # rebuild the table where it cannot alter it in place.
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wrapup_limit_s", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("wrapup_code", sa.String(length=32), server_default="", nullable=False))
    op.create_table(
        "lead_edit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.String(length=40), nullable=True),
        sa.Column("user_name", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("old_value", sa.String(length=2000), nullable=True),
        sa.Column("new_value", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_lead_edit_lead_id", "lead_edit", ["lead_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_lead_edit_lead_id", table_name="lead_edit")
    op.drop_table("lead_edit")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_column("wrapup_code")
        batch_op.drop_column("wrapup_limit_s")
