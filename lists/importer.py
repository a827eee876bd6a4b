"""Lead import: a CSV/XLSX file into one campaign, all or nothing.

Each data row ends up in exactly one bucket: imported, duplicate (within the
file or already in the campaign), do-not-call, or invalid. Rows that are not
imported go to a rejects CSV with their 1-based data row number and the reason.
Leads are stored a few thousand per transaction, so the dial engine's writes never wait long,
and the list becomes dialable in one short final step (``lists.staging``); a failure deletes
what was stored, so nothing is ever half-imported.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from campaigns.lead_numbers import LeadNumber, stored_numbers
from campaigns.models import utcnow
from campaigns.region import check_region
from campaigns.service import find_campaign
from campaigns.window import CallingWindow, window_problem
from dialer.core import reasons
from dialer.core.errors import FieldRejected, InvalidInput
from dialer.core.i18n import _
from lists import staging
from lists.cell_numbers import DNC_REASON, CellNumber, CellNumbers, campaign_alternates
from lists.dnc import dnc_phones
from lists.inserter import LeadInserter, widen_sqlite_cache
from lists.lead_zones import LeadZones, ListHours, ZoneSource, list_hours, next_week_start
from lists.limits import shown, some
from lists.numbering import NumberingPlan
from lists.phones import PhoneNormalizer
from lists.reader import find_phone_column, open_table
from lists.rejects import RejectsWriter
from lists.safe_write import OutputRules, check_output, store_files

MAP_FIELDS = ("phone", "timezone", "city", "region", "consent")
_AUTO_HEADERS = {
    "timezone": ("timezone", "time zone", "time_zone", "tz", "часовой пояс", "часовая зона"),
    "city": ("city", "town", "город", "населенный пункт", "населённый пункт"),
    "region": ("region", "регион", "область", "субъект", "субъект рф", "край", "республика"),
    "consent": ("consent", "согласие"),
}
_YES = frozenset({"1", "yes", "y", "true", "on", "+", "да", "д"})
_NO = frozenset({"0", "no", "n", "false", "off", "-", "нет", "н"})
_CHUNK_ROWS = 50_000
COMMIT_ROWS = 500  # leads per write transaction: the engine's writes wait at most one of these

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (done, total) in the table's own unit


@dataclass(frozen=True)
class ImportRequest:
    path: Path
    campaign: str
    region: str | None = None  # None: the campaign's region
    mapping: dict[str, str] = field(default_factory=dict)  # field -> column header
    rejects: Path | None = None  # None: FILE.rejected.csv
    encoding: str | None = None
    delimiter: str | None = None
    header_row: int | None = None  # 1-based; None: the first row naming a phone column
    output_rules: OutputRules | None = None  # how to write the rejects (the store and input always protected)

    @property
    def rejects_path(self) -> Path:
        return self.rejects or self.path.with_name(self.path.name + ".rejected.csv")


@dataclass
class ImportSummary:
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    dnc: int = 0
    invalid: int = 0
    # Imported leads whose candidate zones never share an open hour: reason -> count.
    window_problems: Counter[str] = field(default_factory=Counter)
    # Imported leads by where their zones came from (lists.lead_zones: the order of precedence).
    zone_sources: Counter[ZoneSource] = field(default_factory=Counter)
    hours: ListHours | None = None  # callable hours a day under the campaign's window
    service_numbers: Counter[str] = field(default_factory=Counter)  # imported, by kind (8-800 ...)
    alternates: int = 0  # numbers kept beside a lead's first (several in one cell)
    numbers_left_out: Counter[str] = field(default_factory=Counter)  # of imported leads, by reason
    rejects_path: Path | None = None
    list_id: int | None = None

    def count_numbers(self, kept: list[CellNumber], left_out: list[str]) -> None:
        """An imported lead's numbers: service numbers, alternates, and those left out of a cell."""
        for number in kept:
            if number[0].service:
                self.service_numbers[number[0].service] += 1
        self.alternates += len(kept) - 1
        self.numbers_left_out.update(left_out)

    @property
    def rejected(self) -> int:
        return self.duplicates + self.dnc + self.invalid

    @property
    def strict_intersection(self) -> int:
        """Leads left with several candidate zones, callable only when the window holds in all."""
        return self.zone_sources[ZoneSource.INTERSECTION]

    @property
    def no_common_window(self) -> int:
        return sum(self.window_problems.values())


