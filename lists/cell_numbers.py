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

from dialer.core.errors import FieldRejected
from lists.lead_zones import LeadZones, ZoneSource
from lists.phones import Phone, PhoneNormalizer, split_numbers

CellNumber = tuple[Phone, str, ZoneSource]  # the number, its zones and where they came from
DNC_REASON = "on the do-not-call list"
# Why a number was left out of a lead that kept another number of its cell.
_LEFT_OUT = {"dnc": DNC_REASON, "duplicates": "another lead's number"}


class CellNumbers:
    """Reads cells into numbers, remembering which numbers earlier rows and leads already have."""

    def __init__(self, normalizer: PhoneNormalizer) -> None:
        self._normalizer = normalizer
        self.zones = LeadZones(None)
        self._blocked: set[str] = set()
        self._seen: dict[str, int] = {}  # E.164 -> first data row, 0 for leads already in the campaign

    def start(self, blocked: set[str], existing: set[str], zones: LeadZones) -> None:
        self._blocked = blocked
        self._seen = dict.fromkeys(existing, 0)
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
            raise FieldRejected("no usable number: " + "; ".join(reasons))
        left_out.extend(reason.partition(": ")[2] for reason in reasons)
        return found

    def keep(
        self, numbers: list[CellNumber], row: int, left_out: list[str]
    ) -> tuple[list[CellNumber], str, str]:
        """The numbers neither on a do-not-call list nor another lead's, and, if none is, the row's
        bucket (``dnc`` or ``duplicates``) and reason."""
        kept: list[CellNumber] = []
        refused: list[tuple[str, str]] = []  # (bucket, reason) of each number left out
        for number in numbers:
            e164 = number[0].e164
            first = self._seen.get(e164)
            if e164 in self._blocked:
                refused.append(("dnc", DNC_REASON))
            elif first is not None:
                refused.append(
                    ("duplicates", f"duplicate of row {first}" if first else "already in the campaign")
                )
            else:
                kept.append(number)
        if not kept:  # a number on a do-not-call list decides the row's bucket
            bucket, reason = min(refused, key=lambda item: item[0] != "dnc")
            return [], bucket, reason
        left_out.extend(_LEFT_OUT[bucket] for bucket, _ in refused)
        for phone, _, _ in kept:
            self._seen[phone.e164] = row
        return kept, "", ""
