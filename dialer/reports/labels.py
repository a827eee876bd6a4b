"""The report's words in English and Russian: table titles, column names, chart captions."""

from __future__ import annotations

from dialer.core.errors import InvalidInput

LANGS = ("en", "ru")

TITLES = {
    "en": {
        "report": "Campaign report",
        "funnel": "Outcome funnel",
        "hourly": "Attempts, answers and connects by hour (leads' local time)",
        "abandon": "Abandon rate per day against the cap",
        "operators": "Operator performance",
        "leads_status": "List penetration: leads by status",
        "leads_attempts": "List penetration: leads by number of attempts",
        "answer_rate": "Answer rate by hour and time zone",
        "period": "Period",
        "all": "all time",
        "generated": "Generated",
        "not_recorded": "Wrap-up, pause and idle time are not recorded per interval yet.",
    },
    "ru": {
        "report": "Отчёт по кампании",
        "funnel": "Воронка исходов",
        "hourly": "Попытки, ответы и соединения по часам (местное время абонента)",
        "abandon": "Доля брошенных вызовов по дням и предел",
        "operators": "Работа операторов",
        "leads_status": "Проработка базы: контакты по статусу",
        "leads_attempts": "Проработка базы: контакты по числу попыток",
        "answer_rate": "Доля ответов по часам и часовым поясам",
        "period": "Период",
        "all": "всё время",
        "generated": "Сформирован",
        "not_recorded": "Время поствызывной обработки, пауз и простоя пока не записывается по интервалам.",
    },
}

COLUMNS = {
    "en": {},
    "ru": {
        "step": "этап",
        "count": "количество",
        "hour": "час",
        "attempts": "попытки",
        "answers": "ответы",
        "connects": "соединения",
        "day": "день",
        "live_answers": "ответы людей",
        "abandoned": "брошено",
        "rate": "доля",
        "cap": "предел",
        "operator": "оператор",
        "talk_s": "разговор, с",
        "mean_talk_s": "средний разговор, с",
        "connects_per_talk_hour": "соединений на час разговора",
        "status": "статус",
        "leads": "контакты",
        "zone": "часовой пояс",
        "answer_rate": "доля ответов",
    },
}


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise InvalidInput(f"unknown --lang {lang!r}: use en or ru")
    return lang


def title(lang: str, key: str) -> str:
    return TITLES[lang][key]


def column(lang: str, name: str) -> str:
    return COLUMNS[lang].get(name, name)
