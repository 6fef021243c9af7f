"""The words a policy file uses (priorities and their aliases, case channels, weekdays,
the default categories and tiers), the units its spans may use, and the checks of one
key's value that every section shares: each names the dotted key of the problem in a
`PolicyError`."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NoReturn

from esc_cli.domain.spans import parse_span

PRIORITIES = ("urgent", "high", "medium", "low")
PRIORITY_ALIASES = {"p1": "urgent", "p2": "high", "p3": "medium", "p4": "low"}
CASE_CHANNELS = ("email", "phone", "chat", "web", "other")
DEFAULT_CATEGORIES = ("technical", "billing", "service-delay", "policy", "product-quality", "other")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALENDAR_24X7 = "24x7"

DEFAULT_TIERS = {
    "1": {"name": "Frontline", "stale_after": "4h"},
    "2": {"name": "Specialist", "stale_after": "4h"},
    "3": {"name": "Manager", "stale_after": "4h"},
    "4": {"name": "Senior management", "stale_after": "none"},
}
DEFAULT_TIMEOUTS = {"command": 10, "webhook": 5, "email": 10}

# Units a target may use: opening hours are counted in minutes and hours only.
_BUSINESS_UNITS = "mh"
_WALL_UNITS = "smhdw"
# stale_after counts in the case's calendar, which may be a business one.
_STALE_UNITS = "smh"
_MAX_TIMEOUT = 3600
_UNIT_REASONS = {
    _BUSINESS_UNITS: "a business calendar counts opening hours: use only m and h, e.g. '40h'",
    _STALE_UNITS: "stale_after counts in the case's calendar, which may be a business one: use s, m or h",
}

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class PolicyError(ValueError):
    """A policy that cannot be used, naming the dotted key of the problem."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


def normalise_priority(text: str) -> str:
    """`urgent`/`P1`/`High` -> the canonical priority name; ValueError otherwise. Letter
    case aside the value is exact: ` high` is not a priority (issue 20)."""
    if isinstance(text, str):
        name = text.lower()
        name = PRIORITY_ALIASES.get(name, name)
        if name in PRIORITIES:
            return name
    raise ValueError(f"unknown priority {text!r} (use urgent, high, medium, low or p1..p4)")


def _fail(key: str, message: str) -> NoReturn:
    raise PolicyError(key, message)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"an integer ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value!r})"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, (dt.date, dt.time)):
        return f"a date/time ({value.isoformat()})"
    return type(value).__name__


def _table(value: Any, key: str) -> dict:
    if not isinstance(value, dict):
        _fail(key, f"expected a table, got {_kind(value)}")
    return value


def _only(table: dict, allowed: tuple[str, ...], key: str) -> None:
    for name in table:
        if name not in allowed:
            where = f"{key}.{name}" if key else str(name)
            _fail(where, f"unknown key (expected one of: {', '.join(allowed)})")


def _zone(value: Any, key: str) -> str:
    import zoneinfo

    if not isinstance(value, str) or not value.strip():
        _fail(key, f"expected an IANA time zone such as 'Europe/Berlin', got {_kind(value)}")
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        _fail(key, f"unknown time zone {value!r} (use an IANA name such as 'Europe/Berlin')")
    return value


def _span(value: Any, key: str, units: str) -> int:
    if not isinstance(value, str):
        _fail(key, f"expected a span such as '4h' or '1h30m', got {_kind(value)}")
    try:
        seconds = parse_span(value, units)
    except ValueError as err:
        message = str(err)
        if units in _UNIT_REASONS and "not allowed" in message:
            message = f"{_UNIT_REASONS[units]} (got {value!r})"
        _fail(key, message)
    if seconds <= 0:
        _fail(key, f"must be longer than zero, got {value!r}")
    return seconds


def _int(value: Any, key: str, low: int, high: int | None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(key, f"expected a whole number, got {_kind(value)}")
    if value < low or (high is not None and value > high):
        bounds = f"from {low} to {high}" if high is not None else f"{low} or more"
        _fail(key, f"must be {bounds}, got {value}")
    return value


def _string_or_list(value: Any, key: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        _fail(key, f"expected a string or a non-empty list of strings, got {_kind(value)}")
    for item in items:
        if not isinstance(item, str) or not item.strip():
            _fail(key, f"expected non-empty strings, got {_kind(item)}")
    return tuple(items)


def _priority_value(value: str, key: str) -> str:
    try:
        return normalise_priority(value)
    except ValueError as err:
        _fail(key, str(err))
