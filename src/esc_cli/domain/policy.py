"""The SLA policy (SPEC §2, §3): parse and validate the TOML file, and mask its secrets.

A policy arrives as TOML text (`policy load`), as the stored document of a
policy version, or as the default below. `parse_policy` and `policy_from_dict`
check every key and value and name the dotted key of the first problem
(`priorities.high.respond`, `rules[2].then.tier`, `channels[1].url`) in a
`PolicyError`. The result is a frozen `Policy` with spans in seconds; its
`raw()` is the validated document as plain TOML-able data (defaults filled in,
spans as written) that `dump_policy` turns back into TOML.

Importing this module is cheap: `tomli_w` and the calendar module (and so
`holidays`) are imported only when they are used.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import field
from typing import TYPE_CHECKING, Any, NoReturn

from esc_cli.domain.spans import parse_span
from esc_cli.domain.values import filled, value

if TYPE_CHECKING:  # pragma: no cover
    from esc_cli.domain.calendar import Calendar

PRIORITIES = ("urgent", "high", "medium", "low")
PRIORITY_ALIASES = {"p1": "urgent", "p2": "high", "p3": "medium", "p4": "low"}
CASE_CHANNELS = ("email", "phone", "chat", "web", "other")
DEFAULT_CATEGORIES = ("technical", "billing", "service-delay", "policy", "product-quality", "other")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
CALENDAR_24X7 = "24x7"
MASK = "****"

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

DEFAULT_POLICY_TOML = """\
# esc SLA policy. `esc policy load FILE.toml` replaces it; `esc policy export` prints it.
timezone = "UTC"            # zone of calendars that name none
warn_at = 0.8               # a clock is at risk once this share of its target has elapsed
close_after = "7d"          # resolved cases are closed by sweep after this (wall clock)
categories = ["technical", "billing", "service-delay", "policy", "product-quality", "other"]

# A span is one or more <integer><unit> parts: 15m, 1h30m, 7d (units s, m, h, d, w).
# A target on a business calendar counts opening hours and may use only m and h;
# on "24x7", d is exactly 24 hours.

[calendars.business]
timezone = "UTC"
days = ["mon", "tue", "wed", "thu", "fri"]
hours = "09:00-17:00"       # or a list: ["09:00-12:00", "13:00-17:00"]
holidays = []               # explicit dates, e.g. ["2026-12-25"]
# country = "DE"            # public holidays from the `holidays` package
# subdivision = "BY"

[priorities.urgent]
respond = "15m"
update = "1h"
resolve = "4h"
calendar = "24x7"

[priorities.high]
respond = "1h"
update = "24h"
resolve = "48h"
calendar = "24x7"

[priorities.medium]
respond = "4h"
update = "16h"
resolve = "40h"
calendar = "business"

[priorities.low]
respond = "8h"
resolve = "80h"             # no update target
calendar = "business"

# The escalation ladder: levels run 1, 2, 3 ... without gaps. A breached case
# with no activity at its tier for stale_after (in the case's calendar) moves
# up one more tier; "none" turns that off.

[tiers.1]
name = "Frontline"
stale_after = "4h"

[tiers.2]
name = "Specialist"
stale_after = "4h"

[tiers.3]
name = "Manager"
stale_after = "4h"

[tiers.4]
name = "Senior management"
stale_after = "none"

# Trigger rules run in file order after open, set, feedback, reopen and import.
# when: category, customer, priority, channel, tag (a value or a list of values),
#       csat_at_most (1..5), reopened_at_least (1 or more); all keys must match.
# then: priority (only raises), team, tier (at least that tier), owner, reopen = true.
#
# [[rules]]
# name = "key-accounts"
# when = { customer = ["Globex", "Initech"] }
# then = { priority = "high", tier = 2 }

