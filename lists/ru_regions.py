"""Russia's federal subjects and larger cities, and the IANA time zones they keep.

The numbering-plan registry names a range's region the way the ministry spells
it ("г. Москва и Московская обл.", "Республика Саха /Якутия/", "Ханты -
Мансийский - Югра АО"); lead lists spell it their own way, in Russian or
English. ``subject_zones`` reads such a name tolerantly: case, ``ё``, punctuation,
abbreviations (``обл.``, ``респ.``, ``АО``) and word order do not matter, and a
name that joins several subjects ("... и ...", "...|...") gets all their zones.

Sakha (Yakutia) spans three zones (UTC+9, +10, +11); every other subject keeps
one local time. Subjects on the same offset keep separate IANA names where the
tz database has them (Samara, Saratov, Ulyanovsk...), so the zone a lead shows
is the one of its place.

The facts are the federal law on time calculation (107-FZ) and its later
amendments: Volgograd back on Moscow time (2020), Saratov (2016), Astrakhan,
Ulyanovsk, Tomsk, Altai (2016).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MOSCOW = "Europe/Moscow"
YEKATERINBURG = "Asia/Yekaterinburg"
KRASNOYARSK = "Asia/Krasnoyarsk"
IRKUTSK = "Asia/Irkutsk"
VLADIVOSTOK = "Asia/Vladivostok"


@dataclass(frozen=True)
class Subject:
    name: str  # as the registry names it
    zones: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]  # any one key matches; a key's words must all be present
    unless: tuple[str, ...] = ()  # words that mean another subject


def _s(name: str, zones: str | tuple[str, ...], *keys: str, unless: str = "") -> Subject:
    zone_names = (zones,) if isinstance(zones, str) else zones
    return Subject(name, zone_names, tuple(tuple(k.split()) for k in keys), tuple(unless.split()))


# A key word ending in "*" matches any word it begins; other words match whole words only.
SUBJECTS: tuple[Subject, ...] = (
    _s("г. Москва", MOSCOW, "москва", "moscow", "msk", unless="обл* oblast region"),
    _s("Московская обл.", MOSCOW, "московск*", "moscow oblast", "moscow region"),
    _s("г. Санкт-Петербург", MOSCOW, "петербург*", "petersburg", "спб", "spb"),
    _s("Ленинградская обл.", MOSCOW, "ленинградск*", "leningrad*"),
    _s("Белгородская обл.", MOSCOW, "белгород*", "belgorod"),
    _s("Брянская обл.", MOSCOW, "брянск*", "bryansk"),
    _s("Владимирская обл.", MOSCOW, "владимирск*", "vladimir"),
    _s("Воронежская обл.", MOSCOW, "воронеж*", "voronezh"),
    _s("Ивановская обл.", MOSCOW, "ивановск*", "ivanovo"),
    _s("Калужская обл.", MOSCOW, "калуж*", "калуга", "kaluga"),
    _s("Костромская обл.", MOSCOW, "костром*", "kostroma"),
    _s("Курская обл.", MOSCOW, "курск*", "kursk"),
    _s("Липецкая обл.", MOSCOW, "липецк*", "lipetsk"),
    _s("Орловская обл.", MOSCOW, "орловск*", "орел", "orel", "oryol"),
    _s("Рязанская обл.", MOSCOW, "рязан*", "ryazan"),
    _s("Смоленская обл.", MOSCOW, "смоленск*", "smolensk"),
    _s("Тамбовская обл.", MOSCOW, "тамбов*", "tambov"),
    _s("Тверская обл.", MOSCOW, "тверск*", "тверь", "tver"),
    _s("Тульская обл.", MOSCOW, "тульск*", "тула", "tula"),
    _s("Ярославская обл.", MOSCOW, "ярославск*", "ярославль", "yaroslavl"),
    _s("Архангельская обл.", MOSCOW, "архангельск*", "arkhangelsk"),
    _s("Ненецкий АО", MOSCOW, "ненецк*", "nenets", unless="ямал* yamal* yamalo"),
    _s("Вологодская обл.", MOSCOW, "вологод*", "vologda"),
    _s("Мурманская обл.", MOSCOW, "мурманск*", "murmansk"),
    _s(
        "Новгородская обл.",
        MOSCOW,
        "новгородск*",
        "великий новгород",
        "novgorod",
        unless="нижегор* нижний nizhny",
    ),
    _s("Псковская обл.", MOSCOW, "псков*", "pskov"),
    _s("Республика Карелия", MOSCOW, "карел*", "karelia"),
    _s("Республика Коми", MOSCOW, "коми", "komi"),
    _s("Республика Адыгея", MOSCOW, "адыг*", "adygea"),
    _s("Краснодарский край", MOSCOW, "краснодар*", "кубань", "krasnodar", "kuban"),
    _s("Ростовская обл.", MOSCOW, "ростовск*", "ростов", "rostov"),
    _s("Республика Калмыкия", MOSCOW, "калмык*", "kalmykia"),
    _s("Волгоградская обл.", "Europe/Volgograd", "волгоград*", "volgograd"),
    _s("Республика Крым", "Europe/Simferopol", "крым*", "crimea"),
    _s("г. Севастополь", "Europe/Simferopol", "севастопол*", "sevastopol"),
    _s("Республика Дагестан", MOSCOW, "дагестан*", "dagestan"),
    _s("Республика Ингушетия", MOSCOW, "ингуш*", "ingushetia"),
    _s("Кабардино-Балкарская Республика", MOSCOW, "кабардин*", "kabardino*"),
    _s("Карачаево-Черкесская Республика", MOSCOW, "карачаев*", "karachay*"),
    _s("Республика Северная Осетия - Алания", MOSCOW, "осети*", "алания", "ossetia"),
    _s("Чеченская Республика", MOSCOW, "чечен*", "чечня", "chechnya", "chechen"),
    _s("Ставропольский край", MOSCOW, "ставрополь*", "stavropol"),
    _s("Нижегородская обл.", MOSCOW, "нижегородск*", "нижний новгород", "nizhny*"),
    _s("Кировская обл.", "Europe/Kirov", "кировск*", "kirov"),
    _s("Республика Марий Эл", MOSCOW, "марий", "mari"),
    _s("Республика Мордовия", MOSCOW, "мордов*", "mordovia"),
    _s("Республика Татарстан", MOSCOW, "татарстан*", "tatarstan"),
    _s("Чувашская Республика", MOSCOW, "чуваш*", "chuvash*"),
    _s("Пензенская обл.", MOSCOW, "пензенск*", "пенза", "penza"),
    _s("Донецкая Народная Республика", MOSCOW, "донецк*", "днр", "donetsk"),
    _s("Луганская Народная Республика", MOSCOW, "луганск*", "лнр", "luhansk", "lugansk"),
    _s("Запорожская обл.", MOSCOW, "запорож*", "zaporizhzhia", "zaporozhye"),
    _s("Херсонская обл.", MOSCOW, "херсон*", "kherson"),
    _s("Калининградская обл.", "Europe/Kaliningrad", "калининград*", "kaliningrad"),
    _s("Астраханская обл.", "Europe/Astrakhan", "астрахан*", "astrakhan"),
    _s("Самарская обл.", "Europe/Samara", "самар*", "samara"),
    _s("Саратовская обл.", "Europe/Saratov", "саратов*", "saratov"),
    _s("Удмуртская Республика", "Europe/Samara", "удмурт*", "udmurt*"),
    _s("Ульяновская обл.", "Europe/Ulyanovsk", "ульяновск*", "ulyanovsk"),
    _s("Республика Башкортостан", YEKATERINBURG, "башкир*", "башкортостан*", "bashkortostan"),
    _s("Курганская обл.", YEKATERINBURG, "курган*", "kurgan"),
    _s("Оренбургская обл.", YEKATERINBURG, "оренбург*", "orenburg"),
    _s("Пермский край", YEKATERINBURG, "пермск*", "пермь", "perm"),
    _s("Свердловская обл.", YEKATERINBURG, "свердловск*", "sverdlovsk"),
    _s("Тюменская обл.", YEKATERINBURG, "тюмен*", "tyumen"),
    _s("Ханты-Мансийский АО - Югра", YEKATERINBURG, "ханты*", "югра", "khanty*", "yugra"),
    _s("Ямало-Ненецкий АО", YEKATERINBURG, "ямал*", "yamal*"),
    _s("Челябинская обл.", YEKATERINBURG, "челябинск*", "chelyabinsk"),
    _s("Омская обл.", "Asia/Omsk", "омск*", "omsk", unless="томск* tomsk"),
    _s("Алтайский край", "Asia/Barnaul", "алтайск*", "altai krai", "altay krai"),
    _s("Республика Алтай", "Asia/Barnaul", "алтай", "altai republic", "altay republic", unless="край krai"),
    _s("Кемеровская обл. - Кузбасс", "Asia/Novokuznetsk", "кемеровск*", "кузбасс*", "kemerovo", "kuzbass"),
    _s("Красноярский край", KRASNOYARSK, "красноярск*", "krasnoyarsk"),
    _s("Новосибирская обл.", "Asia/Novosibirsk", "новосибирск*", "novosibirsk"),
    _s("Томская обл.", "Asia/Tomsk", "томск*", "tomsk"),
    _s("Республика Тыва", KRASNOYARSK, "тыва", "тува", "tuva", "tyva"),
    _s("Республика Хакасия", KRASNOYARSK, "хакас*", "khakassia"),
    _s("Иркутская обл.", IRKUTSK, "иркутск*", "irkutsk"),
    _s("Республика Бурятия", IRKUTSK, "бурят*", "buryatia"),
    _s("Забайкальский край", "Asia/Chita", "забайкальск*", "zabaykalsky", "zabaikalsky", "transbaikal*"),
    _s("Амурская обл.", "Asia/Yakutsk", "амурск*", "amur"),
    _s(
        "Республика Саха (Якутия)",
        ("Asia/Yakutsk", "Asia/Ust-Nera", "Asia/Srednekolymsk"),
        "саха",
        "якути*",
        "sakha",
        "yakutia",
    ),
    _s("Приморский край", VLADIVOSTOK, "приморск*", "primorsky", "primorye"),
    _s("Хабаровский край", VLADIVOSTOK, "хабаровск*", "khabarovsk"),
    _s("Еврейская АО", VLADIVOSTOK, "еврейск*", "jewish"),
    _s("Магаданская обл.", "Asia/Magadan", "магадан*", "magadan"),
    _s("Сахалинская обл.", "Asia/Sakhalin", "сахалин*", "sakhalin"),
    _s("Камчатский край", "Asia/Kamchatka", "камчат*", "kamchatka"),
    _s("Чукотский АО", "Asia/Anadyr", "чукот*", "chukotka"),
)

# Cities a list's "Город" column names, beyond those whose name is their subject's key above.
# Only places whose own zone differs from a guess by subject, or that lists name often.
CITIES: dict[str, str] = {
    "якутск": "Asia/Yakutsk",
    "yakutsk": "Asia/Yakutsk",
    "мирный": "Asia/Yakutsk",
    "нерюнгри": "Asia/Yakutsk",
    "усть-нера": "Asia/Ust-Nera",
    "среднеколымск": "Asia/Srednekolymsk",
    "казань": MOSCOW,
    "kazan": MOSCOW,
    "екатеринбург": YEKATERINBURG,
    "yekaterinburg": YEKATERINBURG,
    "ekaterinburg": YEKATERINBURG,
    "уфа": YEKATERINBURG,
    "ufa": YEKATERINBURG,
    "сочи": MOSCOW,
    "sochi": MOSCOW,
    "владивосток": VLADIVOSTOK,
    "vladivostok": VLADIVOSTOK,
    "улан-удэ": IRKUTSK,
    "ulan-ude": IRKUTSK,
    "барнаул": "Asia/Barnaul",
    "barnaul": "Asia/Barnaul",
    "новокузнецк": "Asia/Novokuznetsk",
    "сургут": YEKATERINBURG,
    "surgut": YEKATERINBURG,
    "ижевск": "Europe/Samara",
    "izhevsk": "Europe/Samara",
    "тольятти": "Europe/Samara",
    "togliatti": "Europe/Samara",
    "махачкала": MOSCOW,
    "грозный": MOSCOW,
    "чита": "Asia/Chita",
    "chita": "Asia/Chita",
    "благовещенск": "Asia/Yakutsk",
    "петропавловск-камчатский": "Asia/Kamchatka",
    "южно-сахалинск": "Asia/Sakhalin",
    "анадырь": "Asia/Anadyr",
    "норильск": KRASNOYARSK,
    "кызыл": KRASNOYARSK,
    "абакан": KRASNOYARSK,
    "горно-алтайск": "Asia/Barnaul",
    "сыктывкар": MOSCOW,
    "петрозаводск": MOSCOW,
    "нальчик": MOSCOW,
    "владикавказ": MOSCOW,
    "черкесск": MOSCOW,
    "майкоп": MOSCOW,
    "элиста": MOSCOW,
    "магас": MOSCOW,
    "саранск": MOSCOW,
    "йошкар-ола": MOSCOW,
    "чебоксары": MOSCOW,
    "симферополь": "Europe/Simferopol",
    "ханты-мансийск": YEKATERINBURG,
    "салехард": YEKATERINBURG,
    "нарьян-мар": MOSCOW,
    "биробиджан": VLADIVOSTOK,
    "новый уренгой": YEKATERINBURG,
    "нижневартовск": YEKATERINBURG,
    "магнитогорск": YEKATERINBURG,
    "набережные челны": MOSCOW,
}

_ABBREVIATIONS = {
    "обл": "область",
    "респ": "республика",
    "г": "",
    "город": "",
    "гор": "",
    "ао": "автономный округ",
    "авт": "автономный",
    "city": "",
    "the": "",
    "of": "",
}
_NON_WORD = re.compile(r"[^\w*-]+|(?<!\w)-|-(?!\w)")
_JOINERS = re.compile(r"\s+(?:и|and)\s+|[|;,/]")


def words(text: str) -> list[str]:
    """The name's words: lower case, ``ё`` as ``е``, punctuation dropped, abbreviations spelt out."""
    cleaned = _NON_WORD.sub(" ", text.casefold().replace("ё", "е").replace("*", " "))
    out: list[str] = []
    for word in cleaned.split():
        for part in word.split("-"):
            spelt = _ABBREVIATIONS.get(part, part)
            out.extend(spelt.split())
    return out


