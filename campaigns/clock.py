"""The one clock format the store uses: aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC now: the one clock format the store uses."""
    return datetime.now(UTC)
