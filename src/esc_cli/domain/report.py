"""Report arithmetic that needs no store: the window a person typed, local day
boundaries, nearest-rank percentiles and the rate rules of SPEC §4.

Instants are int epoch seconds in UTC; "local" means the display zone (`--tz`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from esc_cli.domain.model import check_year
from esc_cli.domain.values import value
from esc_cli.errors import UsageError

DAY = 86400
DEFAULT_SPAN = 30 * DAY
# The longest window a report or a policy try reads: a trend has one entry per day, so a
# window of a few thousand years (which --since and --until's years allow) took ~27 s
# and 3 GB; a century holds any team's whole history.
LONGEST_WINDOW_DAYS = 36_525
DIMENSIONS = ("tier", "priority", "category", "owner", "team", "customer")
NONE_VALUE = "(none)"
FORMATS = ("table", "json", "csv", "markdown", "html")

# The figures `previous`, each `by_priority` value and each `by` entry hold, in order.
HEADLINE = (
    "opened",
    "resolved",
    "backlog",
    "escalation_rate",
    "fcr_rate",
    "reopen_rate",
    "csat_avg",
    "csat_count",
    "response_sla_met",
    "resolution_sla_met",
    "time_to_respond",
    "time_to_resolve",
    "time_to_owner",
    "unowned",
)
# Backlog age buckets: [low, high) in seconds of wall-clock age.
AGING = (
    ("<1d", 0, DAY),
    ("1-3d", DAY, 3 * DAY),
    ("3-7d", 3 * DAY, 7 * DAY),
    (">7d", 7 * DAY, None),
)
PERCENTILES = (50, 90)

_SPAN = re.compile(r"(?:\d+[smhdw])+")
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-?W(\d{2})", re.IGNORECASE)


@value
class Window:
    """[since, until): half-open, so adjacent windows never count an instant twice."""

    since: int
    until: int

    @property
    def length(self) -> int:
        return self.until - self.since

    def previous(self) -> "Window":
        return Window(self.since - self.length, self.since)


# -- reading what a person typed ----------------------------------------------------


def local_midnight(day: date, zone: str) -> int:
    """The first instant of a local date. When midnight falls in a DST gap (some zones
    switch at 00:00), fold=0 lands on the instant the clocks jump, which is where
    that day really starts."""
    return int(datetime.combine(day, time(0), tzinfo=ZoneInfo(zone)).timestamp())


def local_date(instant: int, zone: str) -> date:
    return datetime.fromtimestamp(instant, ZoneInfo(zone)).date()


def _period(text: str, now: int, zone: str, what: str) -> tuple[int, int] | None:
    """Named periods and calendar dates as [start, end) instants; None if `text` is not one."""
    today = local_date(now, zone)
    monday = today - timedelta(days=today.weekday())
    month = today.replace(day=1)
    periods = {
        "today": (today, today + timedelta(days=1)),
        "yesterday": (today - timedelta(days=1), today),
        "this week": (monday, monday + timedelta(weeks=1)),
        "last week": (monday - timedelta(weeks=1), monday),
        "this month": (month, _next_month(month)),
        "last month": (_previous_month(month), month),
    }
    key = " ".join(text.lower().replace("_", " ").replace("-", " ").split())
    if key in periods:
        first, after = periods[key]
        return local_midnight(first, zone), local_midnight(after, zone)
    match = _MONTH.fullmatch(text)
    if match:
        check_year(int(match[1]), what, text)
        try:
            first = date(int(match[1]), int(match[2]), 1)
        except ValueError:
            return None
        return local_midnight(first, zone), local_midnight(_next_month(first), zone)
    match = _WEEK.fullmatch(text)
    if match:
        check_year(int(match[1]), what, text)
        try:
            first = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        except ValueError:
            return None
        return local_midnight(first, zone), local_midnight(first + timedelta(weeks=1), zone)
    return None


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def _previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def parse_bound(text: str, *, now: int, zone: str, end: bool, what: str) -> int:
    """One end of a window. A period (date, `yesterday`, `this week`...) gives its start
    as --since and its end as --until; a span (`7d`) is exactly that long before now;
    an ISO time is that instant, read in `zone` when it carries no offset."""
    raw = text.strip()
    if not raw:
        raise UsageError(f"{what} must not be empty")
    if raw.lower() == "now":
        return now
    period = _period(raw, now, zone, what)
    if period is not None:
        return period[1] if end else period[0]
    if _SPAN.fullmatch(raw.lower()):
        from esc_cli.domain.spans import parse_span

        try:
            instant = now - parse_span(raw)
        except ValueError as err:
            raise UsageError(f"{what}: {err}") from None
        check_year(local_date(instant, zone).year, what, raw)  # a century back from 1971
        return instant
    return _parse_iso(raw, zone, end, what)


def _parse_iso(raw: str, zone: str, end: bool, what: str) -> int:
    # pendulum reads what people type (2026-11-02, 2026-11-02 10:15, 20261102, ...);
    # the local-time rules stay ours so they match --now: a time in a DST gap is
    # refused, an ambiguous one takes its first occurrence.
    if (
        len(raw) == 10
        and raw[4] == "-"
        and raw[7] == "-"
        and raw.replace("-", "").isascii()
        and raw.replace("-", "").isdigit()
    ):
        # a plain date, the commonest bound, read without loading pendulum (~35 ms)
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            pass  # not a real date: pendulum words the error
        else:
            check_year(day.year, what, raw)
            return local_midnight(day + timedelta(days=1) if end else day, zone)
    import pendulum

    hint = (
        "use an ISO date or time (2026-11-02, 2026-11-02T10:15), today, yesterday, "
        "this week, last week, this month, or a span such as 7d"
    )
    try:
        parsed = pendulum.parse(raw, exact=True, tz=None)
    except (ValueError, TypeError, OverflowError):  # pendulum's ParserError is a ValueError
        raise UsageError(f"{what}: cannot read '{raw}'", hint=hint) from None
    if isinstance(parsed, (pendulum.DateTime, pendulum.Date)):
        # the end of 9999-12-31, or any instant near it, is past what datetime holds
        check_year(parsed.year, what, raw)
    if isinstance(parsed, pendulum.DateTime):
        moment = datetime(
            parsed.year,
            parsed.month,
            parsed.day,
            parsed.hour,
            parsed.minute,
            parsed.second,
            tzinfo=parsed.tzinfo,
        )
        if moment.tzinfo is None:
            local = ZoneInfo(zone)
            first = moment.replace(tzinfo=local, fold=0)
            round_trip = first.astimezone(timezone.utc).astimezone(local).replace(tzinfo=None)
            if round_trip != moment.replace(tzinfo=None):
                raise UsageError(f"{what}: {raw} does not exist in {zone} (a daylight-saving gap)")
            moment = first
        return int(moment.timestamp())
    if isinstance(parsed, pendulum.Date):
        day = date(parsed.year, parsed.month, parsed.day)
        return local_midnight(day + timedelta(days=1) if end else day, zone)
    raise UsageError(f"{what}: '{raw}' has no date", hint=hint)


def parse_window(since: str | None, until: str | None, now: int, zone: str) -> Window:
    """The report window; by default the last 30 days up to now. With only --until, the
    30 days before it; with only --since, up to now."""
    end = (
        parse_bound(until, now=now, zone=zone, end=True, what="--until")
        if until is not None
        else now
    )
    start = (
        parse_bound(since, now=now, zone=zone, end=False, what="--since")
        if since is not None
        else end - DEFAULT_SPAN
    )
    if start >= end:
        raise UsageError(
            f"the window is empty: --since {_iso(start)} is not before --until {_iso(end)}"
        )
    if end - start > LONGEST_WINDOW_DAYS * DAY:
        raise UsageError(
            f"the window is too long: --since {_iso(start)} to --until {_iso(end)} is more "
            f"than {LONGEST_WINDOW_DAYS:,} days (100 years)"
        )
    return Window(start, end)


def _iso(instant: int) -> str:
    return datetime.fromtimestamp(instant, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def days(window: Window, zone: str) -> list[tuple[str, int, int]]:
    """Each local day the window touches as (date, start, end), clipped to the window:
    a trend's per-day counts then add up to the window's figures."""
    result = []
    day = local_date(window.since, zone)
    last = local_date(window.until - 1, zone)
    one_day = timedelta(days=1)
    # each day's end is the next day's start: one local midnight per day (an all-time
    # report covers some ten thousand days)
    midnight = local_midnight(day, zone)
    while day <= last:
        following = local_midnight(day + one_day, zone)
        start = max(window.since, midnight)
        finish = min(window.until, following)
        if finish > start:
            result.append((day.isoformat(), start, finish))
        day += one_day
        midnight = following
    return result


# -- percentiles and rates -----------------------------------------------------------


def rank(p: int, n: int) -> int:
    """The 1-based nearest rank of the p-th percentile of n sorted values:
    ceil(p/100 * n), at least 1. The SQL in store/report_queries.py uses the same
    integer arithmetic, (p*n + 99) / 100."""
    return max(1, (p * n + 99) // 100)


def nearest_rank(values: list[int], p: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[rank(p, len(ordered)) - 1]


def rate(part: int | None, whole: int | None) -> float | None:
    """A share; null, not zero, when there is nothing to divide by."""
    if not whole:
        return None
    return (part or 0) / whole


def headline(raw: dict) -> dict:
    """The headline figures from the raw counts a store query returns for one group."""
    return {
        "opened": raw.get("opened", 0),
        "resolved": raw.get("resolved", 0),
        "backlog": raw.get("backlog", 0),
        "escalation_rate": rate(raw.get("opened_escalated"), raw.get("opened")),
        "fcr_rate": rate(raw.get("resolved_fcr"), raw.get("resolved")),
        "reopen_rate": rate(raw.get("resolved_reopened"), raw.get("resolved")),
        "csat_avg": rate(raw.get("csat_sum"), raw.get("csat_count")),
        "csat_count": raw.get("csat_count", 0),
        "response_sla_met": rate(raw.get("response_met"), raw.get("response_clocks")),
        "resolution_sla_met": rate(raw.get("resolution_met"), raw.get("resolution_clocks")),
        "time_to_respond": {"p50": raw.get("respond_p50"), "p90": raw.get("respond_p90")},
        "time_to_resolve": {"p50": raw.get("resolve_p50"), "p90": raw.get("resolve_p90")},
        # from each escalation to its owner at the new tier; escalations still unowned
        "time_to_owner": {"p50": raw.get("owner_p50"), "p90": raw.get("owner_p90")},
        "unowned": raw.get("unowned", 0),
    }


def aging(raw: dict) -> dict:
    return {label: raw.get(f"aging_{index}", 0) for index, (label, _, _) in enumerate(AGING)}


def group_value(dimension: str | None, value):
    """The `value` of a `by` entry: a missing owner/team is `(none)`, a tier stays an int."""
    if value is None or value == "":
        return NONE_VALUE
    if dimension == "tier":
        return int(value)
    return value


def order_groups(dimension: str, values: list) -> list:
    """Ladder and priority order where they have one, else alphabetical; `(none)` last."""
    from esc_cli.domain.policy import PRIORITIES

    def key(value):
        if value == NONE_VALUE:
            return (2, 0, "")
        if dimension == "tier":
            return (0, int(value), "")
        if dimension == "priority" and value in PRIORITIES:
            return (0, PRIORITIES.index(value), "")
        return (1, 0, str(value).casefold())

    return sorted(values, key=key)


# How a change against the previous window reads: for these figures up is good news.
GOOD_WHEN_UP = {
    "resolved": True,
    "backlog": False,
    "opened": None,
    "escalation_rate": False,
    "fcr_rate": True,
    "reopen_rate": False,
    "csat_avg": True,
    "csat_count": None,
    "response_sla_met": True,
    "resolution_sla_met": True,
    "unowned": False,
}
