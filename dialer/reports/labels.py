"""The report's words: table titles, column names, chart captions, through the product's catalogue.

Titles are English sentences; column names stay the table's own names in English (what pandas
reads back) and get a Russian caption from the catalogue (``dialer.core.i18n``, domain ``dialer``).
"""

from __future__ import annotations

from dialer.core.i18n import LANGS, N_, check_lang, gettext

__all__ = ["LANGS", "check_lang", "column", "title"]

TITLES = {
    "report": N_("Campaign report"),
    "funnel": N_("Outcome funnel"),
    "hourly": N_("Attempts, answers and connects by hour (leads' local time)"),
    "abandon": N_("Abandon rate per day against the cap"),
    "operators": N_("Operator performance"),
    "leads_status": N_("List penetration: leads by status"),
    "leads_attempts": N_("List penetration: leads by number of attempts"),
    "answer_rate": N_("Answer rate by hour and time zone"),
    "period": N_("Period"),
    "all": N_("all time"),
    "generated": N_("Generated"),
    "not_recorded": N_("Wrap-up, pause and idle time are not recorded per interval yet."),
}

# The tables' own column names: English as they are, Russian from the catalogue.
COLUMNS = frozenset(
    {
        N_("step"),
        N_("count"),
        N_("hour"),
        N_("attempts"),
        N_("answers"),
        N_("connects"),
        N_("day"),
        N_("live_answers"),
        N_("abandoned"),
        N_("rate"),
        N_("cap"),
        N_("operator"),
        N_("talk_s"),
        N_("mean_talk_s"),
        N_("connects_per_talk_hour"),
        N_("status"),
        N_("leads"),
        N_("zone"),
        N_("answer_rate"),
    }
)


def title(lang: str, key: str) -> str:
    return gettext(TITLES[key], lang)


def column(lang: str, name: str) -> str:
    return gettext(name, lang) if name in COLUMNS else name
