"""claim indexes: partial indexes that keep claims, releases and due counts as cheap at
ten million leads as at ten thousand; open attempts by campaign and by node

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:40:00

Building them reads the whole lead table once per index and holds off writes to it
meanwhile: upgrade with no engine running.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the schema of its own day.
_UNCLAIMED = "status IN ('new', 'scheduled') AND claimed_by IS NULL"
_LEAD_INDEXES: list[tuple[str, list[str], str]] = [
    ("ix_lead_fresh", ["campaign_id", "id"], f"{_UNCLAIMED} AND next_call_at IS NULL"),
    ("ix_lead_retry", ["campaign_id", "next_call_at", "id"], f"{_UNCLAIMED} AND next_call_at IS NOT NULL"),
    ("ix_lead_claimed", ["claimed_by"], "claimed_by IS NOT NULL"),
]
_ATTEMPT_INDEXES: list[tuple[str, list[str], str]] = [
    ("ix_attempt_open", ["campaign_id"], "ended_at IS NULL"),
    ("ix_attempt_open_node", ["node"], "ended_at IS NULL"),
]


def _where(condition: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(condition), "postgresql_where": sa.text(condition)}


def upgrade() -> None:
    for table, indexes in (("lead", _LEAD_INDEXES), ("call_attempt", _ATTEMPT_INDEXES)):
        for name, columns, condition in indexes:
            op.create_index(name, table, columns, unique=False, **_where(condition))


def downgrade() -> None:
    for table, indexes in (("call_attempt", _ATTEMPT_INDEXES), ("lead", _LEAD_INDEXES)):
        for name, _columns, _condition in reversed(indexes):
            op.drop_index(name, table_name=table)
