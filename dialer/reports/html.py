"""The report as one self-contained HTML file: inline SVG charts (matplotlib), tables, inline CSS.
No script, font, image or style sheet is fetched from anywhere.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # no display: charts are drawn to SVG text
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, ScalarFormatter
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from dialer.core import numbers
from dialer.core.i18n import DEFAULT
from dialer.reports.data import CampaignReport
from dialer.reports.labels import column, title
from lists.safe_write import OutputRules, write_bytes

CHARTS = ("funnel", "hourly", "abandon", "leads_status", "answer_rate")
_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2rem;color:#222;
max-width:1100px}
h1{margin-bottom:.2rem} section{margin:2rem 0} figure{margin:0} svg{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:.9rem}
td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left} .note{color:#666}
"""


def _svg(fig: Figure) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prologue and DOCTYPE: inline SVG needs neither


def _bar(table: pd.DataFrame, x: str, ys: list[str], lang: str, ylabel: str = "") -> Figure:
    fig, ax = plt.subplots(figsize=(9, 3.6))
    positions = range(len(table))
    width = 0.8 / len(ys)
    for i, y in enumerate(ys):
        ax.bar([p + i * width for p in positions], table[y], width=width, label=column(lang, y))
    ax.set_xticks([p + width * (len(ys) - 1) / 2 for p in positions], [str(v) for v in table[x]], rotation=0)
    ax.set_xlabel(column(lang, x))
    ax.set_ylabel(ylabel)
    if len(ys) > 1:
        ax.legend()
    return fig


def chart(key: str, report: CampaignReport, lang: str) -> Figure:
    """The chart of table ``key``; its scales' figures in ``lang``'s convention."""
    fig = _draw(key, report, lang)
    if lang != DEFAULT:  # English keeps matplotlib's own tick labels
        ticks = FuncFormatter(lambda value, _position: numbers.compact(value, lang))
        for ax in fig.axes:  # a scale of figures, not the named rows of the heat map
            if isinstance(ax.yaxis.get_major_formatter(), ScalarFormatter):
                ax.yaxis.set_major_formatter(ticks)
    return fig


def _draw(key: str, report: CampaignReport, lang: str) -> Figure:
    t = report.tables[key]
    if key == "funnel":
        main = t.head(3)
        return _bar(main.assign(step=[column(lang, s) for s in main.step]), "step", ["count"], lang)
    if key == "hourly":
        return _bar(t, "hour", ["attempts", "answers", "connects"], lang)
    if key == "abandon":
        fig, ax = plt.subplots(figsize=(9, 3.6))
        ax.bar(t.day.astype(str), t.rate, label=column(lang, "rate"))
        ax.axhline(report.abandon_cap, color="red", linestyle="--", label=column(lang, "cap"))
        ax.set_ylim(0, max([report.abandon_cap * 1.5, *t.rate.tolist()]) or 0.05)
        ax.legend()
        return fig
    if key == "leads_status":
        return _bar(t, "status", ["leads"], lang)
    pivot = t.pivot_table(index="zone", columns="hour", values="answer_rate").reindex(columns=range(24))
    fig, ax = plt.subplots(figsize=(9, 0.6 + 0.45 * len(pivot)))
    image = ax.imshow(pivot.to_numpy(dtype=float), aspect="auto", vmin=0, vmax=1, cmap="viridis")
    ax.set_yticks(range(len(pivot)), list(pivot.index))
    ax.set_xticks(range(24), [str(h) for h in range(24)])
    ax.set_xlabel(column(lang, "hour"))
    fig.colorbar(image, ax=ax, label=column(lang, "answer_rate"))
    return fig


def render_html(report: CampaignReport, lang: str) -> str:
    period = title(lang, "all")
    if report.start or report.end:
        period = f"{report.start or '…'} – {report.end or '…'}"
    parts = [
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>",
        f"<title>{escape(title(lang, 'report'))}: {escape(report.campaign)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title(lang, 'report'))}: {escape(report.campaign)}</h1>",
        f"<p>{escape(title(lang, 'period'))}: {escape(period)}. {escape(title(lang, 'generated'))}: "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC</p>",
    ]
    for key, table in report.tables.items():
        parts.append(f"<section id='{key}'><h2>{escape(title(lang, key))}</h2>")
        if key in CHARTS and not table.empty:
            parts.append(f"<figure data-chart='{key}'>{_svg(chart(key, report, lang))}</figure>")
        if key == "operators":
            parts.append(f"<p class='note'>{escape(title(lang, 'not_recorded'))}</p>")
        shown = _figures(table, lang).rename(columns=lambda c: column(lang, str(c)))
        parts.append(shown.to_html(index=False, escape=True, na_rep="–", border=0))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _figures(table: pd.DataFrame, lang: str) -> pd.DataFrame:
    """The table's figures as ``lang`` writes them (``0,25``, ``1 234``) through
    ``dialer.core.numbers``; English keeps pandas' own."""
    if lang == DEFAULT:
        return table

    def figure(value: object) -> str:
        if pd.isna(value):  # type: ignore[call-overload]
            return "–"
        if isinstance(value, int | np.integer):
            return numbers.integer(int(value), lang)
        return numbers.decimal(round(float(value), 6), None, lang)  # type: ignore[arg-type]

    shown = table.copy()
    for name in table.columns:
        if is_numeric_dtype(table[name]) and not is_bool_dtype(table[name]):
            shown[name] = [figure(value) for value in table[name]]
    return shown


def write_html(report: CampaignReport, path: Path, lang: str, rules: OutputRules | None = None) -> None:
    data = render_html(report, lang).encode("utf-8")
    write_bytes(path, lambda handle: handle.write(data), rules)
