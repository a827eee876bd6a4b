"""retries marked once due: a claim finds the lowest due ids in list order without reading the
retries not due yet that come before them; a shared campaign's rate allowance per node

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 14:00:00

Adds the nullable ``lead.ready_for`` and two partial indexes in place of ``ix_lead_retry``
(the waiting one reads the due range instead, without the retries marked due). Building them reads the lead
table once and holds off writes to it meanwhile: upgrade with no engine running. Adds
``campaign_share.rate_allowance``: the calls a second a node of a shared campaign may place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# Written out, not imported: a migration keeps the schema of its own day.
_RETRY = "status IN ('new', 'scheduled') AND claimed_by IS NULL AND next_call_at IS NOT NULL"
_INDEXES = (
    (
        "ix_lead_waiting",
        ["campaign_id", "status", "next_call_at"],
        f"{_RETRY} AND (ready_for IS NULL OR ready_for <> next_call_at)",
    ),
    ("ix_lead_ready", ["campaign_id", "id"], f"{_RETRY} AND ready_for = next_call_at"),
)


def upgrade() -> None:
    with op.batch_alter_table("lead") as batch_op:
        batch_op.add_column(sa.Column("ready_for", sa.DateTime(timezone=True), nullable=True))
    op.drop_index("ix_lead_retry", table_name="lead")
    with op.batch_alter_table("campaign_share") as batch_op:
        batch_op.add_column(sa.Column("rate_allowance", sa.Float(), server_default="0", nullable=False))
    for name, columns, condition in _INDEXES:
        where = sa.text(condition)
        op.create_index(name, "lead", columns, unique=False, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    with op.batch_alter_table("campaign_share") as batch_op:
        batch_op.drop_column("rate_allowance")
    for name, _columns, _condition in reversed(_INDEXES):
        op.drop_index(name, table_name="lead")
    where = sa.text(_RETRY)
    op.create_index(
        "ix_lead_retry",
        "lead",
        ["campaign_id", "next_call_at", "id"],
        sqlite_where=where,
        postgresql_where=where,
    )
    with op.batch_alter_table("lead") as batch_op:
        batch_op.drop_column("ready_for")
