"""The report as an XLSX workbook: a cover sheet, then one sheet per table, numbers as numbers."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

import pandas as pd

from dialer.reports.data import CampaignReport
from dialer.reports.labels import column, title
from lists.safe_write import OutputRules, write_bytes

SHEETS = ("funnel", "hourly", "abandon", "operators", "leads_status", "leads_attempts", "answer_rate")


def sheet_name(key: str) -> str:
    return key[:31]  # Excel's limit; the keys stay ASCII so every reader opens them


def write_xlsx(report: CampaignReport, path: Path, lang: str, rules: OutputRules | None = None) -> None:
    """The workbook, written through the one safe writer (whole or not at all)."""
    write_bytes(path, lambda handle: _fill(report, handle, lang), rules)


def _fill(report: CampaignReport, handle: BinaryIO, lang: str) -> None:
    with pd.ExcelWriter(handle, engine="openpyxl") as writer:
        cover = pd.DataFrame(
            [
                (title(lang, "report"), report.campaign),
                (title(lang, "period"), _period(report, lang)),
                *[(key, title(lang, key)) for key in SHEETS],
            ]
        )
        cover.to_excel(writer, sheet_name="report", index=False, header=False)
        for key in SHEETS:
            table = report.tables[key].rename(columns=lambda c: column(lang, str(c)))
            table.to_excel(writer, sheet_name=sheet_name(key), index=False)


def _period(report: CampaignReport, lang: str) -> str:
    if report.start is None and report.end is None:
        return title(lang, "all")
    start = report.start.isoformat() if report.start else "…"
    return f"{start} – {report.end.isoformat() if report.end else '…'}"