def parse_mapping(items: list[str]) -> dict[str, str]:
    """``FIELD=COLUMN`` items into a mapping; fields are phone, timezone, city, region and consent."""
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, column = item.partition("=")
        name = name.strip().lower()
        if not sep or not column.strip():
            wrong = _("--map {item!r}: expected FIELD=COLUMN, e.g. phone=Телефон")
        elif name not in MAP_FIELDS:
            wrong = _("--map {item!r}: unknown field; fields: {fields}")
        else:
            mapping[name] = column.strip()
            continue
        raise InvalidInput(wrong.format(item=item[:60], fields=", ".join(MAP_FIELDS)))
    return mapping


def import_leads(store: Engine, request: ImportRequest, progress: Progress | None = None) -> ImportSummary:
    """Import one file into a campaign; ``InvalidInput``/``NotFound`` for anything unusable."""
    with Session(store) as session:
        campaign = find_campaign(session, request.campaign)
    assert campaign.id is not None
    rules = _rejects_rules(store, request)
    check_output(request.rejects_path, rules)  # refused before anything is stored, not after
    table = open_table(request.path, request.encoding, request.delimiter, header_row=request.header_row)
    columns = _resolve_columns(table.columns, request.mapping, request.path)
    region = check_region(request.region or campaign.region)
    window = CallingWindow.parse(campaign.calling_window)
    rows = _RowJudge(PhoneNormalizer(region), window, columns, table.columns)
    rejects = RejectsWriter(request.rejects_path, table.columns, rules)
    staging.clean_abandoned(store)  # a crashed import's leads go before they can look like duplicates
    list_id: int | None = None
    try:
        with store.connect() as read:
            plan = LeadZones(NumberingPlan(read))
            rows.cells.start(dnc_phones(read, campaign.id), campaign_alternates(read, campaign.id), plan)
            list_id = staging.open_batch(store, campaign.id, request.path.name, columns.data)
            summary = ImportSummary(list_id=list_id)
            writer = _BatchWriter(store, campaign.id, list_id, rows, rejects)
            for chunk, done in table.chunks(_CHUNK_ROWS):
                writer.write(rows.judge(chunk, summary, rejects), summary)
                read.commit()  # no read transaction held between chunks
                if progress is not None:
                    progress(done, table.total)
        _check_outcome(summary, rows, request.path)
        summary.hours = list_hours(rows.zone_counts, window, next_week_start(utcnow()))
        staging.release(store, list_id, {"rows_read": summary.read, "rows_imported": summary.imported})
        if summary.rejected:
            summary.rejects_path = rejects.commit()
    except BaseException:
        rejects.discard()
        if list_id is not None:
            _discard_quietly(store, list_id)
        raise
    return summary


def _discard_quietly(store: Engine, list_id: int) -> None:
    """Undo a failed import; if even that fails, the next import's clean-up does it."""
    try:
        staging.discard(store, list_id)
    except Exception:
        log.exception("could not remove the leads of the failed import (list %d) yet", list_id)


