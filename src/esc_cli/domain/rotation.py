"""On-call rotations (`[tiers.N.oncall]`, `[teams.NAME.oncall]`): who is on call at an
instant, and when that next changes.

A rotation hands over at a wall-clock time in its own zone (`handoff = "mon 09:00"`,
`every = "1w"`), so a weekly handoff stays at 09:00 local time across a DST change
(the week holds 167 or 169 hours then). Shift k starts at the handoff on
`start + k * every` (local date) and belongs to `people[k mod len(people)]`; an
override gives its window to someone else. Instants are epoch seconds in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from esc_cli.domain.values import value

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# The first shift when the policy names no `start`: a Monday, so that "every 1w from
# 1970-01-05" lines up with any weekday's handoff after moving to that weekday.
_EPOCH = dt.date(1970, 1, 5)
_HANDOFF = re.compile(r"(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?([01]\d|2[0-3]):([0-5]\d)")
_KEYS = ("people", "every", "handoff", "timezone", "start", "overrides")


@value
class Override:
    """`handle` is on call in [start, end) instead of the rotation's person."""

    handle: str
    start: int
    end: int


@value
class Rotation:
    people: tuple[str, ...]
    every_days: int
    weekday: int | None  # 0 = Monday; None: every day
    at: dt.time
    timezone: str
    first: dt.date  # the local date of shift 0
    overrides: tuple[Override, ...] = ()

    def handoff(self, shift: int) -> int:
        """The instant shift `shift` starts: its local date at the handoff time. A handoff
        in a DST gap happens once the clock has moved past it (fold=0's reading)."""
        from zoneinfo import ZoneInfo

        day = self.first + dt.timedelta(days=shift * self.every_days)
        return int(dt.datetime.combine(day, self.at, ZoneInfo(self.timezone)).timestamp())

    def shift_at(self, instant: int) -> int:
        """The number of the shift running at `instant` (negative before the first)."""
        from zoneinfo import ZoneInfo

        local_day = dt.datetime.fromtimestamp(instant, ZoneInfo(self.timezone)).date()
        shift = (local_day - self.first).days // self.every_days
        while self.handoff(shift) > instant:
            shift -= 1
        while self.handoff(shift + 1) <= instant:
            shift += 1
        return shift

    def scheduled(self, instant: int) -> str:
        """Who the rotation itself puts on call at `instant` (overrides aside)."""
        return self.people[self.shift_at(instant) % len(self.people)]

    def override_at(self, instant: int) -> Override | None:
        # a later override wins where two overlap: it was written to correct the other
        for override in reversed(self.overrides):
            if override.start <= instant < override.end:
                return override
        return None

    def on_call(self, instant: int) -> str:
        override = self.override_at(instant)
        return override.handle if override is not None else self.scheduled(instant)

    def after(self, handle: str, instant: int) -> list[str]:
        """Whoever stands in when `handle` (on call at `instant`) cannot take a case: the
        rest of the rotation in order from the next shift, each once."""
        shift = self.shift_at(instant)
        order = [
            self.people[(shift + step) % len(self.people)]
            for step in range(1, len(self.people) + 1)
        ]
        return [h for h in dict.fromkeys(order) if h != handle]

    def changes(self, instant: int, count: int = 2) -> list[tuple[int, str]]:
        """The next `count` instants after `instant` at which someone else goes on call,
        with who that is."""
        result: list[tuple[int, str]] = []
        current = self.on_call(instant)
        cursor = instant
        for _ in range(count * (len(self.overrides) * 2 + len(self.people) + 2)):
            if len(result) >= count:
                break
            candidates = [self.handoff(self.shift_at(cursor) + 1)]
            candidates += [t for o in self.overrides for t in (o.start, o.end) if t > cursor]
            cursor = min(candidates)
            who = self.on_call(cursor)
            if who != current:
                result.append((cursor, who))
                current = who
        return result


class RotationError(ValueError):
    def __init__(self, key: str, message: str):
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