# Notification channels: every notification goes to every channel.
#
# [[channels]]
# type = "command"
# argv = ["/usr/local/bin/notify-oncall", "--json"]
# timeout = "10s"
# [[channels]]
# type = "webhook"
# url = "https://chat.example.com/hooks/T0KEN"
# headers = { Authorization = "Bearer T0KEN" }
# timeout = "5s"
# [[channels]]
# type = "email"
# host = "smtp.example.com"
# security = "starttls"                 # or "ssl" (port 465) or "none" (port 25)
# from = "Support desk <esc@example.com>"
# to = "recipient"                      # the owner, else a fallback; or a list of addresses
# fallback = { "team:billing" = "billing@example.com", default = "leads@example.com" }
# username = "esc@example.com"
# password_env = "ESC_SMTP_PASSWORD"    # the password itself is never in the policy
"""


class PolicyError(ValueError):
    """A policy that cannot be used, naming the dotted key of the problem."""

    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}" if key else message)


@value
class PriorityTarget:
    """A priority's SLA targets in seconds (no update clock: None) and its calendar."""

    name: str
    respond: int
    update: int | None
    resolve: int
    calendar: str


@value
class Tier:
    """A rung of the escalation ladder (stale_after None: never escalated as stale)."""

    level: int
    name: str
    stale_after: int | None
    # routing (domain/routing.py): "manual", "least-loaded" or "round-robin"; how soon an
    # escalation here should have an owner; an on-call rotation (domain/rotation.py)
    assign: str = "manual"
    own_within: int | None = None
    oncall: Any = None


@value
class Rule:
    """A trigger rule; `when` values are tuples of lowercase strings (priorities canonical)."""

    name: str
    when: dict
    then: dict


@value
class Channel:
    """Where notifications go: a program (argv), an HTTP endpoint (url, headers) or an
    SMTP server (email: domain/email_settings.py)."""

    type: str
    argv: tuple[str, ...] | None
    url: str | None
    headers: dict
    timeout: int
    name: str
    email: Any = None


@value
class Policy:
    """One policy version, parsed: SLA targets, ladder, calendars, rules, channels."""

    timezone: str
    warn_at: float
    close_after: int
    categories: tuple[str, ...]
    priorities: dict[str, PriorityTarget]
    tiers: dict[int, Tier]
    rules: tuple[Rule, ...]
    channels: tuple[Channel, ...]
    calendar_specs: dict
    # [teams.NAME] routing settings by team name (domain/routing.Settings)
    teams: dict = field(default_factory=dict)
    _doc: dict = field(default_factory=dict, compare=False, repr=False)
    _calendars: dict = field(default_factory=dict, compare=False, repr=False)

    def calendar(self, name: str) -> Calendar:
        """The calendar called `name` ("24x7" or a defined one), built once per policy."""
        built = self._calendars.get(name)
        if built is None:
            if name != CALENDAR_24X7 and name not in self.calendar_specs:
                raise ValueError(f"unknown calendar {name!r}")
            built = _build_calendar(name, self.calendar_specs.get(name))
            self._calendars[name] = built
        return built

    def calendar_for(self, priority: str) -> Calendar:
        return self.calendar(self.priorities[normalise_priority(priority)].calendar)

    @property
    def top_tier(self) -> int:
        return max(self.tiers)

    def raw(self) -> dict:
        """The validated document as plain TOML-able data (a copy)."""
        return copy.deepcopy(self._doc)


def normalise_priority(text: str) -> str:
    """`urgent`/`P1`/`High` -> the canonical priority name; ValueError otherwise. Letter
    case aside the value is exact: ` high` is not a priority (issue 20)."""
    if isinstance(text, str):
        name = text.lower()
        name = PRIORITY_ALIASES.get(name, name)
        if name in PRIORITIES:
            return name
    raise ValueError(f"unknown priority {text!r} (use urgent, high, medium, low or p1..p4)")


# --------------------------------------------------------------------- loading


def parse_policy(text: str) -> Policy:
    """Validate a policy written in TOML; PolicyError names the first bad key."""
    import tomllib

    try:
        doc = tomllib.loads(text)
        return policy_from_dict(doc)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError("", f"not valid TOML: {err}") from None
    except RecursionError:
        # tomllib recurses once per level of `[`/`{`; no policy nests more than a few
        raise PolicyError("", "nested too deeply to be a policy") from None