class _BatchWriter:
    """Stores judged rows a few thousand per transaction, deduplicated against the store."""

    def __init__(
        self, store: Engine, campaign_id: int, list_id: int, rows: _RowJudge, rejects: RejectsWriter
    ) -> None:
        self._store = store
        self._campaign_id = campaign_id
        self._list_id = list_id
        self._rows = rows
        self._rejects = rejects
        self._inserter = LeadInserter(store.dialect, campaign_id, list_id)
        self._one_writer = store.dialect.name == "sqlite"

    def write(self, candidates: list[_Candidate], summary: ImportSummary) -> None:
        for start in range(0, len(candidates), COMMIT_ROWS):
            batch = candidates[start : start + COMMIT_ROWS]
            began = time.monotonic()
            with self._store.begin() as conn:
                widen_sqlite_cache(conn)
                phones = (number[0].e164 for c in batch for number in c.numbers)
                known = staging.known_phones(conn, self._campaign_id, phones)
                kept = self._drop_duplicates(batch, known, summary)
                self._inserter.insert(conn, [c.lead for c in kept])
                staging.alive(conn, self._list_id)
            for candidate in kept:
                self._rows.count(candidate, summary)
            if self._one_writer:
                # SQLite has one writer, and a writer waiting for it sleeps in its busy handler:
                # leave the lock free as long as this batch held it, so the engine gets its turn.
                time.sleep(time.monotonic() - began)

    def _drop_duplicates(
        self,
        batch: list[_Candidate],
        known: dict[str, tuple[int | None, int | None]],
        summary: ImportSummary,
    ) -> list[_Candidate]:
        """Each candidate's numbers that no lead has yet; a candidate left with none is a duplicate."""
        kept: list[_Candidate] = []
        here: dict[str, int] = {}  # number -> row, within this batch
        for candidate in batch:
            numbers, reason = self._rows.cells.new_numbers(
                candidate.numbers, candidate.row, known, here, self._list_id
            )
            if not numbers:  # a number on a do-not-call list decides the row's bucket
                listed = DNC_REASON in candidate.left_out
                summary.dnc += listed
                summary.duplicates += not listed
                self._rejects.write(candidate.row, DNC_REASON if listed else reason, candidate.values)
                continue
            candidate.left_out.extend([_ANOTHER_LEADS] * (len(candidate.numbers) - len(numbers)))
            candidate.numbers = numbers
            first, zones, _source = numbers[0]
            several = [LeadNumber(p.e164, z) for p, z, _ in numbers]
            candidate.lead |= {
                "phone": first.e164,
                "time_zones": zones,
                "numbers": stored_numbers(several) if len(numbers) > 1 else None,
            }
            kept.append(candidate)
        return kept


_ANOTHER_LEADS = reasons.ANOTHER_LEADS


def _rejects_rules(store: Engine, request: ImportRequest) -> OutputRules:
    rules = request.output_rules or OutputRules(label="--rejects")
    own = store_files(store.url.database) if store.dialect.name == "sqlite" else []
    return replace(rules, store=[*rules.store, *own], inputs=[*rules.inputs, request.path])


@dataclass(frozen=True)
class _Columns:
    phone: str
    timezone: str | None
    city: str | None
    region: str | None
    consent: str | None
    data: list[str]  # every column but the phone column, kept on the lead


def _resolve_columns(headers: list[str], mapping: dict[str, str], path: Path) -> _Columns:
    for name, column in mapping.items():
        if column not in headers:
            raise InvalidInput(
                _("--map {name}={column}: {file} has no column {column!r}").format(
                    name=name, column=column[:40], file=shown(path)
                )
            )
    phone = mapping.get("phone") or find_phone_column(headers)
    if phone is None:
        raise InvalidInput(
            _(
                "{file}: no phone column among {columns}; name one with --map phone=COLUMN, "
                "or the header row with --header-row N"
            ).format(file=shown(path), columns=some(headers))
        )
    found = {key: mapping.get(key) or _auto_column(headers, names) for key, names in _AUTO_HEADERS.items()}
    data = [h for h in headers if h != phone]
    return _Columns(phone, found["timezone"], found["city"], found["region"], found["consent"], data)


def _auto_column(headers: list[str], names: tuple[str, ...]) -> str | None:
    for header in headers:
        if header.strip().casefold() in names:
            return header
    return None


@dataclass(slots=True)
class _Candidate:
    """A valid row not on the do-not-call list, waiting for the store's dedupe."""

    row: int  # 1-based data row
    values: list[str]  # the row as read, for the rejects file
    lead: dict[str, Any]  # without its numbers until the store's dedupe chose them
    numbers: list[CellNumber]  # the cell's usable numbers not on a do-not-call list
    left_out: list[str]  # why other numbers of the cell were left out


