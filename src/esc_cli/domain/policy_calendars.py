"""The [calendars] section of a policy checked and parsed: opening hours (one set, or
one per weekday), dated hours, holidays and a country's public holidays.

Apart from the other sections (`policy_sections.py`): the only section checked with
the calendar code (its hours parsed, a country's holidays looked up); the others at
most name a calendar.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from esc_cli.domain.policy_keys import (
    _ISO_DATE,
    _NAME,
    CALENDAR_24X7,
    WEEKDAYS,
    _fail,
    _kind,
    _only,
    _table,
    _zone,
)
from esc_cli.domain.policy_model import _build_calendar

if TYPE_CHECKING:  # pragma: no cover
    from esc_cli.domain.calendar import Calendar


def _calendars(value: Any, default_zone: str) -> tuple[dict, dict]:
    """The validated calendar settings by name, and the calendars already built to check them."""
    table = _table(value, "calendars")
    specs: dict[str, dict] = {}
    built: dict[str, Calendar] = {}
    for name, body in table.items():
        key = f"calendars.{name}"
        if name == CALENDAR_24X7:
            _fail(key, "'24x7' is built in and cannot be redefined")
        if not _NAME.fullmatch(name):
            _fail(key, "calendar names use letters, digits, '.', '_' and '-' (at most 64)")
        body = _table(body, key)
        _only(
            body, ("timezone", "days", "hours", "holidays", "country", "subdivision", "dates"), key
        )
        spec: dict[str, Any] = {
            "timezone": _zone(body.get("timezone", default_zone), f"{key}.timezone")
        }
        _calendar_hours(body, spec, key)

        spec["holidays"] = [
            d.isoformat() for d in _holidays(body.get("holidays", []), f"{key}.holidays")
        ]
        if "dates" in body:
            spec["dates"] = _dated_hours(body["dates"], f"{key}.dates")

        for part in ("country", "subdivision"):
            if part in body:
                text = body[part]
                if not isinstance(text, str) or not text.strip():
                    _fail(f"{key}.{part}", f"expected a code such as 'DE', got {_kind(text)}")
                spec[part] = text.strip()
        if "subdivision" in spec and "country" not in spec:
            _fail(f"{key}.subdivision", "needs a country")
        if "country" in spec:
            built[name] = _check_public_holidays(name, spec, key)
        specs[name] = spec
    return specs, built


_DAYS_EXAMPLE = 'e.g. ["mon", "tue", "wed", "thu", "fri"]'


def _calendar_hours(body: dict, spec: dict, key: str) -> None:
    """`days` and `hours` of a calendar into `spec`, as written (day names in lower
    case): hours one range, a list of ranges, or a table by weekday whose keys are the
    working days (`days` may then be left out; given, it must name the same days)."""
    if "hours" not in body:
        _fail(f"{key}.hours", 'missing: the opening hours, e.g. "09:00-17:00"')
    hours = body["hours"]
    days = None
    if "days" in body:
        days = body["days"]
        if not isinstance(days, list) or not days:
            _fail(f"{key}.days", f"expected a non-empty list of days (mon..sun), got {_kind(days)}")
        normal: list[str] = []
        for day in days:
            if not isinstance(day, str) or day.strip().lower() not in WEEKDAYS:
                _fail(f"{key}.days", f"unknown day {day!r} (use mon, tue, wed, thu, fri, sat, sun)")
            day = day.strip().lower()
            if day in normal:
                _fail(f"{key}.days", f"{day!r} is listed twice")
            normal.append(day)
        spec["days"] = days = normal
    if isinstance(hours, dict):
        if not hours:
            _fail(
                f"{key}.hours",
                "the table names no day: give each working day its hours, "
                'e.g. { mon = "09:00-17:00" }',
            )
        weekly: dict[str, Any] = {}
        for day, ranges in hours.items():
            name = day.strip().lower()
            if name not in WEEKDAYS:
                _fail(
                    f"{key}.hours.{day}",
                    f"unknown day {day!r} (use mon, tue, wed, thu, fri, sat, sun)",
                )
            if name in weekly:
                _fail(f"{key}.hours.{day}", f"{name!r} is given twice")
            weekly[name] = _hours_value(ranges, f"{key}.hours.{day}")
        if days is not None:
            for day in weekly:
                if day not in days:
                    _fail(
                        f"{key}.hours.{day}",
                        f"{day!r} has opening hours but is not in {key}.days "
                        "(leave days out: the table's days are the working days)",
                    )
            for day in days:
                if day not in weekly:
                    _fail(
                        f"{key}.days",
                        f"{day!r} is a working day with no hours in {key}.hours "
                        "(leave days out: the table's days are the working days)",
                    )
        spec["hours"] = weekly
        return
    if days is None:
        _fail(
            f"{key}.days",
            f"missing: the working days, {_DAYS_EXAMPLE} (or give hours as a "
            'table by day: { mon = "09:00-17:00", sat = "10:00-14:00" })',
        )
    spec["hours"] = _hours_value(hours, f"{key}.hours")


def _hours_value(hours: Any, key: str, closed: bool = False) -> Any:
    """One day's opening hours as written: "HH:MM-HH:MM" or a list of them (`closed`:
    an empty list, a closed day, is allowed)."""
    if not isinstance(hours, str) and not (
        isinstance(hours, list) and (hours or closed) and all(isinstance(h, str) for h in hours)
    ):
        _fail(
            key,
            f'expected "HH:MM-HH:MM" or a list of them{", [] for closed" if closed else ""}, '
            f"got {_kind(hours)}",
        )
    if hours == []:
        return []
    from esc_cli.domain.calendar_hours import hours_from_text

    try:
        hours_from_text(hours)
    except ValueError as err:
        _fail(key, str(err))
    return list(hours) if isinstance(hours, list) else hours


def _dated_hours(value: Any, key: str) -> dict[str, Any]:
    """[calendars.X.dates]: "YYYY-MM-DD" = hours, or [] for closed."""
    table = _table(value, key)
    dates: dict[str, Any] = {}
    for day, hours in table.items():
        text = day.strip() if isinstance(day, str) else ""
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            parsed = dt.date.fromisoformat(text)
        except ValueError:
            _fail(f"{key}.{day}", f"expected a date such as 2026-12-24 as the key, got {day!r}")
        if parsed.isoformat() in dates:
            _fail(f"{key}.{day}", f"{parsed.isoformat()} is given twice")
        dates[parsed.isoformat()] = _hours_value(hours, f"{key}.{day}", closed=True)
    return dates


def _holidays(value: Any, key: str) -> list[dt.date]:
    if not isinstance(value, list):
        _fail(key, f'expected a list of dates such as ["2026-12-25"], got {_kind(value)}')
    dates: list[dt.date] = []
    for item in value:
        if isinstance(item, dt.datetime) or not isinstance(item, (dt.date, str)):
            _fail(key, f"expected a date such as 2026-12-25, got {_kind(item)} {item!r}")
        if isinstance(item, str):
            try:
                if not _ISO_DATE.fullmatch(item.strip()):
                    raise ValueError
                item = dt.date.fromisoformat(item.strip())
            except ValueError:
                _fail(key, f"expected a date such as 2026-12-25, got {item!r}")
        if item not in dates:
            dates.append(item)
    return dates


def _check_public_holidays(name: str, spec: dict, key: str) -> Calendar:
    """The calendar, built to prove its country and subdivision exist (this imports `holidays`)."""
    try:
        calendar = _build_calendar(name, {**spec, "subdivision": None})
    except ValueError as err:
        _fail(f"{key}.country", str(err))
    if spec.get("subdivision"):
        try:
            calendar = _build_calendar(name, spec)
        except ValueError as err:
            _fail(f"{key}.subdivision", str(err))
    return calendar