def policy_from_dict(doc: dict) -> Policy:
    """Validate a policy document (as `tomllib` returns it); PolicyError names the first bad key."""
    doc = _table(doc, "")
    _only(doc, _TOP_KEYS, "")
    raw: dict[str, Any] = {}

    timezone = _zone(doc.get("timezone", "UTC"), "timezone")
    raw["timezone"] = timezone

    warn_at = doc.get("warn_at", 0.8)
    if isinstance(warn_at, bool) or not isinstance(warn_at, (int, float)):
        _fail("warn_at", f"expected a number between 0 and 1, got {_kind(warn_at)}")
    if not 0 < warn_at < 1:  # also refuses nan
        _fail("warn_at", f"must be greater than 0 and less than 1, got {warn_at!r}")
    raw["warn_at"] = warn_at

    close_text = doc.get("close_after", "7d")
    close_after = _span(close_text, "close_after", _WALL_UNITS)
    raw["close_after"] = close_text

    categories = _categories(doc.get("categories", list(DEFAULT_CATEGORIES)))
    raw["categories"] = list(categories)

    calendar_specs, built = _calendars(doc.get("calendars", {}), timezone)
    raw["calendars"] = copy.deepcopy(calendar_specs)

    if "priorities" not in doc:
        _fail("priorities", "missing: define urgent, high, medium and low")
    priorities, raw["priorities"] = _priorities(doc["priorities"], calendar_specs)

    tiers, raw["tiers"] = _tiers(doc.get("tiers", DEFAULT_TIERS), timezone)
    teams, teams_raw = _teams(doc.get("teams", {}), timezone)
    if teams_raw:
        raw["teams"] = teams_raw

    rules, raw["rules"] = _rules(doc.get("rules", []), categories, max(tiers))

    channels, raw["channels"] = _channels(doc.get("channels", []))

    # Every run parses its policy: filled, not constructed, these classes' __init__ need
    # not be compiled (domain/values.py), ≈ 1.7 ms of each command.
    return filled(Policy, dict(
        timezone=timezone,
        warn_at=float(warn_at),
        close_after=close_after,
        categories=categories,
        priorities=priorities,
        tiers=tiers,
        rules=rules,
        channels=channels,
        calendar_specs=calendar_specs,
        teams=teams,
        _doc=raw,
        _calendars=built,
    ))


def dump_policy(doc: dict) -> str:
    """The policy as TOML text (validated first); secrets are kept so the file reloads."""
    import tomli_w

    raw = policy_from_dict(doc).raw()
    for name in ("calendars", "rules", "channels", "teams"):  # `rules = []` between the scalars reads oddly
        if not raw.get(name):
            raw.pop(name, None)
    return tomli_w.dumps(raw)


def default_policy() -> Policy:
    return parse_policy(DEFAULT_POLICY_TOML)


_TOP_KEYS = (
    "timezone",
    "warn_at",
    "close_after",
    "categories",
    "calendars",
    "priorities",
    "tiers",
    "rules",
    "channels",
    "teams",
)


