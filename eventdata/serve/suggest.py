"""Suggested values a coder confirms: dates, places, fatalities and actors found in an article's text.

Everything runs offline: dates are read by dateparser (its language data ships in the wheel) relative to
the article's publication date; places and actors are the names and aliases of the dataset's own lists.
A suggestion names the passage it was read from, so the coder can check it against the text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from eventdata.dataset import Dataset

#: Spelled-out numbers a fatality figure may be written in.
NUMBER_WORDS = {
    "no": 0, "none": 0, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30,
    "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a dozen": 12,
    "a hundred": 100,
}  # fmt: skip
#: Vague quantities, coded as ACLED's codebook says (section "Reported fatalities"): the conservative
#: figures it records when a report gives no number — "several", "many", "multiple" or an unknown
#: number of dead are 10, "dozens" 12, "hundreds" 100; "tens" is read as the lowest it can mean, 10.
VAGUE_FATALITIES = {
    "several": 10, "many": 10, "multiple": 10, "scores of": 20, "tens of": 10, "tens": 10, "dozens of": 12,
    "dozens": 12, "hundreds of": 100, "hundreds": 100,
}  # fmt: skip
_COUNT = (
    r"(?P<count>\d{1,3}(?:,\d{3})*|\d+|"
    + "|".join(sorted((re.escape(w) for w in [*NUMBER_WORDS, *VAGUE_FATALITIES]), key=len, reverse=True))
    + r")"
)
_WHO = r"(?:(?:more than|at least|over|about|around|some|nearly|almost|up to)\s+)?" + _COUNT
_NOUNS = r"(?:\s+[A-Za-z-]+){0,3}?"  # 'people', 'of their fighters', 'civilians and soldiers'
_ONE = (
    r"(?:(?:its|the|their|his|her|a|an)\s+(?:[\w-]+\s+){0,2}?(?:leader|commander|chief|head|emir|spokesman|official)"
    r"|(?:a|an)\s+(?:[\w-]+\s+)?(?:civilian|man|woman|child|boy|girl|soldier|fighter|policeman|person|journalist))"
)
DEATH_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(?:left|leaving)\s+" + _WHO + _NOUNS + r"\s+(?:dead|killed)\b",
        r"\b" + _WHO + _NOUNS + r"\s+(?:(?:were|was|have been|had been|are|being)\s+)?(?:killed|dead|died|slain)\b",
        r"\b(?:killing|killed|kills|kill)\s+" + _WHO + r"\b",
        r"\b(?:death toll|toll)\s+(?:[\w-]+\s+){0,8}?(?:of|to|at|reached|stands at)\s+" + _COUNT + r"\b",
        r"\b" + _COUNT + r"\s+(?:deaths|fatalities)\b",
    )
]
#: 'killed the ISIS leader and 12 others' is 13; 'killing its leader' is 1.
ONE_AND_OTHERS = re.compile(
    r"\b(?:killing|killed|kills|kill)\s+" + _ONE + r"(?:\s+and\s+" + _COUNT + r"\s+others)?\b", re.IGNORECASE
)
NO_DEATHS = re.compile(
    r"\b(?:no (?:one|casualties|fatalities|deaths|injuries)|nobody (?:was|were) (?:killed|hurt|injured)|"
    r"without (?:casualties|injuries)|no (?:\w+ )?casualties)\b",
    re.IGNORECASE,
)
#: Phrases that place an event a day before (or on) the date they are told relative to.
RELATIVE_DAYS = [
    (re.compile(p, re.IGNORECASE), days)
    for p, days in (
        (r"\b(?:the\s+)?previous\s+(?:night|evening|day)\b", -1),
        (r"\b(?:the\s+)?(?:night|evening|day)\s+before\b", -1),
        (r"\blast\s+night\b", -1),
        (r"\byesterday\b", -1),
        (r"\bovernight\b", -1),
        (r"\b(?:earlier\s+)?today\b", 0),
        (r"\bthis\s+(?:morning|afternoon|evening)\b", 0),
    )
]
WEEKDAY = re.compile(r"\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]\s|\n")


@dataclass(frozen=True)
class Suggestion:
    """A value for a field, the passage it was read from, and where that passage is in the text."""

    field: str
    value: str
    passage: str
    start: int
    why: str


def _find(text: str, passage: str, after: int = 0) -> int:
    at = text.find(passage, after)
    return at if at >= 0 else text.find(passage)


def suggest_dates(text: str, published: date, language: str = "en") -> list[Suggestion]:
    """Dates named in the text, read relative to the publication date ('on 3 February', 'the previous night')."""
    from dateparser.search import search_dates  # imported here: reading its language data takes a second

    base = datetime(published.year, published.month, published.day)
    settings: dict[str, Any] = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "past",
        "RETURN_AS_TIMEZONE_AWARE": False,
        "PREFER_DAY_OF_MONTH": "first",
    }
    found: list[Suggestion] = []
    try:
        matches = search_dates(text, languages=[language], settings=settings) or []
    except (ValueError, KeyError):  # a language dateparser does not know
        matches = search_dates(text, languages=["en"], settings=settings) or []
    position = 0
    for passage, when in matches:
        at = _find(text, passage, position)
        position = max(position, at + 1)
        if not (re.search(r"\d", passage) or WEEKDAY.search(passage)) or when.date() > published:
            continue  # 'this year', 'in August': no day to code
        found.append(Suggestion("event_date", when.date().isoformat(), passage, at, "named in the text"))
    explicit = sorted(found, key=lambda s: s.start)
    for pattern, days in RELATIVE_DAYS:
        for match in pattern.finditer(text):
            sentence_start = max((m.end() for m in _SENTENCE_END.finditer(text, 0, match.start())), default=0)
            earlier = [s for s in explicit if sentence_start <= s.start < match.start()]
            anchor = date.fromisoformat(earlier[-1].value) if earlier else published
            told = f"the day before {anchor.isoformat()}" if days else anchor.isoformat()
            why = f"{told} ({'a date in the same sentence' if earlier else 'the publication date'})"
            found.append(
                Suggestion(
                    "event_date", (anchor + timedelta(days=days)).isoformat(), match.group(0), match.start(), why
                )
            )
    return _by_position(found)


def _count(word: str) -> int | None:
    word = " ".join(word.lower().split())
    if re.fullmatch(r"[\d,]+", word):
        return int(word.replace(",", ""))
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    return VAGUE_FATALITIES.get(word)


MONTH = re.compile(
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t|tember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b",
    re.IGNORECASE,
)


def _is_day_of_month(text: str, start: int, end: int) -> bool:
    """'on 12 August killed seven': the 12 is a date, not a count."""
    if not text[start:end].isdigit():
        return False
    after = text[end:].lstrip()
    before = text[:start].rstrip()
    return bool(MONTH.match(after)) or bool(re.search(r"\b" + MONTH.pattern + r"$", before, re.IGNORECASE))


def suggest_fatalities(text: str) -> list[Suggestion]:
    """Fatality figures ('left 13 people dead' → 13; 'dozens killed' → 12, ACLED's conservative reading)."""
    found: list[Suggestion] = []
    seen: set[int] = set()
    for pattern in DEATH_PATTERNS:
        for match in pattern.finditer(text):
            count = _count(match.group("count"))
            if (
                count is None
                or match.start() in seen
                or _is_day_of_month(text, match.start("count"), match.end("count"))
            ):
                continue
            seen.add(match.start())
            word = match.group("count").lower()
            why = (
                f"'{word}': ACLED codes {count}"
                if word in VAGUE_FATALITIES or word in ("several", "many")
                else "a figure of dead in the text"
            )
            found.append(Suggestion("fatalities", str(count), match.group(0), match.start(), why))
    for match in ONE_AND_OTHERS.finditer(text):
        others = _count(match.group("count")) if match.group("count") else 0
        if others is not None and match.start() not in seen:
            seen.add(match.start())
            why = "one named person killed" + (f" and {others} others" if others else "")
            found.append(Suggestion("fatalities", str(1 + others), match.group(0), match.start(), why))
    for match in NO_DEATHS.finditer(text):
        found.append(Suggestion("fatalities", "0", match.group(0), match.start(), "the text reports no one killed"))
    found = _by_position(found)
    if not found:
        found.append(Suggestion("fatalities", "0", "", -1, "no fatality figure in the text: ACLED codes 0"))
    return found


def _name_pattern(name: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(w) for w in name.split())
    flags = 0 if (len(name) <= 4 and name.isupper()) else re.IGNORECASE  # 'IS', 'SAA': exact case only
    return re.compile(rf"(?<![\w-]){words}(?![\w-])", flags)


def suggest_places(text: str, dataset: Dataset) -> list[Suggestion]:
    """Places of the place list named in the text (by name or alternate name), first mention first."""
    gazetteer = dataset.gazetteer
    if gazetteer is None:
        return []
    places = gazetteer.places
    found = []
    for name, place in zip(gazetteer.names["name"], gazetteer.names["place"], strict=True):
        for match in _name_pattern(str(name)).finditer(text):
            location, country = str(places.loc[place, "location"]), str(places.loc[place, "country"])
            why = f"{name!r} is {location} ({country})" if name != location else f"in the place list ({country})"
            found.append(Suggestion("location", location, match.group(0), match.start(), why))
            found.append(Suggestion("country", country, match.group(0), match.start(), why))
    return _by_position(found)


def suggest_actors(text: str, dataset: Dataset, when: date | None = None) -> list[Suggestion]:
    """Actors of the actor list named in the text by name or alias, active on the date when one is given."""
    actors = dataset.actors
    if actors is None:
        return []
    names = actors.names
    if when is not None:
        day = datetime(when.year, when.month, when.day)
        names = names[(names["start"] <= day) & (day <= names["end"])]
    found = []
    for name, group in names.groupby("name"):
        meant = sorted(set(group["actor"]))
        if len(meant) != 1:
            continue  # one name for several actors on the date: the coder chooses
        for match in _name_pattern(str(name)).finditer(text):
            why = f"{name!r} is an alias of {meant[0]}" if name != meant[0] else "in the actor list"
            found.append(Suggestion("actor", meant[0], match.group(0), match.start(), why))
    ordered = _by_position(found)
    # The longest name wins where names overlap ('Islamic State' inside 'Islamic State (ISIS)').
    kept: list[Suggestion] = []
    for suggestion in sorted(ordered, key=lambda s: (s.start, -len(s.passage))):
        if kept and suggestion.start < kept[-1].start + len(kept[-1].passage):
            continue
        kept.append(suggestion)
    return kept


def _by_position(found: list[Suggestion]) -> list[Suggestion]:
    return sorted(found, key=lambda s: (s.start, s.field, s.value))


def suggest(
    dataset: Dataset, article_id: str, context: str = "", event_date: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """Every suggestion for a row, read from the evidence it quotes (else the whole article), best first.

    The first suggestion of each field is the one measured (tests/test_serve_suggest.py): the first
    mention in the passages the coder chose.
    """
    article = dataset.articles[article_id]
    text = " ".join(context.split()) if context.strip() else article.text
    return suggest_text(dataset, text, article.published, article.language or "en", event_date)


def suggest_text(
    dataset: Dataset, text: str, published: date, language: str = "en", event_date: str = ""
) -> dict[str, list[dict[str, Any]]]:
    """Every suggestion for a text published on a date (see suggest)."""
    dates = suggest_dates(text, published, language)
    when = _day(event_date) or (date.fromisoformat(dates[0].value) if dates else published)
    places = suggest_places(text, dataset)
    actors = suggest_actors(text, dataset, when)
    distinct: list[Suggestion] = []
    for suggestion in actors:
        if suggestion.value not in {s.value for s in distinct}:
            distinct.append(suggestion)
    fields: dict[str, list[Suggestion]] = {
        "event_date": dates,
        "location": [s for s in places if s.field == "location"],
        "country": [s for s in places if s.field == "country"],
        "fatalities": suggest_fatalities(text),
        "actor1": distinct,
        "actor2": distinct[1:],
    }
    return {name: [asdict(s) | {"field": name} for s in _unique(values)] for name, values in fields.items()}


def _unique(values: list[Suggestion]) -> list[Suggestion]:
    out: list[Suggestion] = []
    for value in values:
        if value.value not in {v.value for v in out}:
            out.append(value)
    return out


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def top(suggestions: dict[str, list[dict[str, Any]]], name: str) -> str | None:
    """The first suggestion of a field, or None."""
    values = suggestions.get(name) or []
    return str(values[0]["value"]) if values else None
