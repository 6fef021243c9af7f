"""What every row of an import file is checked with: the fields an import knows,
`RowError`, the checked `CaseRecord`, the `Checker` (policy, owners, zone, now) and the
checks of one value (text, integers, lists, booleans, times)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from esc_cli.domain.model import TEXT_MAX_BYTES, YEARS, Event, iso, local_to_utc
from esc_cli.domain.values import value

if TYPE_CHECKING:  # the annotation only: parsing a policy is not needed to check rows
    from esc_cli.domain.policy import Policy

# Fields of the case object an import understands.
CASE_FIELDS = (
    "id",
    "title",
    "description",
    "customer",
    "category",
    "priority",
    "channel",
    "state",
    "tier",
    "team",
    "owner",
    "tags",
    "opened_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "paused_since",
    "csat",
    "escalations",
    "policy_version",
    "events",
)
# Fields esc computes: accepted (so an export, or the case objects `show`, `queue` and
# `overdue --json` print, re-import) and recomputed.
DERIVED_FIELDS = (
    "tier_name",
    "respond_by",
    "update_by",
    "resolve_by",
    "at_risk",
    "breached",
    "missed",
    "reopened",
    "due_at",
    "due_clock",
    "clocks",
    # queue and overdue (issue 21's unowned deadline; overdue's worst clock)
    "owner_due",
    "unowned_overdue",
    "clock",
    "clock_status",
    "clock_due",
    "overdue_by",
    "due_in",
)
REQUIRED_CASE_FIELDS = ("title", "customer", "priority")
OWNER_FIELDS = ("handle", "name", "email", "tier", "teams", "capacity", "active")
# in an export's owners, not restored by import: load is derived, being away is for now
DERIVED_OWNER_FIELDS = ("load", "away_until", "away_reason")

# Legal state moves (SPEC §1), as (from, to) pairs an event may record.
MOVES = {
    ("new", "open"),
    ("open", "pending"),
    ("pending", "open"),
    ("new", "resolved"),
    ("open", "resolved"),
    ("pending", "resolved"),
    ("resolved", "open"),
    ("resolved", "closed"),
}
MAX_ID = 2**62
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0")


class RowError(ValueError):
    """One reason a row is bad; a row collects all of them."""


@value
class CaseRecord:
    """A checked case row: values canonical, instants as epoch seconds."""

    id: int | None
    title: str
    customer: str
    priority: str
    category: str
    channel: str
    description: str
    tier: int
    team: str | None
    owner: str | None
    tags: tuple[str, ...]
    csat: int | None
    state: str
    opened_at: int
    acknowledged_at: int | None
    resolved_at: int | None
    closed_at: int | None
    paused_since: int | None
    escalated: bool  # write an `escalated` event for a tier above 1
    events: tuple[Event, ...] | None
    policy_version: int | None


@dataclass
class Checker:
    """What a row is checked against. `owners` holds every handle a row may name (the
    store's and the file's own); `policy_versions` the versions a restored case may cite."""

    policy: Policy
    owners: dict
    zone: str
    now: int
    policy_versions: frozenset = frozenset()
    # JSON carries types, so its values are held to them (docs/reliability.md, exact
    # values): `"tier": "2"` or `"id": 8.0` is a mistake there, though CSV has only text.
    typed: bool = False

    def __post_init__(self) -> None:
        self._tz = ZoneInfo(self.zone)
        self._categories = {c.lower(): c for c in self.policy.categories}
        self._plain: dict = {}  # (field, text) -> value, for _plain_case
        self._days: dict = {}  # YYYY-MM-DD -> its UTC midnight, for _plain_case


# -- values --------------------------------------------------------------------

# The JSON type each field of a case or owner object has in what esc prints: a JSON
# file's value of another type is refused, not converted (null is a blank value).
_WHOLE, _TEXT, _LIST, _BOOL = "a whole number", "text", "a list of text", "true or false"
CASE_TYPES = {
    "id": _WHOLE,
    "tier": _WHOLE,
    "csat": _WHOLE,
    "escalations": _WHOLE,
    "policy_version": _WHOLE,
    "title": _TEXT,
    "description": _TEXT,
    "customer": _TEXT,
    "category": _TEXT,
    "priority": _TEXT,
    "channel": _TEXT,
    "state": _TEXT,
    "team": _TEXT,
    "owner": _TEXT,
    "tags": _LIST,
}
OWNER_TYPES = {
    "handle": _TEXT,
    "name": _TEXT,
    "email": _TEXT,
    "tier": _WHOLE,
    "teams": _LIST,
    "capacity": _WHOLE,
    "active": _BOOL,
}


# the Python type json gives each; `type(v) is` because a bool is an int to isinstance
_PYTHON_TYPES = {_WHOLE: int, _TEXT: str, _LIST: list, _BOOL: bool}


def mistyped(raw: dict, types: dict[str, str]) -> dict[str, str]:
    """{field: why} for each field of a JSON object whose value is not of its JSON type."""
    return {
        name: f"{name} must be {wanted} in JSON, got {json_repr(raw[name])}"
        for name, wanted in types.items()
        if raw.get(name) is not None and type(raw[name]) is not _PYTHON_TYPES[wanted]
    }


def json_repr(value) -> str:
    """A value as JSON shows it (`"7"`, `8.0`, `true`), for a message about its type."""
    import json

    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return type(value).__name__
    return text if len(text) <= 40 else type(value).__name__


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _string(value, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise RowError(f"{name} must be text, got {type(value).__name__}")
    text = str(value)
    if len(text.encode("utf-8", "surrogatepass")) > TEXT_MAX_BYTES:
        raise RowError(f"{name} is longer than 1 MiB")
    return text


def _integer(value, name: str, low: int | None = None, high: int | None = None) -> int:
    if isinstance(value, bool):
        raise RowError(f"{name} must be a whole number, got {value!r}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value  # exact, as on the command line: " 7" is not a number (issue 20)
        if text.startswith("#") and name == "id":
            text = text[1:]
        if not (text.isascii() and text.lstrip("-").isdigit()):
            raise RowError(f"{name} must be a whole number, got {value!r}")
        if len(text) > 20:  # int() refuses past 4300 digits; the store past 19
            raise RowError(f"{name} is too large")
        value = int(text)
    if not isinstance(value, int):
        raise RowError(f"{name} must be a whole number, got {value!r}")
    if abs(value) >= 2**63:  # past the store's integers
        raise RowError(f"{name} is too large")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"{low}..{high}" if high is not None else f"{low} or more"
        raise RowError(f"{name} must be {span}, got {value}")
    return value


def _list(value, name: str) -> tuple[str, ...]:
    """A list in JSON, or `a;b;c` in CSV."""
    if isinstance(value, str):
        items = value.split(";")
    elif isinstance(value, (list, tuple)):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise RowError(f"{name} must be a list of text, got {item!r} in it")
            items.append(item)
    else:
        raise RowError(f"{name} must be a list (or 'a;b' in CSV), got {type(value).__name__}")
    return tuple(dict.fromkeys(i.strip() for i in items if i.strip()))


def _boolean(value, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise RowError(f"{name} must be true or false, got {value!r}")


def parse_time(value, name: str, checker: Checker) -> int:
    """An ISO-8601 time (read in the display zone without an offset, a date alone is its
    local midnight) as epoch seconds; never later than now."""
    if isinstance(value, bool) or not isinstance(value, str):
        raise RowError(
            f"{name} must be an ISO-8601 time such as 2026-11-02T10:15:00Z, got {value!r}"
        )
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise RowError(
            f"{name} {value!r} is not a valid time (ISO-8601, e.g. 2026-11-02T10:15:00Z)"
        ) from None
    if not YEARS[0] <= parsed.year < YEARS[1]:
        raise RowError(f"{name} {value!r} is out of range (from {YEARS[0]} to {YEARS[1]})")
    utc = local_to_utc(parsed, checker._tz)
    if utc is None:
        raise RowError(f"{name} {value!r} does not exist in {checker.zone} (a daylight-saving gap)")
    instant = int(utc.timestamp())
    if instant > checker.now:
        raise RowError(f"{name} {iso(instant)} is later than now ({iso(checker.now)})")
    return instant


def _unknown(raw: dict, known: tuple[str, ...]) -> list[str]:
    return [key for key in raw if key not in known]


def _default_category(values: dict, checker: Checker) -> str:
    if values["category"] is not None:
        return values["category"]
    categories = checker.policy.categories
    return "other" if "other" in categories else categories[0]
