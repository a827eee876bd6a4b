"""The disposition codes every new campaign starts with, in English and Russian. Pure data.

Number keys follow the order here. ``retry_in_s`` makes a code non-final: the lead is called again
after that delay. ``dnc`` puts the number on the global do-not-call list at once.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultCode:
    code: str
    label: str
    label_ru: str
    final: bool = True
    retry_in_s: int | None = None
    dnc: bool = False
    callback: bool = False


DEFAULT_CODES: tuple[DefaultCode, ...] = (
    DefaultCode("sale", "Sale / agreed", "Продажа / согласие"),
    DefaultCode("refused", "Refused", "Отказ"),
    DefaultCode(
        "callback", "Call back later", "Перезвонить позже", final=False, retry_in_s=2 * 3600, callback=True
    ),
    DefaultCode("not_interested", "Not interested", "Не интересно"),
    DefaultCode("wrong_number", "Wrong number", "Ошибочный номер"),
    DefaultCode("dnc", "Do not call again", "Больше не звонить", dnc=True),
    DefaultCode("info", "Information given", "Консультация"),
)
