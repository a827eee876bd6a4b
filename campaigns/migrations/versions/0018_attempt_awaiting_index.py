"""an operator's connected calls awaiting a disposition: the console's pop reads them by operator
instead of every attempt of the last hours

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 11:40:00

Building it reads the call_attempt table once and holds off writes to it meanwhile: upgrade with
no engine running.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the schema of its own day.
_CONDITION = "disposition IS NULL AND connected_at IS NOT NULL"


def upgrade() -> None:
    where = sa.text(_CONDITION)
    op.create_index(
        "ix_attempt_awaiting",
        "call_attempt",
        ["operator", "connected_at"],
        unique=False,
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_attempt_awaiting", table_name="call_attempt")
