"""One poll of a drop folder: import each settled file, then move it out of the way.

- A file goes through the same importer as ``dialer lists import`` (dedupe, do-not-call,
  rejects), in small committed batches whose leads become dialable only once the whole file
  is in (``lists.staging``): it is imported whole or not at all.
- Imported: moved to ``done/``, its rejects file (if any rows were rejected) beside it.
- Refused by the importer (no phone column, no valid row, unreadable...): moved to ``failed/``
  with ``NAME.reason.txt`` saying why.
- Still being written (its size or modification time changed while we looked, or it was
  modified within ``settle_s``): left alone for the next poll.
- Already imported (same content, by SHA-256, from this source): moved to ``done/`` adding
  nothing.

Blocking work: ``dialer serve`` runs polls on worker threads, never on the engine's event loop.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from campaigns.models import ImportedFile
from campaigns.store import session_scope
from dialer.core.errors import UserError
from lists.importer import ImportRequest, import_leads
from lists.sources import SourceView, check_folder

log = logging.getLogger(__name__)

DONE, FAILED = "done", "failed"
_SUFFIXES_SKIPPED = (".rejected.csv", ".reason.txt", ".part", ".tmp")


@dataclass
class PollReport:
    imported: dict[str, int] = field(default_factory=dict)  # file -> leads imported
    failed: dict[str, str] = field(default_factory=dict)  # file -> reason
    waiting: list[str] = field(default_factory=list)  # still being written
    repeated: list[str] = field(default_factory=list)  # already imported: nothing added

    def summary(self) -> str:
        return (
            f"imported {len(self.imported)} files ({sum(self.imported.values())} leads), "
            f"failed {len(self.failed)}, waiting {len(self.waiting)}, repeated {len(self.repeated)}"
        )


def poll(store: Engine, source: SourceView, settle_s: float = 1.0) -> PollReport:
    """Import what is ready in the folder; ``InvalidInput`` if the folder itself is unusable."""
    folder = check_folder(source.folder)
    report = PollReport()
    ready, report.waiting = settled_files(folder, source.pattern, settle_s)
    for path in ready:
        _take(store, source, path, report)
    return report


def settled_files(folder: Path, pattern: str, settle_s: float) -> tuple[list[Path], list[str]]:
    """The files matching ``pattern`` that nobody is writing any more, and the names still changing."""
    candidates = sorted(
        p
        for p in folder.glob(pattern)
        if p.is_file() and not p.name.startswith(".") and not p.name.endswith(_SUFFIXES_SKIPPED)
    )
    sizes = {p: _signature(p) for p in candidates}
    if candidates:
        time.sleep(settle_s)
    ready: list[Path] = []
    waiting: list[str] = []
    for path in candidates:
        now_sig = _signature(path)
        if now_sig is None:
            continue  # gone meanwhile
        if now_sig != sizes[path] or time.time() - now_sig[1] < settle_s:
            waiting.append(path.name)
        else:
            ready.append(path)
    return ready, waiting


def _signature(path: Path) -> tuple[int, float] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime


def _take(store: Engine, source: SourceView, path: Path, report: PollReport) -> None:
    digest = _sha256(path)
    done = _subfolder(path.parent, DONE)
    if _seen(store, source.id, digest):
        log.info("%s was imported before: nothing added", path.name)
        _move(path, done)
        report.repeated.append(path.name)
        return
    target = _free_name(done, path.name)
    request = ImportRequest(
        path=path, campaign=source.campaign, rejects=done / (target.name + ".rejected.csv")
    )
    try:
        summary = import_leads(store, request)
    except UserError as exc:
        _fail(path, str(exc), report)
        return
    except Exception as exc:  # an unreadable file must not stop the folder: keep it with the reason
        log.exception("importing %s failed", path)
        _fail(path, f"{type(exc).__name__}: {exc}", report)
        return
    path.replace(target)
    _remember(store, source.id, digest, path.name, summary.list_id)
    report.imported[path.name] = summary.imported
    log.info(
        "imported %s into %s: %d leads, %d rejected",
        path.name,
        source.campaign,
        summary.imported,
        summary.rejected,
    )


def _fail(path: Path, reason: str, report: PollReport) -> None:
    move_failed(path, reason)
    report.failed[path.name] = reason


def move_done(path: Path) -> Path:
    """Move a file taken in to ``done/`` beside it (under a free name)."""
    return _move(path, _subfolder(path.parent, DONE))


def move_failed(path: Path, reason: str) -> Path:
    """Move a file that could not be taken in to ``failed/``, with ``NAME.reason.txt`` saying why."""
    failed = _subfolder(path.parent, FAILED)
    target = _move(path, failed)
    target.with_name(target.name + ".reason.txt").write_text(reason.strip() + "\n", encoding="utf-8")
    log.warning("could not take in %s: %s (moved to %s)", path.name, reason, failed)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _seen(store: Engine, source_id: int, digest: str) -> bool:
    with Session(store) as session:
        found = session.exec(
            select(ImportedFile).where(ImportedFile.source_id == source_id, ImportedFile.sha256 == digest)
        ).first()
    return found is not None


def _remember(store: Engine, source_id: int, digest: str, name: str, list_id: int | None) -> None:
    try:
        with session_scope(store) as session:
            session.add(ImportedFile(source_id=source_id, sha256=digest, name=name[:255], list_id=list_id))
    except IntegrityError:
        pass  # the same content imported twice at once: the importer's dedupe added nothing the second time


def _subfolder(folder: Path, name: str) -> Path:
    sub = folder / name
    sub.mkdir(exist_ok=True)
    return sub


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stem = time.strftime("%Y%m%dT%H%M%S")
    n = 1
    while (folder / f"{stem}-{n}-{name}").exists():
        n += 1
    return folder / f"{stem}-{n}-{name}"


def _move(path: Path, folder: Path) -> Path:
    target = _free_name(folder, path.name)
    path.replace(target)
    return target