def _categories(value: Any) -> tuple[str, ...]:
    key = "categories"
    if not isinstance(value, list) or not value:
        _fail(key, f"expected a non-empty list of names, got {_kind(value)}")
    seen: set[str] = set()
    for i, name in enumerate(value):
        if not isinstance(name, str) or not name.strip():
            _fail(key, f"entry {i + 1} must be a non-empty string, got {name!r}")
        if _CONTROL.search(name):
            _fail(key, f"entry {i + 1} contains a control character")
        folded = name.lower()
        if folded in seen:
            _fail(key, f"{name!r} is listed twice")
        seen.add(folded)
    return tuple(value)


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
        _only(body, ("timezone", "days", "hours", "holidays", "country", "subdivision", "dates"), key)
        spec: dict[str, Any] = {"timezone": _zone(body.get("timezone", default_zone), f"{key}.timezone")}
        _calendar_hours(body, spec, key)

        spec["holidays"] = [d.isoformat() for d in _holidays(body.get("holidays", []), f"{key}.holidays")]
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
            _fail(f"{key}.hours", "the table names no day: give each working day its hours, "
                  'e.g. { mon = "09:00-17:00" }')
        weekly: dict[str, Any] = {}
        for day, ranges in hours.items():
            name = day.strip().lower()
            if name not in WEEKDAYS:
                _fail(f"{key}.hours.{day}", f"unknown day {day!r} (use mon, tue, wed, thu, fri, sat, sun)")
            if name in weekly:
                _fail(f"{key}.hours.{day}", f"{name!r} is given twice")
            weekly[name] = _hours_value(ranges, f"{key}.hours.{day}")
        if days is not None:
            for day in weekly:
                if day not in days:
                    _fail(f"{key}.hours.{day}", f"{day!r} has opening hours but is not in {key}.days "
                          "(leave days out: the table's days are the working days)")
            for day in days:
                if day not in weekly:
                    _fail(f"{key}.days", f"{day!r} is a working day with no hours in {key}.hours "
                          "(leave days out: the table's days are the working days)")
        spec["hours"] = weekly
        return
    if days is None:
        _fail(f"{key}.days", f"missing: the working days, {_DAYS_EXAMPLE} (or give hours as a "
              'table by day: { mon = "09:00-17:00", sat = "10:00-14:00" })')
    spec["hours"] = _hours_value(hours, f"{key}.hours")


def _hours_value(hours: Any, key: str, closed: bool = False) -> Any:
    """One day's opening hours as written: "HH:MM-HH:MM" or a list of them (`closed`:
    an empty list, a closed day, is allowed)."""
    if not isinstance(hours, str) and not (
        isinstance(hours, list) and (hours or closed) and all(isinstance(h, str) for h in hours)
    ):
        _fail(key, f"expected \"HH:MM-HH:MM\" or a list of them{', [] for closed' if closed else ''}, "
              f"got {_kind(hours)}")
    if hours == []:
        return []
    from esc_cli.domain.calendar import hours_from_text

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


def _build_calendar(name: str, spec: dict | None) -> Calendar:
    from esc_cli.domain import calendar

    if spec is None:
        return calendar.TWENTY_FOUR_SEVEN
    hours = spec["hours"]
    return calendar.BusinessCalendar(
        name,
        spec["timezone"],
        list(spec["days"]) if "days" in spec else None,
        ({day: calendar.hours_from_text(h) for day, h in hours.items()}
         if isinstance(hours, dict) else calendar.hours_from_text(hours)),
        [dt.date.fromisoformat(d) for d in spec["holidays"]],
        spec.get("country"),
        spec.get("subdivision"),
        {dt.date.fromisoformat(d): calendar.hours_from_text(h) if h else []
         for d, h in spec.get("dates", {}).items()},
    )


def _priorities(value: Any, calendars: dict) -> tuple[dict[str, PriorityTarget], dict]:
    table = _table(value, "priorities")
    for name in table:
        if name not in PRIORITIES:
            _fail(f"priorities.{name}", "unknown priority (define exactly urgent, high, medium and low)")
    targets: dict[str, PriorityTarget] = {}
    raw: dict[str, dict] = {}
    for name in PRIORITIES:
        key = f"priorities.{name}"
        if name not in table:
            _fail(key, "missing: every priority needs respond, resolve and calendar")
        body = _table(table[name], key)
        _only(body, ("respond", "update", "resolve", "calendar"), key)
        if "calendar" not in body:
            _fail(f"{key}.calendar", "missing: '24x7' or the name of a [calendars] table")
        calendar = body["calendar"]
        if not isinstance(calendar, str):
            _fail(f"{key}.calendar", f"expected a calendar name, got {_kind(calendar)}")
        if calendar != CALENDAR_24X7 and calendar not in calendars:
            known = ", ".join([CALENDAR_24X7, *calendars])
            _fail(f"{key}.calendar", f"unknown calendar {calendar!r} (defined: {known})")
        units = _WALL_UNITS if calendar == CALENDAR_24X7 else _BUSINESS_UNITS
        spans: dict[str, int | None] = {}
        entry: dict[str, Any] = {}
        for part in ("respond", "update", "resolve"):
            if part not in body:
                if part == "update":
                    spans[part] = None
                    continue
                _fail(f"{key}.{part}", "missing")
            if part == "update" and body[part] == "none":
                spans[part] = None
                continue
            spans[part] = _span(body[part], f"{key}.{part}", units)
            entry[part] = body[part]
        entry["calendar"] = calendar
        raw[name] = entry
        targets[name] = filled(PriorityTarget, dict(
            name=name,
            respond=spans["respond"],
            update=spans["update"],
            resolve=spans["resolve"],
            calendar=calendar,
        ))
    return targets, raw


