"""Alembic environment: runs on the connection handed in by ``campaigns.store.migrate``.

From the command line (``alembic revision --autogenerate``) it connects to ``sqlalchemy.url``.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

import campaigns.models  # noqa: F401  (registers the tables on SQLModel.metadata)

target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_given = context.config.attributes.get("connection")
if _given is not None:
    _run(_given)
else:
    _url = context.config.get_main_option("sqlalchemy.url") or "sqlite://"
    with create_engine(_url).connect() as _connection:
        _run(_connection)
        _connection.commit()
