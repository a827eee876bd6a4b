"""retry index in list order: the unclaimed retries of a campaign by id, so that a claim late
in a campaign finds the lowest due ids without reading every due retry

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 10:40:00

Building it reads the lead table once and holds off writes to it meanwhile: upgrade with
no engine running.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the schema of its own day.
_CONDITION = "status IN ('new', 'scheduled') AND claimed_by IS NULL AND next_call_at IS NOT NULL"


def upgrade() -> None:
    where = sa.text(_CONDITION)
    op.create_index(
        "ix_lead_retry_id",
        "lead",
        ["campaign_id", "id"],
        unique=False,
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_lead_retry_id", table_name="lead")