def _tiers(value: Any, zone: str = "UTC") -> tuple[dict[int, Tier], dict]:
    table = _table(value, "tiers")
    if not table:
        _fail("tiers", "define at least one tier")
    levels: dict[int, Any] = {}
    for level_key, body in table.items():
        text = str(level_key)
        if isinstance(level_key, bool) or not text.isdigit() or text != str(int(text)) or int(text) < 1:
            _fail(f"tiers.{text}", "tier levels are whole numbers 1, 2, 3 ...")
        if int(text) in levels:
            _fail(f"tiers.{text}", "defined twice")
        levels[int(text)] = body
    for level in range(1, len(levels) + 1):
        if level not in levels:
            _fail(f"tiers.{level}", f"missing: levels run from 1 to {max(levels)} without gaps")
    tiers: dict[int, Tier] = {}
    raw: dict[str, dict] = {}
    for level in sorted(levels):
        key = f"tiers.{level}"
        body = _table(levels[level], key)
        _only(body, ("name", "stale_after", *_ROUTING_KEYS), key)
        if "name" not in body:
            _fail(f"{key}.name", "missing: every tier needs a name")
        name = body["name"]
        if not isinstance(name, str) or not name.strip():
            _fail(f"{key}.name", f"expected a non-empty string, got {_kind(name)}")
        if _CONTROL.search(name):
            _fail(f"{key}.name", "contains a control character")
        stale_text = body.get("stale_after", "none")
        stale = None if stale_text == "none" else _span(stale_text, f"{key}.stale_after", _STALE_UNITS)
        routing, routing_raw = _routing(body, key, zone)
        tiers[level] = filled(Tier, dict(level=level, name=name, stale_after=stale,
                                         **{**_ROUTING_DEFAULTS, **routing}))
        raw[str(level)] = {"name": name, "stale_after": stale_text, **routing_raw}
    return tiers, raw


# routing keys of [tiers.N] and [teams.NAME], parsed by domain/routing.py (imported only
# when a table has one)
_ROUTING_KEYS = ("assign", "own_within", "oncall")
_ROUTING_DEFAULTS = {"assign": "manual", "own_within": None, "oncall": None}


def _routing(body: dict, key: str, zone: str) -> tuple[dict, dict]:
    if not any(name in body for name in _ROUTING_KEYS):
        return {}, {}
    from esc_cli.domain.routing import parse_settings

    return parse_settings(body, key, zone)


def _teams(value: Any, zone: str) -> tuple[dict, dict]:
    """[teams.NAME]: a team's routing settings (the team is the case's free-text team)."""
    table = _table(value, "teams")
    teams: dict = {}
    raw: dict = {}
    for name, body in table.items():
        key = f"teams.{name}"
        if not name.strip() or _CONTROL.search(name):
            _fail(key, "a team name must be non-empty text without control characters")
        body = _table(body, key)
        _only(body, _ROUTING_KEYS, key)
        routing, raw[name] = _routing(body, key, zone)
        from esc_cli.domain.routing import Settings

        teams[name] = Settings(scope=f"team:{name}", **routing)
    return teams, raw