def _key_matches(key: tuple[str, ...], found: list[str]) -> bool:
    return all(_word_in(word, found) for word in key)


def _word_in(word: str, found: list[str]) -> bool:
    if word.endswith("*"):
        return any(w.startswith(word[:-1]) for w in found)
    return word in found


def _subjects_in(part: str) -> list[Subject]:
    found = words(part)
    return [
        subject
        for subject in SUBJECTS
        if any(_key_matches(key, found) for key in subject.keys)
        and not any(_word_in(word, found) for word in subject.unless)
    ]


@lru_cache(maxsize=4096)
def subjects_named(name: str) -> tuple[Subject, ...]:
    """The federal subjects a name refers to (several for "X и Y"); empty if none is recognised."""
    found: list[Subject] = []
    for part in _JOINERS.split(name):
        for subject in _subjects_in(part):
            if subject not in found:
                found.append(subject)
    return tuple(found)


def subject_zones(name: str) -> tuple[str, ...]:
    """The IANA zones of the subject(s) a region name refers to; empty if none is recognised."""
    zones: list[str] = []
    for subject in subjects_named(name):
        zones.extend(z for z in subject.zones if z not in zones)
    return tuple(zones)


@lru_cache(maxsize=4096)
def city_zones(name: str) -> tuple[str, ...]:
    """The zone of a city a list names; a city that is itself a subject (Москва) counts too."""
    key = " ".join(words(name))
    for spelling in (key, key.replace(" ", "-")):
        zone = CITIES.get(spelling)
        if zone is not None:
            return (zone,)
    return subject_zones(name)
