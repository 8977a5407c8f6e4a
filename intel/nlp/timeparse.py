"""Finding date/time mentions in email text and resolving them against the message's date.

Pure functions over strings, no models. `find_mentions(text, ref)` returns every mention
(``next Tuesday at 3pm``, ``by tomorrow EOD``, ``on the 14th``, ``10:30-11:00 CET``...) with its
character span and, where the text pins one down, a resolved start (date, or date and time with
an offset), an end and whether it is a deadline. `ref` is the message's date as an aware
datetime in the sender's own offset; every relative phrase is read from the sender's calendar.

Conventions (the same as the demo mailbox's ground truth, see intel/demo.py):

* weeks run Monday to Sunday; "next Tuesday" is the Tuesday of the following week, "this
  Thursday" the Thursday of this week (the following week's when it has passed), a bare
  "Friday" / "by Friday" the next Friday after today;
* "EOD", "end of day", "close of business", "COB" are 17:00; "noon" 12:00;
* "end of the week" is Friday of this week, "end of the month" its last day;
* a time followed by a zone ("10:30 CEST", "3pm ET", "14:00 UK time", "9am London time") is in
  that zone (regional names such as ET or CET follow daylight saving time on that date), any
  other time is in the sender's offset;
* a 12-hour time without am/pm ("at 3:30") is read in business hours: 1-7 pm, 8-11 am;
* a date without a year is the occurrence nearest to the message date; a weekday written with
  it ("Monday 22 June") picks the year where it matches;
* vague mentions ("next week", "sometime soon", "in a few days", "later this month") are kept
  with their text and no date: nothing is ever made up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["Duration", "TimeMention", "find_durations", "find_mentions", "parse_reference"]

EOD = time(17, 0)

_WEEKDAY_NAMES = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "weds": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5,
    "sunday": 6, "sun": 6,
}  # fmt: skip
_MONTH_NAMES = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

# Zone labels people write after a time: IANA names follow DST on the date, numbers are fixed.
_ZONES: dict[str, str | int] = {
    "utc": 0, "gmt": 0, "z": 0, "bst": 60, "ist": 330, "jst": 540, "kst": 540, "sgt": 480, "hkt": 480,
    "cst china": 480, "aest": 600, "aedt": 660, "acst": 570, "awst": 480, "nzst": 720, "nzdt": 780,
    "wat": 60, "sast": 120, "cot": -300, "brt": -180, "msk": 180,
    "gst": 240, "pkt": 300, "wib": 420, "ict": 420, "pht": 480, "eet": "Europe/Athens",
    "eest": "Europe/Athens",
    "cet": "Europe/Paris", "cest": "Europe/Paris", "mez": "Europe/Berlin",
    "mesz": "Europe/Berlin",
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York", "eastern time": "America/New_York",
    "ct": "America/Chicago", "cdt": "America/Chicago", "cst": "America/Chicago",
    "central": "America/Chicago", "central time": "America/Chicago",
    "mt": "America/Denver", "mdt": "America/Denver", "mst": "America/Denver", "mountain time": "America/Denver",
    "pt": "America/Los_Angeles", "pdt": "America/Los_Angeles", "pst": "America/Los_Angeles",
    "pacific": "America/Los_Angeles", "pacific time": "America/Los_Angeles",
    "uk time": "Europe/London", "british time": "Europe/London", "irish time": "Europe/Dublin",
    "central european time": "Europe/Paris", "cet/cest": "Europe/Paris",
}  # fmt: skip
_CITY_ZONES = {
    "london": "Europe/London", "dublin": "Europe/Dublin", "lisbon": "Europe/Lisbon", "paris": "Europe/Paris",
    "berlin": "Europe/Berlin", "amsterdam": "Europe/Amsterdam", "brussels": "Europe/Brussels",
    "madrid": "Europe/Madrid", "rome": "Europe/Rome", "milan": "Europe/Rome", "zurich": "Europe/Zurich",
    "zürich": "Europe/Zurich", "vienna": "Europe/Vienna", "oslo": "Europe/Oslo", "stockholm": "Europe/Stockholm",
    "copenhagen": "Europe/Copenhagen", "helsinki": "Europe/Helsinki", "warsaw": "Europe/Warsaw",
    "athens": "Europe/Athens", "istanbul": "Europe/Istanbul", "moscow": "Europe/Moscow",
    "new york": "America/New_York", "boston": "America/New_York", "toronto": "America/Toronto",
    "chicago": "America/Chicago", "denver": "America/Denver", "los angeles": "America/Los_Angeles",
    "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles", "vancouver": "America/Vancouver",
    "mexico city": "America/Mexico_City", "bogota": "America/Bogota", "bogotá": "America/Bogota",
    "sao paulo": "America/Sao_Paulo", "são paulo": "America/Sao_Paulo",
    "buenos aires": "America/Argentina/Buenos_Aires",
    "sydney": "Australia/Sydney", "melbourne": "Australia/Melbourne", "brisbane": "Australia/Brisbane",
    "perth": "Australia/Perth", "auckland": "Pacific/Auckland", "tokyo": "Asia/Tokyo", "osaka": "Asia/Tokyo",
    "seoul": "Asia/Seoul", "singapore": "Asia/Singapore", "hong kong": "Asia/Hong_Kong",
    "shanghai": "Asia/Shanghai", "beijing": "Asia/Shanghai", "mumbai": "Asia/Kolkata", "delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "pune": "Asia/Kolkata", "dubai": "Asia/Dubai",
    "lagos": "Africa/Lagos", "nairobi": "Africa/Nairobi", "johannesburg": "Africa/Johannesburg",
    "cairo": "Africa/Cairo", "casablanca": "Africa/Casablanca",
}  # fmt: skip


def _alternation(words: Any) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_WD = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|weds?|thu(?:rs?)?|fri|sat|sun)\.?"
_WD_FULL = r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_MON = (
    r"(?P<mon>january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec)\.?"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<year>(?:19|20)\d\d)\b)?"
_NUM = r"(?P<n>\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|a few|few|several)"
_AMPM = r"(?P<ap>a\.m\.|p\.m\.|am\b|pm\b|a\.m\b|p\.m\b)"
_ZONE_WORDS = _alternation([*_ZONES, *(f"{c} time" for c in _CITY_ZONES)])
_ZONE = (
    rf"(?:\s*\(?\s*(?P<zone>(?:utc|gmt)\s*[+\-−]\s*\d{{1,2}}(?::?\d\d)?|{_ZONE_WORDS})\b\)?"
    r"|\s+(?P<yourtime>your time|my time|local time))?"
)

_I = re.IGNORECASE
_DATE_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("dmy", re.compile(rf"\b(?:{_WD},?\s+)?(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MON}{_YEAR}(?![\w])", _I)),
    ("mdy", re.compile(rf"\b(?:{_WD},?\s+)?{_MON}\s+(?:the\s+)?{_DAY}(?![\d:])(?:{_YEAR})(?![\w])", _I)),
    ("iso", re.compile(r"\b(?P<y>20\d\d)-(?P<m>[01]?\d)-(?P<d>[0-3]?\d)\b")),
    (
        "numeric",
        re.compile(
            rf"\b(?:{_WD},?\s+)?(?P<a>[0-3]?\d)(?P<sep>[./])(?P<b>[0-3]?\d)(?:(?P=sep)(?P<c>(?:20)?\d\d)\b|(?P<dot>\.)(?!\d))?",
            _I,
        ),
    ),
    (
        "relday",
        re.compile(
            r"\b(?P<rel>the day after tomorrow|day after tomorrow|today|tonight|tomorrow|tmrw|tmr|yesterday"
            r"|this (?:morning|afternoon|evening))(?:\s+(?P<part>morning|afternoon|evening|night))?\b",
            _I,
        ),
    ),
    (
        "weekday",
        re.compile(
            rf"\b(?:(?P<mod>this coming|this|next|coming|the following|following)\s+)?{_WD}"
            r"(?:\s+(?P<part>morning|afternoon|evening|night))?(?P<week>\s+(?:next|this) week)?\b",
            _I,
        ),
    ),
    (
        "ordinal",
        re.compile(
            r"\b(?:the\s+)?(?P<ord>[0-3]?\d)(?P<suffix>st|nd|rd|th)\b"
            r"(?!\s+(?:floor|anniversary|time|place|century|edition|row|birthday|street|avenue|percentile))",
            _I,
        ),
    ),
    (
        "inrel",
        re.compile(
            rf"\b(?:(?:with)?in\s+{_NUM}\s+(?P<unit>(?:business |working )?days?|weeks?|months?)(?:'?\s*time)?"
            r"|in\s+a\s+(?P<fortnight>fortnight)"
            rf"|{_NUM.replace('?P<n>', '?P<n2>')}\s+(?P<unit2>(?:business |working )?days?|weeks?|months?)"
            r"\s+from\s+(?P<base>now|today|tomorrow"
            r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
            _I,
        ),
    ),
    (
        "endof",
        re.compile(
            r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?(?P<eo>week|month|quarter|year)"
            r"|(?:the\s+)?end\s+of\s+next\s+(?P<eonext>week|month)"
            r"|(?P<eoabbr>EOW|EOM|EOQ|EOY))\b",
            _I,
        ),
    ),
    (
        "vague",
        re.compile(
            r"\b(?:(?:early|late|later|sometime|some time|mid)\s+)?(?:next|this|the coming|the following)\s+"
            r"(?:week|month|year|quarter)\b|\bnext\s+few\s+(?:days|weeks)\b|\blater\s+(?:today|this\s+week)\b"
            r"|\bin\s+(?:a\s+few|a\s+couple\s+of|several|the\s+coming)\s+(?:days|weeks|months)\b",
            _I,
        ),
    ),
]

_TIME_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "range",
        re.compile(
            r"\b(?:between\s+|from\s+)?(?P<h1>[01]?\d|2[0-3])(?:[:.h](?P<m1>[0-5]\d))?\s*(?P<ap1>a\.?m\.?|p\.?m\.?)?"
            r"\s*(?:-|–|—|to|until|till|and)\s*"
            rf"(?P<h2>[01]?\d|2[0-3])(?:[:.h](?P<m2>[0-5]\d))?\s*(?P<ap2>a\.?m\.?|p\.?m\.?)?(?![\d/])\.?{_ZONE}",
            _I,
        ),
    ),
    (
        "hm",
        re.compile(rf"\b(?P<h>[01]?\d|2[0-3])(?P<sep>[:.h])(?P<m>[0-5]\d)(?![\d/])\s*{_AMPM}?{_ZONE}", _I),
    ),
    ("hap", re.compile(rf"\b(?P<h>1[0-2]|0?[1-9])\s*{_AMPM}{_ZONE}", _I)),
    (
        "word",
        re.compile(
            r"\b(?P<word>noon|midday|midnight|EOD|COB|EOB|close of business|close of play|end of play"
            rf"|end of (?:the |business |the business |my |your |our )?day|lunchtime){_ZONE}",
            _I,
        ),
    ),
    (
        "at",
        re.compile(
            rf"\bat\s+(?P<h>[01]?\d|2[0-3])(?:\s*o'?clock)?(?![\d:/%]|[.,]\d|\s*(?:%|percent|people|users|seats|agents|a\.?m|p\.?m))"
            rf"{_ZONE}",
            _I,
        ),
    ),
]
_DURATION = re.compile(
    r"\b(?:(?P<half>half an hour|half-hour|an hour and a half)"
    r"|(?P<n>\d+(?:\.\d+)?|an?|one|two|three|four|five|ninety|thirty|forty-five|fifteen|twenty)\s*[- ]?\s*"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?))\b",
    _I,
)
_DURATION_WORDS = {"ninety": 90, "thirty": 30, "forty-five": 45, "fifteen": 15, "twenty": 20}
_DEADLINE_BEFORE = re.compile(
    r"(?:\bby|\bbefore|\bno later than|\bnot later than|\buntil|\btill|\bdue(?: on| by| date)?|\bdeadline(?: is| of)?:?"
    r"|\bby no later than|\bprior to|\bwithin)\s+(?:the\s+)?$",
    _I,
)
_DEADLINE_AFTER = re.compile(r"^\s*(?:,\s*)?(?:at the latest|latest)\b", _I)
_CONNECTOR = re.compile(r"^[\s,]*(?:(?:at|@|on|from|by|starting|between|um|à|a las|alle|om|kl\.?|-|–)[\s,]*)?$", _I)
_PRIORITY = {
    "dmy": 0, "mdy": 0, "iso": 0, "range": 1, "hm": 1, "numeric": 2, "endof": 2, "inrel": 2, "relday": 3,
    "weekday": 3, "hap": 2, "word": 3, "ordinal": 4, "at": 5, "vague": 6,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Duration:
    span: tuple[int, int]
    text: str
    length: timedelta


@dataclass(frozen=True, slots=True)
class TimeMention:
    """One date/time mention: its text and span, and what it resolves to.

    `start` is a `date` (day known, time not), an aware `datetime` (with the offset of the zone
    it was written in, else the sender's), a naive `datetime` (time known but no reference
    offset), or None (unresolved: vague, or relative without a reference date). `end` is set for
    ranges ("10:30-11:00"). `deadline` says the text reads as a deadline ("by Friday", "before
    noon", "... at the latest"). `explicit` is False for vague mentions ("next week", "soon").
    """

    text: str
    span: tuple[int, int]
    start: date | datetime | None
    end: datetime | None = None
    deadline: bool = False
    explicit: bool = True
    has_date: bool = False
    has_time: bool = False

    @property
    def resolved(self) -> bool:
        return self.start is not None

    @property
    def day(self) -> date | None:
        """The calendar date the mention resolves to (in the zone it was written in)."""
        if isinstance(self.start, datetime):
            return self.start.date()
        return self.start

    def iso(self) -> str | None:
        return None if self.start is None else self.start.isoformat()


# --------------------------------------------------------------------------------------------
# Zones
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=256)
def _zoneinfo(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone(label: str | None) -> tzinfo | None:
    if not label:
        return None
    key = " ".join(label.lower().split())
    numeric = re.fullmatch(r"(?:utc|gmt)\s*([+\-−])\s*(\d{1,2})(?::?(\d\d))?", key)
    if numeric:
        sign = -1 if numeric.group(1) in "-−" else 1
        minutes = int(numeric.group(2)) * 60 + int(numeric.group(3) or 0)
        return timezone(timedelta(minutes=sign * minutes))
    value: str | int | None = _ZONES.get(key)
    if value is None and key.endswith(" time"):
        value = _CITY_ZONES.get(key.removesuffix(" time"))
    if value is None:
        return None
    if isinstance(value, int):
        return timezone(timedelta(minutes=value))
    return _zoneinfo(value)


def _fixed(dt: datetime) -> datetime:
    """The same instant with a plain fixed offset (so isoformat shows +HH:MM, never a zone name)."""
    offset = dt.utcoffset()
    return dt if offset is None else dt.replace(tzinfo=timezone(offset))


def parse_reference(sent_at: str | datetime | None) -> datetime | None:
    """The reference datetime from an ISO 8601 string (``Z`` allowed); naive values are UTC."""
    if sent_at is None or sent_at == "":
        return None
    if isinstance(sent_at, datetime):
        value = sent_at
    else:
        text = sent_at.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


# --------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------


@dataclass
class _Part:
    kind: str  # pattern name
    role: str  # date | time
    start: int
    end: int
    m: re.Match[str]


def _number(word: str | None) -> int | None:
    if word is None:
        return None
    w = word.lower()
    if w.isdigit():
        return int(w)
    return _NUMBER_WORDS.get(w)


def _valid_date_part(kind: str, m: re.Match[str], text: str) -> bool:
    g = m.groupdict()
    before = text[max(0, m.start() - 12) : m.start()].lower()
    if kind in ("dmy", "mdy"):
        day = int(g["day"])
        if not 1 <= day <= 31:
            return False
        mon = g["mon"].lower().rstrip(".")
        if mon in ("may", "mar", "jun", "jul", "aug", "dec", "jan", "oct", "nov", "sep", "feb", "apr", "sept"):
            # short or ambiguous month names must read as a month: "May 5", not "may 5 people"
            raw = m.group("mon")
            if mon == "may" and not raw[0].isupper():
                return False
        wd = g.get("wd")
        return not (wd and len(wd.rstrip(".")) <= 3 and not wd[0].isupper())
    if kind == "numeric":
        a, b, c = int(g["a"]), int(g["b"]), g.get("c")
        if g["sep"] == "." and not (c or g.get("dot")):
            return False
        if re.search(r"\bat\s*$", before):
            return False
        if (
            not c
            and not g.get("wd")
            and not g.get("dot")
            and not re.search(r"(?:\bon|\bby|\bbefore|\buntil|\bfrom|\bdue|\bthe)\s*$", before)
        ):
            return False
        return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)
    if kind == "weekday":
        wd = g["wd"]
        short = len(wd.rstrip(".")) <= 4  # abbreviations: capitalised, and read as a day
        doubtful = not wd[0].isupper() or (wd.lower().rstrip(".") in ("sat", "sun", "wed") and not g.get("mod"))
        if short and doubtful:
            return bool(re.search(r"\bon\s*$", before)) and wd[0].isupper()
        return True
    if kind == "ordinal":
        n = int(g["ord"])
        if not 1 <= n <= 31:
            return False
        suffix = g["suffix"].lower()
        expected = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        if suffix != expected:
            return False
        return m.group(0).lower().startswith("the") or bool(
            re.search(r"(?:\bon|\bby|\bbefore|\buntil|\bthe)\s*$", before)
        )
    return True


def _valid_time_part(kind: str, m: re.Match[str], text: str) -> bool:
    g = m.groupdict()
    before = text[max(0, m.start() - 10) : m.start()].lower()
    after = text[m.end() : m.end() + 3]
    if kind == "hm":
        if g["sep"] == "." and not g.get("ap") and not re.search(r"\b(?:at|from|until|till|by)\s*$", before):
            return False
        if g["sep"].lower() == "h" and g.get("ap"):
            return False
        if after.startswith(("%", "/")):
            return False
        return not re.search(r"[$€£]\s*$|\d$", before)
    if kind == "range":
        if not (g.get("m1") or g.get("ap1") or g.get("m2") or g.get("ap2")):
            return False
        if re.search(r"[\d$€£/-]\s*$", before):
            return False
        joiner = m.group(0).lower()
        return not (" and " in joiner and not joiner.startswith("between"))
    if kind == "hap":
        return not re.search(r"[$€£]\s*$|[\d.,:]$", before)
    return True


def _candidates(text: str) -> list[_Part]:
    parts: list[_Part] = []
    for kind, pattern in _DATE_PATTERNS:
        for m in pattern.finditer(text):
            if _valid_date_part(kind, m, text):
                parts.append(_Part(kind, "date", m.start(), m.end(), m))
    for kind, pattern in _TIME_PATTERNS:
        for m in pattern.finditer(text):
            if _valid_time_part(kind, m, text):
                end = m.end()
                while end > m.start() and text[end - 1].isspace():
                    end -= 1
                parts.append(_Part(kind, "time", m.start(), end, m))
    # Longest first, then by how specific the pattern is; keep the ones that do not overlap.
    parts.sort(key=lambda p: (-(p.end - p.start), _PRIORITY[p.kind], p.start))
    chosen: list[_Part] = []
    for part in parts:
        if all(part.end <= c.start or part.start >= c.end for c in chosen):
            chosen.append(part)
    chosen.sort(key=lambda p: p.start)
    return chosen


def _groups(text: str, parts: list[_Part]) -> Iterator[list[_Part]]:
    """Adjacent date and time parts ("Monday 22 June" + "at 15:15 BST") form one mention."""
    group: list[_Part] = []
    for part in parts:
        if group:
            gap = text[group[-1].end : part.start]
            roles = {p.role for p in group}
            vague = any(p.kind == "vague" for p in [*group, part])
            if part.role not in roles and not vague and len(gap) <= 8 and _CONNECTOR.match(gap):
                group.append(part)
                continue
            yield group
        group = [part]
    if group:
        yield group


# --------------------------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------------------------


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _nearest_year(month: int, day: int, ref: date | None, weekday: int | None, year: int | None) -> date | None:
    if year is not None:
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if ref is None:
        return None
    options: list[date] = []
    for y in (ref.year, ref.year + 1, ref.year - 1):
        try:
            options.append(date(y, month, day))
        except ValueError:
            continue
    if not options:
        return None
    if weekday is not None:
        matching = [d for d in options if d.weekday() == weekday]
        if matching:
            options = matching
    # Emails mostly look ahead: a date a little in the past is still this year's, but one more
    # than ~4 months back is next year's ("on 5 January", written in December).
    return min(options, key=lambda d: abs((d - ref).days) if d >= ref - timedelta(days=120) else 10_000)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def _resolve_date(part: _Part, ref: date | None, us_order: bool) -> tuple[date | None, bool, str | None]:
    """(date, explicit, part of day) for a date part."""
    g = part.m.groupdict()
    kind = part.kind
    part_of_day = (g.get("part") or "").lower() or None
    if kind in ("dmy", "mdy"):
        wd = g.get("wd")
        weekday = _WEEKDAY_NAMES.get(wd.lower().rstrip(".")) if wd else None
        year = int(g["year"]) if g.get("year") else None
        return _nearest_year(_MONTH_NAMES[g["mon"].lower().rstrip(".")], int(g["day"]), ref, weekday, year), True, None
    if kind == "iso":
        try:
            return date(int(g["y"]), int(g["m"]), int(g["d"])), True, None
        except ValueError:
            return None, True, None
    if kind == "numeric":
        a, b = int(g["a"]), int(g["b"])
        if a > 12:
            day, month = a, b
        elif b > 12 or (us_order and g["sep"] == "/"):
            day, month = b, a
        else:
            day, month = a, b
        year = None
        if g.get("c"):
            year = int(g["c"]) + (2000 if len(g["c"]) == 2 else 0)
        if not 1 <= month <= 12:
            return None, True, None
        wd = g.get("wd")
        weekday = _WEEKDAY_NAMES.get(wd.lower().rstrip(".")) if wd else None
        return _nearest_year(month, day, ref, weekday, year), True, None
    if ref is None:
        return None, kind != "vague", part_of_day
    if kind == "relday":
        rel = g["rel"].lower()
        if rel.startswith("this "):
            return ref, True, rel.split()[1]
        if rel in ("today", "tonight"):
            return ref, True, "evening" if rel == "tonight" else part_of_day
        if rel in ("tomorrow", "tmrw", "tmr"):
            return ref + timedelta(days=1), True, part_of_day
        if rel == "yesterday":
            return ref - timedelta(days=1), True, part_of_day
        return ref + timedelta(days=2), True, part_of_day
    if kind == "weekday":
        target = _WEEKDAY_NAMES[g["wd"].lower().rstrip(".")]
        mod = (g.get("mod") or "").lower()
        week = (g.get("week") or "").strip().lower()
        this_week = _monday(ref) + timedelta(days=target)
        if mod == "next" or week == "next week":
            return this_week + timedelta(days=7), True, part_of_day
        if mod == "this" or week == "this week":
            return (this_week if this_week >= ref else this_week + timedelta(days=7)), True, part_of_day
        # bare, "coming", "following": the next one after today
        ahead = (target - ref.weekday()) % 7 or 7
        return ref + timedelta(days=ahead), True, part_of_day
    if kind == "ordinal":
        n = int(g["ord"])
        for months in (0, 1, 2):
            first = _add_months(ref.replace(day=1), months)
            try:
                candidate = first.replace(day=n)
            except ValueError:
                continue
            if candidate >= ref:
                return candidate, True, None
        return None, True, None
    if kind == "inrel":
        if g.get("fortnight"):
            return ref + timedelta(days=14), True, None
        count = _number(g.get("n") or g.get("n2"))
        unit = (g.get("unit") or g.get("unit2") or "").lower()
        if count is None:
            return None, False, None
        base = ref
        base_word = (g.get("base") or "").lower()
        if base_word == "tomorrow":
            base = ref + timedelta(days=1)
        elif base_word in _WEEKDAY_NAMES:
            base = ref + timedelta(days=(_WEEKDAY_NAMES[base_word] - ref.weekday()) % 7 or 7)
        if "business" in unit or "working" in unit:
            cursor = base
            left = count
            while left:
                cursor += timedelta(days=1)
                if cursor.weekday() < 5:
                    left -= 1
            return cursor, True, None
        if unit.startswith("day"):
            return base + timedelta(days=count), True, None
        if unit.startswith("week"):
            return base + timedelta(weeks=count), True, None
        return _add_months(base, count), True, None
    if kind == "endof":
        what = (g.get("eo") or g.get("eonext") or g.get("eoabbr") or "").lower()
        what = {"eow": "week", "eom": "month", "eoq": "quarter", "eoy": "year"}.get(what, what)
        following = bool(g.get("eonext"))
        if what == "week":
            friday = _monday(ref) + timedelta(days=4 + (7 if following else 0))
            if friday < ref:
                friday += timedelta(days=7)
            return friday, True, None
        if what == "month":
            first = _add_months(ref.replace(day=1), 2 if following else 1)
            return first - timedelta(days=1), True, None
        if what == "quarter":
            q_end_month = ((ref.month - 1) // 3 + 1) * 3
            return _add_months(date(ref.year, q_end_month, 1), 1) - timedelta(days=1), True, None
        return date(ref.year, 12, 31), True, None
    return None, False, None


def _hour24(hour: int, ap: str | None, part_of_day: str | None, minute_given: bool) -> int:
    if ap:
        pm = ap.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
        return hour
    if hour >= 13 or hour == 0:
        return hour
    if part_of_day in ("afternoon", "evening", "night") and hour < 12:
        return hour + 12
    if part_of_day == "morning":
        return hour
    # Business hours: "at 3" is 15:00, "at 9" is 09:00 (a leading zero means a 24-hour clock).
    if 1 <= hour <= 7:
        return hour + 12
    return hour


def _resolve_time(part: _Part, part_of_day: str | None) -> tuple[time | None, time | None, str | None, bool]:
    """(start, end, zone label, 'your time') of a time part."""
    g = part.m.groupdict()
    zone = g.get("zone")
    yours = bool(g.get("yourtime")) and g["yourtime"].lower() == "your time"
    if part.kind == "word":
        word = g["word"].lower()
        if word in ("noon", "midday"):
            return time(12, 0), None, zone, yours
        if word == "midnight":
            return time(23, 59), None, zone, yours
        if word == "lunchtime":
            return None, None, zone, yours
        return EOD, None, zone, yours
    if part.kind == "range":
        ap2 = g.get("ap2")
        ap1 = g.get("ap1")
        h1, h2 = int(g["h1"]), int(g["h2"])
        m1, m2 = int(g.get("m1") or 0), int(g.get("m2") or 0)
        end_h = _hour24(h2, ap2 or ap1, part_of_day, bool(g.get("m2")))
        if ap1:
            start_h = _hour24(h1, ap1, part_of_day, True)
        elif ap2 and h1 <= 12:
            same = _hour24(h1, ap2, None, True)
            other = (same + 12) % 24
            start_h = same if same * 60 + m1 <= end_h * 60 + m2 else other
        else:
            start_h = _hour24(h1, None, part_of_day, bool(g.get("m1")))
            if not ap2 and start_h > end_h and end_h < 12:
                end_h += 12
        if not (0 <= start_h <= 23 and 0 <= end_h <= 23):
            return None, None, zone, yours
        return time(start_h, m1), time(end_h, m2), zone, yours
    hour = int(g["h"])
    minute = int(g.get("m") or 0)
    if part.kind == "hm" and g["h"].startswith("0") and not g.get("ap"):
        return time(hour, minute), None, zone, yours
    h24 = _hour24(hour, g.get("ap"), part_of_day, bool(g.get("m")))
    if not 0 <= h24 <= 23:
        return None, None, zone, yours
    return time(h24, minute), None, zone, yours


def _mention(text: str, group: list[_Part], ref: datetime | None, us_order: bool) -> TimeMention:
    start_pos, end_pos = group[0].start, group[-1].end
    date_part = next((p for p in group if p.role == "date"), None)
    time_part = next((p for p in group if p.role == "time"), None)
    ref_day = ref.date() if ref is not None else None
    day: date | None = None
    explicit = True
    part_of_day: str | None = None
    if date_part is not None:
        if date_part.kind == "vague":
            explicit = False
        else:
            day, explicit, part_of_day = _resolve_date(date_part, ref_day, us_order)
    start_time: time | None = None
    end_time: time | None = None
    zone_label: str | None = None
    if time_part is not None:
        start_time, end_time, zone_label, _yours = _resolve_time(time_part, part_of_day)
        if date_part is None:
            if ref is None:
                day = None
            else:
                # A time alone is today's, when it is still ahead of the message.
                candidate = ref.replace(hour=start_time.hour, minute=start_time.minute) if start_time else None
                day = ref_day if candidate is not None and candidate >= ref - timedelta(minutes=30) else None
    before = text[max(0, start_pos - 24) : start_pos]
    after = text[end_pos : end_pos + 16]
    deadline = bool(_DEADLINE_BEFORE.search(before) or _DEADLINE_AFTER.match(after))
    start: date | datetime | None = day
    end: datetime | None = None
    if day is not None and start_time is not None:
        zone = _zone(zone_label) if zone_label else None
        if zone is None:
            zone = ref.tzinfo if ref is not None else None
        start = datetime.combine(day, start_time, tzinfo=zone)
        if zone is not None:
            start = _fixed(start)
        if end_time is not None:
            end_day = day + timedelta(days=1) if end_time < start_time else day
            end = datetime.combine(end_day, end_time, tzinfo=zone)
            if zone is not None:
                end = _fixed(end)
    return TimeMention(
        text=text[start_pos:end_pos],
        span=(start_pos, end_pos),
        start=start,
        end=end,
        deadline=deadline,
        explicit=explicit and (date_part is None or date_part.kind != "vague"),
        has_date=date_part is not None,
        has_time=start_time is not None,
    )


def find_mentions(text: str, ref: datetime | None, *, us_order: bool | None = None) -> list[TimeMention]:
    """Every date/time mention in `text`, resolved against `ref` (aware, in the sender's offset).

    Args:
        text: any text; offsets in the result are into it.
        ref: the message date in the sender's offset, or None (then only absolute dates resolve).
        us_order: read ``7/8`` as July 8 (True) or 7 August (False); by default US order when the
            sender's offset is in the Americas (-3h to -10h).
    """
    if us_order is None:
        offset = ref.utcoffset() if ref is not None else None
        us_order = offset is not None and timedelta(hours=-10) <= offset <= timedelta(hours=-3)
    parts = _candidates(text)
    mentions = []
    for group in _groups(text, parts):
        mention = _mention(text, group, ref, us_order)
        lone_at = len(group) == 1 and group[0].kind in ("at",)
        if lone_at:
            continue  # "at 3" alone is too weak to be a time ("at 3 sites")
        mentions.append(mention)
    return mentions


def find_durations(text: str) -> list[Duration]:
    """Lengths written in the text: "30 minutes", "an hour", "a 45-minute call", "half an hour"."""
    out = []
    for m in _DURATION.finditer(text):
        if m.group("half"):
            words = m.group("half").lower()
            length = timedelta(minutes=90 if "and a half" in words else 30)
        else:
            raw = m.group("n").lower()
            if raw in ("a", "an", "one"):
                n = 1.0
            elif raw in _DURATION_WORDS:
                n = float(_DURATION_WORDS[raw])
            elif raw in _NUMBER_WORDS:
                n = float(_NUMBER_WORDS[raw])
            else:
                n = float(raw)
            unit = m.group("unit").lower()
            length = timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n)
        if timedelta(minutes=5) <= length <= timedelta(hours=10):
            out.append(Duration((m.start(), m.end()), m.group(0), length))
    return out