_WHEN_LISTS = ("category", "customer", "priority", "channel", "tag")
_WHEN_KEYS = (*_WHEN_LISTS, "csat_at_most", "reopened_at_least")
_THEN_KEYS = ("priority", "team", "tier", "owner", "reopen")


def _rules(value: Any, categories: tuple[str, ...], top_tier: int) -> tuple[tuple[Rule, ...], list]:
    if not isinstance(value, list):
        _fail("rules", f"expected a list of [[rules]] tables, got {_kind(value)}")
    rules: list[Rule] = []
    raw: list[dict] = []
    names: set[str] = set()
    known_categories = {c.lower() for c in categories}
    for index, body in enumerate(value, start=1):
        key = f"rules[{index}]"
        body = _table(body, key)
        _only(body, ("name", "when", "then"), key)
        name = body.get("name")
        if name is None:
            _fail(f"{key}.name", "missing: every rule needs a name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            _fail(f"{key}.name", f"expected a name of letters, digits, '.', '_' and '-' (at most 64), got {name!r}")
        if name in names:
            _fail(f"{key}.name", f"another rule is already called {name!r}")
        names.add(name)

        if "when" not in body:
            _fail(f"{key}.when", "missing: what a case must match")
        when_in = _table(body["when"], f"{key}.when")
        _only(when_in, _WHEN_KEYS, f"{key}.when")
        if not when_in:
            _fail(f"{key}.when", f"give at least one of {', '.join(_WHEN_KEYS)}")
        when: dict[str, Any] = {}
        for part, item in when_in.items():
            part_key = f"{key}.when.{part}"
            if part in _WHEN_LISTS:
                values = _string_or_list(item, part_key)
                if part == "priority":
                    values = tuple(dict.fromkeys(_priority_value(v, part_key) for v in values))
                else:
                    values = tuple(dict.fromkeys(v.lower() for v in values))
                if part == "channel":
                    for v in values:
                        if v not in CASE_CHANNELS:
                            _fail(part_key, f"unknown channel {v!r} (use {', '.join(CASE_CHANNELS)})")
                if part == "category":
                    for v in values:
                        if v not in known_categories:
                            _fail(part_key, f"unknown category {v!r} (categories: {', '.join(categories)})")
                when[part] = values
            elif part == "csat_at_most":
                when[part] = _int(item, part_key, 1, 5)
            else:
                when[part] = _int(item, part_key, 1, None)

        if "then" not in body:
            _fail(f"{key}.then", "missing: what the rule changes")
        then_in = _table(body["then"], f"{key}.then")
        _only(then_in, _THEN_KEYS, f"{key}.then")
        if not then_in:
            _fail(f"{key}.then", f"give at least one of {', '.join(_THEN_KEYS)}")
        then: dict[str, Any] = {}
        for part, item in then_in.items():
            part_key = f"{key}.then.{part}"
            if part == "priority":
                if not isinstance(item, str):
                    _fail(part_key, f"expected a priority, got {_kind(item)}")
                then[part] = _priority_value(item, part_key)
            elif part in ("team", "owner"):
                if not isinstance(item, str) or not item.strip():
                    _fail(part_key, f"expected a non-empty string, got {_kind(item)}")
                if _CONTROL.search(item):
                    _fail(part_key, "contains a control character")
                then[part] = item.strip()
            elif part == "tier":
                then[part] = _int(item, part_key, 1, top_tier)
            else:  # reopen
                if item is not True:
                    _fail(part_key, f"only `reopen = true` is meaningful, got {item!r}")
                then[part] = True
        rules.append(Rule(name=name, when=when, then=then))
        raw.append({"name": name, "when": copy.deepcopy(when_in), "then": copy.deepcopy(then_in)})
    return tuple(rules), raw


def _channels(value: Any) -> tuple[tuple[Channel, ...], list]:
    if not isinstance(value, list):
        _fail("channels", f"expected a list of [[channels]] tables, got {_kind(value)}")
    channels: list[Channel] = []
    raw: list[dict] = []
    for index, body in enumerate(value, start=1):
        key = f"channels[{index}]"
        body = _table(body, key)
        kind = body.get("type")
        if kind is None:
            _fail(f"{key}.type", 'missing: "command", "webhook" or "email"')
        if kind not in ("command", "webhook", "email"):
            _fail(f"{key}.type", f'expected "command", "webhook" or "email", got {kind!r}')
        timeout_text = body.get("timeout", f"{DEFAULT_TIMEOUTS[kind]}s")
        if kind == "command":
            _only(body, ("type", "argv", "timeout"), key)
            argv = body.get("argv")
            if argv is None:
                _fail(f"{key}.argv", 'missing: the program and its arguments, e.g. ["/usr/local/bin/notify"]')
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                _fail(f"{key}.argv", f"expected a non-empty list of strings, got {_kind(argv)}")
            if not argv[0].strip():
                _fail(f"{key}.argv", "the program (first element) is empty")
            if any("\x00" in a for a in argv):
                _fail(f"{key}.argv", "contains a NUL character")
            timeout = _timeout(timeout_text, f"{key}.timeout")
            channels.append(Channel("command", tuple(argv), None, {}, timeout, f"command:{index}"))
            raw.append({"type": "command", "argv": list(argv), "timeout": timeout_text})
        elif kind == "email":
            from esc_cli.domain.email_settings import parse_email_channel

            settings, entry = parse_email_channel(body, key, timeout_text)
            timeout = _timeout(timeout_text, f"{key}.timeout")
            channels.append(Channel("email", None, None, {}, timeout, f"email:{index}", settings))
            raw.append(entry)
        else:
            _only(body, ("type", "url", "headers", "timeout"), key)
            url = body.get("url")
            if url is None:
                _fail(f"{key}.url", "missing: the http(s) address to POST to")
            _check_url(url, f"{key}.url")
            headers = _table(body.get("headers", {}), f"{key}.headers")
            for header, header_value in headers.items():
                header_key = f"{key}.headers.{header}"
                if not _HEADER_NAME.fullmatch(header):
                    _fail(header_key, "not a valid HTTP header name")
                if not isinstance(header_value, str):
                    _fail(header_key, f"expected a string, got {_kind(header_value)}")
                if _CONTROL.search(header_value.replace("\t", " ")):
                    _fail(header_key, "contains a control character")
            timeout = _timeout(timeout_text, f"{key}.timeout")
            channels.append(Channel("webhook", None, url, dict(headers), timeout, f"webhook:{index}"))
            entry = {"type": "webhook", "url": url}
            if headers:
                entry["headers"] = dict(headers)
            entry["timeout"] = timeout_text
            raw.append(entry)
    return tuple(channels), raw


def _check_url(url: Any, key: str) -> None:
    from urllib.parse import urlsplit

    if not isinstance(url, str):
        _fail(key, f"expected an http(s) URL, got {_kind(url)}")
    if _CONTROL.search(url) or " " in url:
        _fail(key, "contains whitespace or a control character")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as err:
        _fail(key, f"not a valid URL ({err})")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        _fail(key, "expected an http:// or https:// URL with a host")


def _timeout(value: Any, key: str) -> int:
    seconds = _span(value, key, _WALL_UNITS)
    if seconds > _MAX_TIMEOUT:
        _fail(key, "must be at most 1h")
    return seconds


# --------------------------------------------------------------------- helpers


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


# --------------------------------------------------------------------- editing


def with_tier(doc: dict, level: int, name: str, stale_after: int | None) -> dict:
    """A new document with tier `level` added (it must be top + 1) or edited; other tiers keep their values."""
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        raise ValueError(f"a tier level is a whole number from 1, got {level!r}")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a tier needs a non-empty name")
    if stale_after is not None and (
        isinstance(stale_after, bool) or not isinstance(stale_after, int) or stale_after <= 0
    ):
        raise ValueError(f"stale_after must be a positive number of seconds or None, got {stale_after!r}")
    new = copy.deepcopy(doc)
    tiers = {str(k): v for k, v in new.get("tiers", DEFAULT_TIERS).items()}
    levels = sorted(int(k) for k in tiers if str(k).isdigit())
    top = max(levels, default=0)
    if str(level) not in tiers and level != top + 1:
        raise ValueError(f"tier {level} would leave a gap: the ladder ends at {top}, add tier {top + 1} next")
    # an edited tier keeps its other keys (routing: assign, own_within, oncall)
    tiers[str(level)] = {**tiers.get(str(level), {}), "name": name,
                         "stale_after": "none" if stale_after is None else _format_stale(stale_after)}
    new["tiers"] = {k: tiers[k] for k in sorted(tiers, key=lambda k: int(k) if k.isdigit() else 0)}
    policy_from_dict(new)  # a PolicyError (a ValueError) if the result is not a valid policy
    return new


def _format_stale(seconds: int) -> str:
    """Seconds as a span in h, m and s (stale_after may count on a business calendar)."""
    parts = []
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts)