def parse_rotation(body: Any, key: str, default_zone: str) -> tuple[Rotation, dict]:
    """A validated rotation and its TOML-able document; RotationError names the bad key."""
    from zoneinfo import ZoneInfo

    from esc_cli.domain.spans import parse_span

    if not isinstance(body, dict):
        raise RotationError(key, "expected a table with people, every and handoff")
    for name in body:
        if name not in _KEYS:
            raise RotationError(
                f"{key}.{name}", f"unknown key (expected one of: {', '.join(_KEYS)})"
            )
    people = body.get("people")
    if (
        not isinstance(people, list)
        or not people
        or not all(
            isinstance(p, str) and p.strip() and not any(c.isspace() for c in p.strip())
            for p in people
        )
    ):
        raise RotationError(
            f"{key}.people", 'expected a non-empty list of owner handles, e.g. ["dana", "erin"]'
        )
    people = [p.strip() for p in people]
    if len(set(people)) != len(people):
        raise RotationError(f"{key}.people", "a handle is listed twice")

    zone_name = body.get("timezone", default_zone)
    try:
        if not isinstance(zone_name, str):
            raise ValueError
        ZoneInfo(zone_name)
    except Exception:  # noqa: BLE001 - zoneinfo raises several kinds for a bad name
        raise RotationError(
            f"{key}.timezone",
            f"unknown time zone {zone_name!r} (use an IANA name such as 'Europe/Berlin')",
        ) from None

    handoff = body.get("handoff", "09:00")
    match = _HANDOFF.fullmatch(handoff.strip().lower()) if isinstance(handoff, str) else None
    if match is None:
        raise RotationError(f"{key}.handoff", f'expected "mon 09:00" or "09:00", got {handoff!r}')
    weekday = WEEKDAYS.index(match.group(1)) if match.group(1) else None
    at = dt.time(int(match.group(2)), int(match.group(3)))

    every = body.get("every", "1w" if weekday is not None else "1d")
    try:
        seconds = parse_span(every, "dw")
    except ValueError as err:
        raise RotationError(
            f"{key}.every", f"{err} (a rotation hands over on whole days)"
        ) from None
    days = seconds // 86400
    if days < 1:
        raise RotationError(f"{key}.every", f"must be at least 1d, got {every!r}")
    if weekday is not None and days % 7:
        raise RotationError(
            f"{key}.every", f"a handoff on a weekday needs whole weeks (e.g. '1w'), got {every!r}"
        )

    start = body.get("start")
    if start is None:
        first = _EPOCH if weekday is None else _EPOCH + dt.timedelta(days=weekday)
    else:
        try:
            first = (
                start
                if isinstance(start, dt.date) and not isinstance(start, dt.datetime)
                else dt.date.fromisoformat(start.strip())
            )
        except (AttributeError, ValueError):
            raise RotationError(
                f"{key}.start", f"expected a date such as 2026-11-30, got {start!r}"
            ) from None
        if weekday is not None and first.weekday() != weekday:
            raise RotationError(
                f"{key}.start", f"{first.isoformat()} is not a {match.group(1)} (the handoff's day)"
            )

    overrides_in = body.get("overrides", [])
    if not isinstance(overrides_in, list):
        raise RotationError(f"{key}.overrides", "expected a list of { handle, from, until } tables")
    overrides = []
    for index, item in enumerate(overrides_in, start=1):
        item_key = f"{key}.overrides[{index}]"
        if not isinstance(item, dict):
            raise RotationError(item_key, "expected a table { handle, from, until }")
        for name in item:
            if name not in ("handle", "from", "until"):
                raise RotationError(
                    f"{item_key}.{name}", "unknown key (expected one of: handle, from, until)"
                )
        handle = item.get("handle")
        if (
            not isinstance(handle, str)
            or not handle.strip()
            or any(c.isspace() for c in handle.strip())
        ):
            raise RotationError(f"{item_key}.handle", "expected an owner handle")
        begin = _instant(item.get("from"), f"{item_key}.from", zone_name)
        end = _instant(item.get("until"), f"{item_key}.until", zone_name)
        if end <= begin:
            raise RotationError(f"{item_key}.until", "must be later than from")
        overrides.append(Override(handle.strip(), begin, end))

    rotation = Rotation(tuple(people), days, weekday, at, zone_name, first, tuple(overrides))
    raw: dict[str, Any] = {
        "people": people,
        "every": every,
        "handoff": handoff.strip(),
        "timezone": zone_name,
    }
    if start is not None:
        raw["start"] = first.isoformat()
    if overrides_in:
        raw["overrides"] = [dict(o) for o in overrides_in]
    return rotation, raw


def _instant(text: Any, key: str, zone_name: str) -> int:
    """A TOML date-time or an ISO-8601 string; without an offset it is read in the
    rotation's zone."""
    from zoneinfo import ZoneInfo

    from esc_cli.domain.model import local_to_utc

    if isinstance(text, str):
        try:
            text = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
        except ValueError:
            raise RotationError(
                key, f"expected a time such as 2026-12-24T09:00, got {text!r}"
            ) from None
    if not isinstance(text, dt.datetime):
        raise RotationError(key, "expected a time such as 2026-12-24T09:00")
    aware = local_to_utc(text, ZoneInfo(zone_name))
    if aware is None:
        raise RotationError(key, f"{text} does not exist in {zone_name} (a daylight-saving gap)")
    return int(aware.timestamp())
