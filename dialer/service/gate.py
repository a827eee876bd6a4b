"""Which campaigns may place new calls now: their schedule rules (``campaigns.schedule``), read from
the store every few seconds. Each opening and closing is logged and recorded for ``dialer status``.

The engine asks ``ScheduleGate.__call__`` once per campaign per tick, for the campaigns this node
dials; a closed campaign places no new call, and its live calls finish as usual.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from campaigns.models import Campaign
from campaigns.schedule import ScheduleRule, is_open, next_change
from campaigns.schedules import record_event, rules_by_campaign

log = logging.getLogger(__name__)


class ScheduleGate:
    def __init__(self, store: Engine, node: str, reload_s: float = 2.0) -> None:
        self._store = store
        self._node = node
        self._reload_s = reload_s
        self._rules: dict[int, list[ScheduleRule]] = {}
        self._names: dict[int, str] = {}
        self._next_reload = 0.0
        self._state: dict[int, bool] = {}  # last answer per campaign, to log changes

    def __call__(self, campaign_id: int, now: float) -> bool:
        if now >= self._next_reload:
            self.reload(now)
        at = datetime.fromtimestamp(now, UTC)
        open_ = is_open(self._rules.get(campaign_id, []), at)
        before = self._state.get(campaign_id)
        if before is not open_:
            self._state[campaign_id] = open_
            self._changed(campaign_id, open_, at, first=before is None)
        return open_

    def reload(self, now: float) -> None:
        with Session(self._store) as session:
            self._names = {c.id: c.name for c in session.exec(select(Campaign)).all() if c.id is not None}
        self._rules = rules_by_campaign(self._store, list(self._names))
        self._next_reload = now + self._reload_s

    def states(self) -> dict[str, bool]:
        """Per campaign with rules: on schedule (True) or not, as last asked by the engine."""
        return {self._names.get(cid, str(cid)): v for cid, v in self._state.items() if self._rules.get(cid)}

    def next_changes(self, now: float) -> dict[str, datetime | None]:
        """Per campaign with rules: when it next opens or closes (None: never)."""
        at = datetime.fromtimestamp(now, UTC)
        return {self._names.get(cid, str(cid)): next_change(rules, at) for cid, rules in self._rules.items()}

    def _changed(self, campaign_id: int, open_: bool, at: datetime, first: bool) -> None:
        name = self._names.get(campaign_id, str(campaign_id))
        if not self._rules.get(campaign_id):
            return  # no schedule: nothing opens or closes
        if first and not open_:
            log.info("campaign %s is off schedule; it opens %s", name, _when(self._rules[campaign_id], at))
            return
        kind = "open" if open_ else "close"
        log.info(
            "campaign %s %s on schedule; next change %s",
            name,
            "opens" if open_ else "closes (live calls finish)",
            _when(self._rules[campaign_id], at),
        )
        record_event(self._store, campaign_id, kind, at, self._node)


def _when(rules: list[ScheduleRule], at: datetime) -> str:
    change = next_change(rules, at)
    return "never" if change is None else change.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