# --------------------------------------------------------------------- secrets


def masked(doc: dict) -> dict:
    """A copy for display: header values, a URL's userinfo, path, query and fragment, and every
    argv element after the first replaced by ****."""
    out = copy.deepcopy(doc)
    channels = out.get("channels") if isinstance(out, dict) else None
    if not isinstance(channels, list):
        return out
    for channel in channels:
        if not isinstance(channel, dict):
            continue
        argv = channel.get("argv")
        if isinstance(argv, list) and argv:
            channel["argv"] = [argv[0], *([MASK] * (len(argv) - 1))]
        if isinstance(channel.get("url"), str):
            channel["url"] = mask_url(channel["url"])
        headers = channel.get("headers")
        if isinstance(headers, dict):
            channel["headers"] = {k: MASK for k in headers}
    return out


def mask_url(url: str) -> str:
    """`https://user:pw@host:8443/hooks/T0KEN?x=1` -> `https://****@host:8443/****?****`."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return MASK
    if not parts.scheme or not host:
        return MASK
    if ":" in host:
        host = f"[{host}]"
    text = f"{parts.scheme}://"
    if "@" in parts.netloc:
        text += f"{MASK}@"
    text += host + (f":{port}" if port is not None else "")
    if parts.path and parts.path != "/":
        text += f"/{MASK}"
    elif parts.path == "/":
        text += "/"
    if parts.query:
        text += f"?{MASK}"
    if parts.fragment:
        text += f"#{MASK}"
    return text


# Shorter strings are not masked in free text: replacing every "-v" or "1" would
# garble the message without hiding anything worth hiding.
_MIN_SECRET = 4


def mask_text(text: str, policy_doc: dict) -> str:
    """`text` with every secret of the policy's channels replaced (for error messages and logs)."""
    from urllib.parse import urlsplit

    replacements: dict[str, str] = {}

    def add(secret: Any, replacement: str = MASK) -> None:
        if isinstance(secret, str) and len(secret) >= _MIN_SECRET and secret not in replacements:
            replacements[secret] = replacement

    channels = policy_doc.get("channels") if isinstance(policy_doc, dict) else None
    for channel in channels if isinstance(channels, list) else []:
        if not isinstance(channel, dict):
            continue
        argv = channel.get("argv")
        if isinstance(argv, list):
            for arg in argv[1:]:
                add(arg)
        headers = channel.get("headers")
        if isinstance(headers, dict):
            for value in headers.values():
                add(value)
                if isinstance(value, str) and len(value.split()) > 1:
                    add(value.split()[-1])  # the credential of "Bearer T0KEN"
        url = channel.get("url")
        if isinstance(url, str):
            add(url, mask_url(url))
            try:
                parts = urlsplit(url)
            except ValueError:
                continue
            if "@" in parts.netloc:
                add(parts.netloc.rpartition("@")[0])
            if parts.path != "/":
                add(parts.path.lstrip("/"))
                add(parts.path.rstrip("/").rpartition("/")[2])  # the token of /hooks/T0KEN
            for part in (parts.query, parts.fragment):
                add(part)
    for secret in sorted(replacements, key=len, reverse=True):
        text = text.replace(secret, replacements[secret])
    return text
