"""Meeting times: reading `YYYY-MM-DD HH:MM [TZ] Title` and showing an instant in a reader's zone.

Storage is UTC; the organiser's IANA zone is kept beside it. Abbreviations are accepted only where
they name one offset without doubt (CET/CEST, WET/WEST, EET/EEST, UTC/GMT, and the US Eastern and
Pacific ones), and only when they are in effect on that date, so "CEST" in January is refused
instead of silently shifting a meeting by an hour. Ambiguous ones (CST, IST, BST, AST…) are refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime, get_day_names
from babel.units import format_unit

from bot.config import SUPPORTED_LANGUAGES
from bot.errors import UserError
from bot.i18n import N_, all_words, fold
from bot.text import clean, one_line
from storage.models import TITLE_MAX

# abbreviation -> a zone whose rules produce exactly that abbreviation when it applies
ABBREVIATIONS: dict[str, str] = {
    "UTC": "UTC",
    "GMT": "UTC",
    "Z": "UTC",
    "CET": "Europe/Brussels",
    "CEST": "Europe/Brussels",
    "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon",
    "EET": "Europe/Athens",
    "EEST": "Europe/Athens",
    "EST": "America/New_York",
    "EDT": "America/New_York",
    "PST": "America/Los_Angeles",
    "PDT": "America/Los_Angeles",
}
AMBIGUOUS = frozenset({"CST", "CDT", "IST", "BST", "AST", "ADT", "MST", "SST", "ECT", "PET", "ART"})
_ZONE_LIKE = re.compile(r"^[A-Za-z_]+(?:/[A-Za-z0-9_+\-]+)+$")
# ASCII digits only, as in bot.numbers: `\d` would take "٣" or "²" and hand them to int().
_FORM = re.compile(r"^\s*([0-9]{4}-[0-9]{1,2}-[0-9]{1,2})\s+([0-9]{1,2}:[0-9]{2})(?:\s+(.*))?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class When:
    start: datetime  # UTC
    zone: ZoneInfo
    rest: str  # what followed the time and zone (the title, for `meeting new`)


def zone_named(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone_token(token: str, local: datetime) -> ZoneInfo | None:
    """The zone `token` names, None when it is no zone (then it is the title's first word)."""
    upper = token.upper()
    if upper in AMBIGUOUS and token == upper:
        raise UserError(N_("schedules.error_ambiguous_zone"), zone=token)
    if upper in ABBREVIATIONS and (token == upper or upper in {"UTC", "GMT"}):
        zone = ZoneInfo(ABBREVIATIONS[upper])
        if upper not in {"UTC", "GMT", "Z"} and local.replace(tzinfo=zone).tzname() != upper:
            raise UserError(N_("schedules.error_zone_not_in_effect"), zone=token, date=local.date().isoformat())
        return zone
    if _ZONE_LIKE.match(token):
        named = zone_named(token)
        if named is None:
            raise UserError(N_("schedules.error_unknown_zone"), zone=token)
        return named
    return None


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as UTC; refuses times skipped by a DST change. A repeated time
    (the autumn hour) means its first occurrence (summer time), as most calendars read it."""
    aware = local.replace(tzinfo=zone, fold=0)
    start = aware.astimezone(UTC)
    if start.astimezone(zone).replace(tzinfo=None) != local:
        raise UserError(N_("schedules.error_nonexistent_time"), time=local.strftime("%Y-%m-%d %H:%M"), zone=zone.key)
    return start


def _parse_local(day: str, clock: str, example: str) -> datetime:
    try:
        parsed_day = date.fromisoformat("-".join(part.zfill(2) for part in day.split("-")))
        hour, minute = (int(part) for part in clock.split(":"))
        return datetime.combine(parsed_day, time(hour, minute))
    except ValueError as exc:
        raise UserError(N_("schedules.error_bad_date"), text=f"{day} {clock}", example=example) from exc


def parse_when(text: str, *, default_zone: ZoneInfo, now: datetime) -> When:
    """`YYYY-MM-DD HH:MM [TZ] rest` -> a future UTC instant; UserError names what is wrong."""
    example = f"{example_day(now.astimezone(default_zone).date())} 16:00"  # ahead of the reader, never past
    found = _FORM.match(text)
    if not found:
        raise UserError(N_("schedules.error_form"), example=example)
    local = _parse_local(found.group(1), found.group(2), example)
    rest = (found.group(3) or "").strip()
    first, _, remainder = rest.partition(" ")
    zone = _zone_token(first, local) if first else None
    if zone is None:
        zone = default_zone
    else:
        rest = remainder.strip()
    start = local_to_utc(local, zone)
    if start <= now:
        raise UserError(N_("schedules.error_past"), when=local.strftime("%Y-%m-%d %H:%M"), zone=zone.key)
    return When(start=start, zone=zone, rest=rest)


def check_meeting_title(raw: str) -> str:
    title = one_line(clean(raw))
    if not title:
        raise UserError(N_("schedules.error_no_title"))
    if len(title) > TITLE_MAX:
        raise UserError(N_("schedules.error_title_long"), count=TITLE_MAX)
    return title


def show(instant: datetime, zone: ZoneInfo, language: str) -> str:
    """`Sun 29 Mar 2026, 10:00 (Europe/Madrid)` in the reader's language; zoneinfo applies the DST
    rules of that date, whenever the text is rendered."""
    local = format_datetime(instant, "EEE d MMM y, HH:mm", tzinfo=zone, locale=language)
    return f"{local} ({zone.key})"


PAUSE_EXAMPLE = timedelta(days=14)  # the date an error suggests: always ahead of the reader
MAX_RELATIVE = 999  # "in 9999999 weeks" is no day: the bound keeps date arithmetic in range


def parse_pause_day(text: str, *, today: date) -> date:
    """The day a pause lasts until, in any of the seven languages: `[until] 2027-06-30`,
    `tomorrow` / `mañana` / `jutro`, a weekday (`friday`, `viernes`, `piątek`: the next one after
    today), `in 2 weeks` / `en 3 días` / `za 2 tygodnie`. UserError with examples otherwise."""
    words = _without_until(fold(text).split())
    spoken = " ".join(words)
    day = _iso_day(spoken) or _named_day(spoken, today) or _relative_day(words, today)
    if day is None:
        raise UserError(N_("schedules.error_pause_day"), text=" ".join(text.split())[:60], example=example_day(today))
    return day


def example_day(today: date) -> str:
    return (today + PAUSE_EXAMPLE).isoformat()


def _without_until(words: list[str]) -> list[str]:
    for phrase in sorted(all_words("schedules.words_until"), key=len, reverse=True):
        size = len(phrase.split())
        if words[:size] == phrase.split():
            return words[size:]
    return words


def _iso_day(spoken: str) -> date | None:
    if not re.fullmatch(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", spoken):
        return None
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in spoken.split("-")))
    except ValueError:
        return None


def _named_day(spoken: str, today: date) -> date | None:
    if spoken in all_words("schedules.words_tomorrow"):
        return today + timedelta(days=1)
    weekday = _weekdays().get(spoken)
    if weekday is None:
        return None
    return today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)


def _relative_day(words: list[str], today: date) -> date | None:
    if len(words) > 2 and " ".join(words[:-2]) in all_words("schedules.words_in"):
        words = words[-2:]
    if len(words) != 2 or not (words[0].isascii() and words[0].isdigit()) or int(words[0]) > MAX_RELATIVE:
        return None
    amount, unit = int(words[0]), words[1]
    if unit in all_words("schedules.words_days"):
        return today + timedelta(days=amount)
    if unit in all_words("schedules.words_weeks"):
        return today + timedelta(weeks=amount)
    return None


@cache
def _weekdays() -> dict[str, int]:
    """Weekday names in the seven languages (CLDR, through Babel) -> 0 for Monday … 6 for Sunday;
    Portuguese also without "-feira" ("sexta")."""
    names: dict[str, int] = {}
    for language in SUPPORTED_LANGUAGES:
        for weekday, name in get_day_names("wide", locale=language).items():
            for variant in {name, name.removesuffix("-feira")}:
                names[fold(variant)] = int(weekday)
    return names


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of `day` in `zone`, as UTC (midnight may not exist on a DST day: then the
    first hour that does)."""
    for hour in range(0, 4):
        try:
            return local_to_utc(datetime.combine(day, time(hour)), zone)
        except UserError:
            continue
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def offset_words(delta: timedelta, language: str) -> str:
    """`1 day`, `36 hours`, `1 hour`, `30 minutes` in the reader's language: exact, never rounded."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return str(format_unit(minutes // (24 * 60), "duration-day", locale=language))
    if minutes % 60 == 0:
        return str(format_unit(minutes // 60, "duration-hour", locale=language))
    return str(format_unit(minutes, "duration-minute", locale=language))


def duration_text(delta: timedelta) -> str:
    """`24h`, `1h`, `30m`, `2d`: the offset as written in REMINDER_OFFSETS (used in dedupe keys)."""
    minutes = int(delta.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        return f"{minutes // (24 * 60)}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


CIVIL_HOURS = (9, 20)  # private nudges arrive between 09:00 and 20:00 in the reader's zone


def civil_moment(now: datetime, reader_zone: ZoneInfo) -> datetime:
    """`now` if it is daytime for the reader, else their next 09:00 (no nudge at 3 a.m.)."""
    local = now.astimezone(reader_zone)
    if CIVIL_HOURS[0] <= local.hour < CIVIL_HOURS[1]:
        return now
    day = local.date() if local.hour < CIVIL_HOURS[0] else local.date() + timedelta(days=1)
    return local_to_utc(datetime.combine(day, time(CIVIL_HOURS[0])), reader_zone)
