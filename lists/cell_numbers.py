"""The numbers of one list cell: several may share it, and each is checked as a lead's number is.

People put a second number beside the first (``8 (903) 100-20-34; 8 (495) 200-30-44``, also
with ``,`` or ``/``). Each is normalised, checked (look-alike letters, short and premium
numbers are refused; service numbers counted) and given its own zones. A number that fails
among others that pass is only left out, with its reason counted; the row is refused only when
none is left. A number on a do-not-call list or already another lead's is left out the same way;
the row goes to the do-not-call bucket when one of its numbers was on a list and none was kept,
else to the duplicates. The first number kept is the lead's ``phone``; the others are its
alternates (``campaigns.lead_numbers``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.engine import Connection

from campaigns.lead_numbers import lead_numbers
from campaigns.tables import LEAD_TABLE
from dialer.core.errors import FieldRejected
from dialer.core.reasons import DUPLICATE, IN_CAMPAIGN, NO_USABLE, ON_DNC
from lists.lead_zones import LeadZones, ZoneSource
from lists.phones import Phone, PhoneNormalizer, split_numbers

CellNumber = tuple[Phone, str, ZoneSource]  # the number, its zones and where they came from
DNC_REASON = ON_DNC


class CellNumbers:
    """Reads cells into numbers and decides which of them are new to the campaign.

    A lead's first number is found in the store (its unique index, a batch at a time); the
    alternates of the campaign's leads are not indexed, so they are kept here: a few per lead
    that has several, not one entry per lead, so memory stays flat in the list's size.
    """

    def __init__(self, normalizer: PhoneNormalizer) -> None:
        self._normalizer = normalizer
        self.zones = LeadZones(None)
        self._blocked: set[str] = set()
        self._alternates: dict[str, int] = {}  # E.164 -> data row, 0 for leads already in the campaign

    def start(self, blocked: set[str], alternates: set[str], zones: LeadZones) -> None:
        self._blocked = blocked
        self._alternates = dict.fromkeys(alternates, 0)
        self.zones = zones

    def read(self, raw: str, zone: str, city: str, region: str, left_out: list[str]) -> list[CellNumber]:
        """The cell's good numbers with their zones; ``FieldRejected`` when it has none."""
        parts = split_numbers(raw)
        found: list[CellNumber] = []
        reasons: list[str] = []
        for part in parts:
            try:
                phone = self._normalizer.normalize(part)
                zones, source = self.zones.resolve(phone, zone, city, region)
            except FieldRejected as exc:
                if len(parts) == 1:
                    raise
                reasons.append(f"{part[:40]!r}: {exc}")
                continue
            if all(phone.e164 != kept.e164 for kept, _, _ in found):
                found.append((phone, zones, source))
        if not found:
            raise FieldRejected(NO_USABLE.format(reasons="; ".join(reasons)))
        left_out.extend(reason.partition(": ")[2] for reason in reasons)
        return found

    def not_blocked(self, numbers: list[CellNumber], left_out: list[str]) -> list[CellNumber]:
        """The numbers on no do-not-call list; each one left out is counted in ``left_out``."""
        kept = [number for number in numbers if number[0].e164 not in self._blocked]
        left_out.extend([DNC_REASON] * (len(numbers) - len(kept)))
        return kept

    def new_numbers(
        self,
        numbers: list[CellNumber],
        row: int,
        known: Mapping[str, tuple[int | None, int | None]],
        here: dict[str, int],
        list_id: int,
    ) -> tuple[list[CellNumber], str]:
        """The numbers no lead has yet, and if none is left, why (the first one's duplicate).

        ``known``: the campaign's leads with one of these as their first number (number -> its
        list and row, ``lists.staging.known_phones``); one of ``list_id``, the list being imported,
        is a duplicate of that row. ``here``: numbers taken by earlier rows of the batch being
        written, updated with the numbers kept.
        """
        kept: list[CellNumber] = []
        reason = ""
        for number in numbers:
            e164 = number[0].e164
            first = here.get(e164)
            if first is None and e164 in known:
                stored_list, stored_row = known[e164]
                first = stored_row if stored_list == list_id and stored_row else 0
            if first is None:
                first = self._alternates.get(e164)
            if first is None:
                kept.append(number)
            elif not reason:
                reason = DUPLICATE.format(row=first) if first else IN_CAMPAIGN
        for position, (phone, _, _) in enumerate(kept):
            here[phone.e164] = row
            if position:
                self._alternates[phone.e164] = row
        return kept, reason


def campaign_alternates(conn: Connection, campaign_id: int) -> set[str]:
    """The alternate numbers of the campaign's leads (their first numbers are in the store's index)."""
    lead = LEAD_TABLE.c
    found: set[str] = set()
    several = conn.execute(
        select(lead.phone, lead.time_zones, lead.numbers).where(
            lead.campaign_id == campaign_id, lead.numbers.is_not(None)
        )
    )
    for phone, zones, numbers in several:
        found.update(n.phone for n in lead_numbers(phone, zones, numbers) if n.phone != phone)
    return found
