"""Drop folders in the store: ``dialer lists source add/list/remove``. Polling them is
``lists.dropfolder``; ``dialer serve`` runs the polls on its scheduler.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import Campaign, ImportedFile, ListSource
from campaigns.retry import parse_duration
from campaigns.service import find_campaign
from campaigns.store import session_scope
from dialer.core.errors import InvalidInput, NotFound
from dialer.core.i18n import _

MIN_EVERY_S = 1


@dataclass(frozen=True)
class SourceView:
    id: int
    campaign: str
    folder: Path
    pattern: str
    every_s: int
    created_at: datetime


def check_folder(folder: Path, why: str = "files are moved out of it once imported") -> Path:
    """An existing folder the service can read and write (``done/``, ``failed/``, exports) in.

    Writing is tried for real (a hidden file made and removed), since permission bits do not stop
    every user (root) and do not tell a read-only mount."""
    resolved = folder.expanduser().absolute()
    if not resolved.is_dir():
        raise InvalidInput(_("folder {folder} does not exist").format(folder=folder))
    if not os.access(resolved, os.R_OK | os.X_OK):
        raise InvalidInput(_("folder {folder} cannot be read").format(folder=folder))
    try:
        with tempfile.NamedTemporaryFile(dir=resolved, prefix=".dialer-probe-"):
            pass
    except OSError as exc:
        raise InvalidInput(
            _("folder {folder} cannot be written ({problem}): {why}").format(
                folder=folder, problem=exc.strerror, why=why
            )
        ) from None
    return resolved


def check_pattern(pattern: str) -> str:
    if not pattern.strip() or "/" in pattern or "\\" in pattern or pattern.startswith("."):
        raise InvalidInput(
            _("bad --pattern {pattern!r}: a file name pattern such as *.csv").format(pattern=pattern)
        )
    return pattern.strip()


def parse_every(text: str) -> int:
    try:
        seconds = int(parse_duration(text.strip()).total_seconds())
    except ValueError as exc:
        raise InvalidInput(f"--every: {exc}") from None
    if seconds < MIN_EVERY_S:
        raise InvalidInput(_("--every must be at least 1s"))
    return seconds


def add_source(engine: Engine, campaign: str, folder: Path, pattern: str, every: str) -> SourceView:
    resolved, checked, every_s = check_folder(folder), check_pattern(pattern), parse_every(every)
    with session_scope(engine) as session:
        row = find_campaign(session, campaign)
        assert row.id is not None
        source = ListSource(campaign_id=row.id, folder=str(resolved), pattern=checked, every_s=every_s)
        session.add(source)
        session.flush()
        return _view(source, row.name)


def list_sources(engine: Engine) -> list[SourceView]:
    with Session(engine) as session:
        rows = session.exec(
            select(ListSource, Campaign)
            .where(ListSource.campaign_id == Campaign.id)
            .order_by(col(ListSource.id))
        ).all()
        return [_view(source, campaign.name) for source, campaign in rows]


def remove_source(engine: Engine, source_id: int) -> None:
    with session_scope(engine) as session:
        source = session.get(ListSource, source_id)
        if source is None:
            raise NotFound(_("no list source {id}").format(id=source_id))
        for seen in session.exec(select(ImportedFile).where(ImportedFile.source_id == source_id)).all():
            session.delete(seen)
        session.delete(source)


def _view(source: ListSource, campaign: str) -> SourceView:
    assert source.id is not None
    return SourceView(
        source.id, campaign, Path(source.folder), source.pattern, source.every_s, source.created_at
    )