class _RowJudge:
    """Decides each row's bucket (invalid, do-not-call, candidate) and builds the lead rows."""

    def __init__(
        self, normalizer: PhoneNormalizer, window: CallingWindow, cols: _Columns, headers: list[str]
    ):
        self._normalizer = normalizer
        self._window = window
        self._cols = cols
        self._headers = headers
        self.cells = CellNumbers(normalizer)
        self._zone_problems: dict[str, str | None] = {}
        self.zone_counts: Counter[str] = Counter()  # imported leads by zones text
        self.first_invalid: list[str] = []

    def judge(self, chunk: Any, summary: ImportSummary, rejects: RejectsWriter) -> list[_Candidate]:
        values = [chunk[h].tolist() for h in self._headers]
        phone_at = self._headers.index(self._cols.phone)
        data_at = [i for i, h in enumerate(self._headers) if h != self._cols.phone]
        empty = [""] * len(values[phone_at])
        place = [
            values[self._headers.index(c)] if c else empty
            for c in (self._cols.timezone, self._cols.city, self._cols.region)
        ]
        consent_at = self._headers.index(self._cols.consent) if self._cols.consent else None
        found: list[_Candidate] = []
        base = summary.read
        for i, raw in enumerate(values[phone_at]):
            row = base + i + 1
            left_out: list[str] = []
            try:
                numbers = self.cells.read(raw, place[0][i], place[1][i], place[2][i], left_out)
                consent = _consent(values[consent_at][i]) if consent_at is not None else None
            except FieldRejected as exc:
                summary.invalid += 1
                self._reject(rejects, row, str(exc), values, i)
                continue
            callable_numbers = self.cells.not_blocked(numbers, left_out)
            if not callable_numbers:
                summary.dnc += 1
                rejects.write(row, DNC_REASON, [col[i] for col in values])
                continue
            data = {self._headers[j]: values[j][i] for j in data_at}
            lead = {"data": data, "consent": consent, "import_row": row}
            found.append(_Candidate(row, [col[i] for col in values], lead, callable_numbers, left_out))
        summary.read += len(values[phone_at])
        return found

    def count(self, candidate: _Candidate, summary: ImportSummary) -> None:
        """Account for a lead the store took."""
        summary.imported += 1
        summary.count_numbers(candidate.numbers, candidate.left_out)
        summary.zone_sources[candidate.numbers[0][2]] += 1
        zones = candidate.lead["time_zones"]
        self.zone_counts[zones] += 1
        problem = self._problem(zones)
        if problem is not None:
            summary.window_problems[problem] += 1

    def _reject(self, rejects: RejectsWriter, row: int, reason: str, values: list[list[str]], i: int) -> None:
        if len(self.first_invalid) < 3:
            self.first_invalid.append(_("row {row}: {reason}").format(row=row, reason=reasons.shown(reason)))
        rejects.write(row, reason, [col[i] for col in values])

    def _problem(self, zones: str) -> str | None:
        if zones not in self._zone_problems:
            names = zones.split(",") if zones else []
            problem = window_problem(names, self._window)
            if problem is not None and len(names) > 1 and "never opens" in problem:
                problem = reasons.NO_COMMON_TIME
            self._zone_problems[zones] = problem
        return self._zone_problems[zones]


def _consent(value: str) -> bool | None:
    text = value.strip().casefold()
    if not text:
        return None
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise FieldRejected(reasons.CONSENT.format(value=repr(value[:40])))


def _check_outcome(summary: ImportSummary, rows: _RowJudge, path: Path) -> None:
    if summary.read == 0:
        raise InvalidInput(_("{file} has a header but no data rows").format(file=shown(path)))
    if summary.invalid == summary.read:
        examples = "; ".join(rows.first_invalid)
        raise InvalidInput(
            _("{file}: none of the {count} rows has a valid phone number ({examples})").format(
                file=shown(path), count=summary.read, examples=examples[:200]
            )
        )
