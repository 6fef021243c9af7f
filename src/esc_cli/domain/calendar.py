"""Calendars that SLA targets are measured in: `24x7` and business hours.

Every instant is an ``int`` of epoch seconds in UTC. A business calendar is
defined in local wall-clock time (working days, opening hours, holidays in an
IANA zone); each local date's opening hours are converted to UTC once, per
date, so daylight-saving changes are exact:

- a local time inside a DST gap maps to the first valid instant after it;
- an ambiguous local time (the repeated hour) maps to its first occurrence;
- opening hours that span a switch count the real elapsed seconds.

Opening hours are one set for every working day, or one per weekday; single dates may
have their own hours or be closed, winning over the weekday and over holidays. A day
open until 24:00 meets the next day's 00:00, so time counts straight through midnight.
The hours are minute intervals from local midnight, read from and written back to
text by `calendar_hours.py`.

The `holidays` package is imported only when a calendar names a country.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from esc_cli.domain.calendar_hours import check_hours, hours_to_text, merged_hours

Instant = int

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# A calendar with no working time in this many consecutive days is broken.
MAX_IDLE_DAYS = 3660

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY = 86400


@runtime_checkable
class Calendar(Protocol):
    """What the SLA clocks need from a calendar."""

    name: str
    zone: str

    def add(self, start: Instant, seconds: int) -> Instant:
        """The earliest instant t >= start with working(start, t) == seconds."""
        ...

    def working(self, start: Instant, end: Instant) -> int:
        """Working seconds in [start, end); 0 when end <= start."""
        ...

    def spans(self, start: Instant, end: Instant) -> list[tuple[Instant, Instant]]:
        """The working intervals clipped to [start, end), in order."""
        ...


def _check_seconds(seconds: int) -> None:
    if seconds < 0:
        raise ValueError(f"cannot add a negative duration ({seconds}s)")


class TwentyFourSeven:
    """Every second counts: wall-clock elapsed time."""

    def __init__(self) -> None:
        self.name = "24x7"
        self.zone = "UTC"

    def __repr__(self) -> str:
        return "TwentyFourSeven()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TwentyFourSeven)

    def __hash__(self) -> int:
        return hash("24x7")

    def add(self, start: Instant, seconds: int) -> Instant:
        _check_seconds(seconds)
        return start + seconds

    def working(self, start: Instant, end: Instant) -> int:
        return max(0, end - start)

    def spans(self, start: Instant, end: Instant) -> list[tuple[Instant, Instant]]:
        return [(start, end)] if end > start else []


TWENTY_FOUR_SEVEN = TwentyFourSeven()


# --- business calendars ----------------------------------------------------

# Days a calendar's cumulative table covers around the first instant asked about: an
# import or a sweep asks about a few years of instants, each answered by two bisections
# instead of a walk over every working interval up to the due time.
_TABLE_BEFORE = 400
_TABLE_AFTER = 1500
# Widest table, in days: below MAX_IDLE_DAYS, so a run of days without working time
# long enough for the walk to give up on never hides inside one.
_TABLE_MOST = 3000
# Building a table costs ~20 ms in a zone with DST (1,900 days of intervals): only a
# calendar asked many times (an import, a sweep, doctor) makes one; a single-case command
# walks. Starts scattered over many years would rebuild it again and again: after so many
# builds the calendar keeps its last table and walks outside it.
_TABLE_AFTER_CALLS = 64
_TABLE_BUILDS = 16
# `add`'s answers kept (then forgotten all at once): enough for the few cases a caller
# works on at a time, bounded for one that walks a million
_ADDED_KEPT = 4096


class _Table:
    """Working intervals of a run of days with the working seconds before each, so
    `add` and `working` are bisections. Answers None for anything past its last
    interval (the caller walks the calendar instead)."""

    __slots__ = ("low", "high", "valid_from", "valid_until", "starts", "ends", "before", "through")

    def __init__(
        self,
        low: int,
        high: int,
        intervals: list[tuple[Instant, Instant]],
        valid_from: Instant,
        valid_until: Instant,
    ) -> None:
        self.low, self.high = low, high
        self.valid_from, self.valid_until = valid_from, valid_until
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]
        self.before: list[int] = []  # working seconds in the intervals before this one
        self.through: list[int] = []  # ... up to this one's end
        total = 0
        for a, b in intervals:
            self.before.append(total)
            total += b - a
            self.through.append(total)

    def _worked(self, instant: Instant) -> int | None:
        """Working seconds from the table's first interval up to `instant`."""
        index = bisect_right(self.ends, instant)
        if index == len(self.ends):
            return None
        return self.before[index] + max(0, instant - self.starts[index])

    def add(self, start: Instant, seconds: int) -> Instant | None:
        # _worked(start) + seconds, written out: `policy try` asks this a million times
        ends = self.ends
        index = bisect_right(ends, start)
        if index == len(ends):
            return None
        ahead = start - self.starts[index]
        target = self.before[index] + (ahead if ahead > 0 else 0) + seconds
        index = bisect_left(self.through, target)
        if index == len(self.through):
            return None
        return self.starts[index] + (target - self.before[index])

    def working(self, start: Instant, end: Instant) -> int | None:
        first = self._worked(start)
        last = self._worked(end)
        if first is None or last is None:
            return None
        return last - first


class BusinessCalendar:
    """Working days and opening hours in an IANA zone, minus holidays."""

    def __init__(
        self,
        name: str,
        zone: str,
        days: Sequence[str] | None,
        hours: Sequence[tuple[int, int]] | Mapping[str, Sequence[tuple[int, int]]],
        holidays: Sequence[date] = (),
        country: str | None = None,
        subdivision: str | None = None,
        dates: Mapping[date, Sequence[tuple[int, int]]] | None = None,
    ) -> None:
        """`hours`: minute intervals for every working day, or a mapping weekday ->
        intervals whose keys are the working days (then `days` may be None, and must
        name the same days if given). `dates`: a date's own intervals, empty = closed."""
        self.name = name
        self.zone = zone
        try:
            self._tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r}") from exc
        self._utc = zone in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu")

        # isinstance spelled out (not kept in a flag) so the type checker narrows `hours`
        if isinstance(hours, Mapping) and days is None:
            days = list(hours)
        if isinstance(days, str) or not days:
            raise ValueError(
                f"working days must be a non-empty list such as ['mon', 'fri'], got {days!r}"
            )
        weekdays = set()
        for day in days:
            if day not in WEEKDAYS:
                raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            weekdays.add(WEEKDAYS.index(day))
        self.days: tuple[str, ...] = tuple(d for i, d in enumerate(WEEKDAYS) if i in weekdays)
        self._weekdays = frozenset(weekdays)

        # minutes of each working weekday (0 = Monday), touching intervals merged
        self._by_weekday: dict[int, tuple[tuple[int, int], ...]] = {}
        if isinstance(hours, Mapping):
            for day in hours:
                if day not in WEEKDAYS:
                    raise ValueError(f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            if set(hours) != set(self.days):
                raise ValueError(
                    f"the working days {list(self.days)!r} and the days with opening "
                    f"hours {list(hours)!r} differ"
                )
            self.hours: object = {
                d: tuple(check_hours(hours[d], hours[d])) for d in WEEKDAYS if d in hours
            }
            for d, intervals in self.hours.items():
                self._by_weekday[WEEKDAYS.index(d)] = merged_hours(intervals)
        else:
            self.hours = tuple(check_hours(hours, hours))
            merged = merged_hours(self.hours)
            for index in weekdays:
                self._by_weekday[index] = merged
        self._minutes = self._by_weekday[min(weekdays)]  # kept for callers of one-set hours

        # a date's own hours (empty: closed) win over its weekday and its holidays
        self.dates: dict[date, tuple[tuple[int, int], ...]] = {}
        self._dated: dict[int, tuple[tuple[int, int], ...]] = {}
        for on, own in sorted((dates or {}).items()):
            checked = tuple(check_hours(own, own)) if own else ()
            self.dates[on] = checked
            self._dated[on.toordinal()] = merged_hours(checked)

        self.holidays: tuple[date, ...] = tuple(sorted(set(holidays)))
        self._holiday_ordinals = frozenset(d.toordinal() for d in self.holidays)
        self.country = country.upper() if country else None
        self.subdivision = subdivision or None
        if self.subdivision and not self.country:
            raise ValueError(f"a holiday subdivision ({subdivision!r}) needs a country")
        self._country_years: dict[int, frozenset[int]] = {}
        if self.country:
            self._holiday_table(())  # no years: only checks the country and subdivision

        self._days: dict[int, tuple[tuple[Instant, Instant], ...]] = {}
        self._table: _Table | None = None
        self._calls = 0
        self._builds = 0
        self._added: dict[tuple[Instant, int], Instant] = {}

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar({self.name!r}, {self.zone!r}, days={list(self.days)!r}, "
            f"hours={self._hours_text()!r}, holidays={len(self.holidays)}, "
            f"country={self.country!r}, subdivision={self.subdivision!r}, dates={len(self.dates)})"
        )

    def _hours_text(self):
        if isinstance(self.hours, dict):
            return {d: hours_to_text(h) for d, h in self.hours.items()}
        return hours_to_text(self.hours)

    # -- holidays

    def _holiday_table(self, years: int | tuple[int, ...]):  # -> holidays.HolidayBase
        import holidays as holidays_package  # slow import: only when a country is named

        try:
            # called only when self.country is set
            return holidays_package.country_holidays(
                self.country,  # type: ignore[arg-type]
                subdiv=self.subdivision,
                years=years,
            )
        except NotImplementedError as exc:
            if self.subdivision:
                raise ValueError(
                    f"unknown holiday country/subdivision {self.country!r}/{self.subdivision!r}: {exc}"
                ) from exc
            raise ValueError(f"unknown holiday country {self.country!r}: {exc}") from exc

    def _country_holidays(self, year: int) -> frozenset[int]:
        """Ordinals of the country's public holidays in `year`, computed once per year."""
        cached = self._country_years.get(year)
        if cached is None:
            table = self._holiday_table(year)
            cached = frozenset(d.toordinal() for d in table if d.year == year)
            self._country_years[year] = cached
        return cached

    def is_holiday(self, day: date) -> bool:
        ordinal = day.toordinal()
        if ordinal in self._holiday_ordinals:
            return True
        return bool(self.country) and ordinal in self._country_holidays(day.year)

    # -- local time to UTC

    def _local_to_utc(self, ordinal: int, minute: int) -> Instant:
        """UTC instant of `minute` after local midnight of the date `ordinal`."""
        if self._utc:
            return (ordinal - _EPOCH_ORDINAL) * _DAY + minute * 60
        naive = datetime.fromordinal(ordinal) + timedelta(minutes=minute)
        instant = int(naive.replace(tzinfo=self._tz).timestamp())  # fold=0: first occurrence
        back = datetime.fromtimestamp(instant, self._tz).replace(tzinfo=None)
        if back == naive:
            return instant
        # In a gap: fold=0 read it with the offset before the switch, which lands
        # after the switch; fold=1 lands before it. The switch instant lies between.
        low = int(naive.replace(tzinfo=self._tz, fold=1).timestamp())
        high = instant
        after = datetime.fromtimestamp(high, self._tz).utcoffset()
        while high - low > 1:
            mid = (low + high) // 2
            if datetime.fromtimestamp(mid, self._tz).utcoffset() == after:
                high = mid
            else:
                low = mid
        return high

    def _local_ordinal(self, instant: Instant) -> int:
        if self._utc:
            return instant // _DAY + _EPOCH_ORDINAL
        return datetime.fromtimestamp(instant, self._tz).toordinal()

    def day_intervals(self, ordinal: int) -> tuple[tuple[Instant, Instant], ...]:
        """The UTC working intervals of one local date (by `date.toordinal()`), memoised."""
        cached = self._days.get(ordinal)
        if cached is not None:
            return cached
        intervals: tuple[tuple[Instant, Instant], ...] = ()
        minutes = self._dated.get(ordinal)
        if minutes is None:
            weekday = (ordinal - 1) % 7
            if weekday in self._weekdays and not self.is_holiday(date.fromordinal(ordinal)):
                minutes = self._by_weekday[weekday]
        if minutes:
            found = []
            for a, b in minutes:
                start, end = self._local_to_utc(ordinal, a), self._local_to_utc(ordinal, b)
                if end > start:  # an interval wholly inside a DST gap is empty
                    found.append((start, end))
            intervals = tuple(found)
        self._days[ordinal] = intervals
        return intervals

    def _table_for(self, start: Instant) -> _Table | None:
        """The cumulative table, covering the days `_intervals(start)` walks from; made
        (or widened backwards) on demand. None for a calendar too sparse to tabulate."""
        table = self._table
        if table is not None and table.valid_from <= start < table.valid_until:
            return table
        self._calls += 1
        if self._calls < _TABLE_AFTER_CALLS or self._builds >= _TABLE_BUILDS:
            return None
        self._builds += 1
        ordinal = self._local_ordinal(start)
        low = ordinal - _TABLE_BEFORE
        high = ordinal + _TABLE_AFTER
        if table is not None and max(high, table.high) - min(low, table.low) <= _TABLE_MOST:
            low, high = min(low, table.low), max(high, table.high)
        intervals = [i for day in range(low, high + 1) for i in self.day_intervals(day)]
        if not intervals:
            return None
        # a start on the day after `low` walks from `low` itself: valid from its midnight
        self._table = table = _Table(
            low,
            high,
            intervals,
            self._local_to_utc(low + 1, 0),
            self._local_to_utc(high - _TABLE_AFTER // 2, 0),
        )
        return table

    def _intervals(
        self, start: Instant, end: Instant | None = None
    ) -> Iterator[tuple[Instant, Instant]]:
        """Working intervals that end after `start`, clipped to it, in order.

        Without `end` the stream is endless (for `add`), so a calendar with no
        working time at all raises ValueError instead of looping forever.
        """
        # Begin a day early: a local date's hours never start before its midnight,
        # but the day before is cheap insurance against odd zones.
        ordinal = self._local_ordinal(start) - 1
        last = None if end is None else self._local_ordinal(end) + 1
        idle = 0
        while last is None or ordinal <= last:
            intervals = self.day_intervals(ordinal)
            if intervals:
                idle = 0
                for a, b in intervals:
                    if b > start:
                        yield (max(a, start), b)
            else:
                idle += 1
                if idle > MAX_IDLE_DAYS:
                    raise ValueError(
                        f"calendar {self.name!r} has no working time in {MAX_IDLE_DAYS} days"
                    )
            ordinal += 1

    # -- the Calendar protocol

    def add(self, start: Instant, seconds: int) -> Instant:
        # a case's clocks ask the same sums again and again as its history replays (its
        # due and warn instants from its opening): remembered, a few thousand at most
        key = (start, seconds)
        found = self._added.get(key)
        if found is not None:
            return found
        # most of the others are in the table (_add, without its calls)
        table = self._table
        if seconds > 0 and table is not None and table.valid_from <= start < table.valid_until:
            found = table.add(start, seconds)
        if found is None:
            found = self._add(start, seconds)
        if len(self._added) >= _ADDED_KEPT:
            self._added.clear()
        self._added[key] = found
        return found

    def _add(self, start: Instant, seconds: int) -> Instant:
        _check_seconds(seconds)
        if seconds == 0:
            return start
        table = self._table_for(start)
        if table is not None:
            found = table.add(start, seconds)
            if found is not None:
                return found
        remaining = seconds
        for a, b in self._intervals(start):
            length = b - a
            if remaining <= length:
                return a + remaining
            remaining -= length
        raise AssertionError("unreachable")  # pragma: no cover

    def working(self, start: Instant, end: Instant) -> int:
        if end <= start:
            return 0
        table = self._table_for(start)
        if table is not None:
            found = table.working(start, end)
            if found is not None:
                return found
        total = 0
        for a, b in self._intervals(start, end):
            if a >= end:
                break
            total += min(b, end) - a
        return total

    def spans(self, start: Instant, end: Instant) -> list[tuple[Instant, Instant]]:
        result: list[tuple[Instant, Instant]] = []
        if end <= start:
            return result
        for a, b in self._intervals(start, end):
            if a >= end:
                break
            b = min(b, end)
            if result and result[-1][1] == a:  # 24:00 meets the next day's 00:00
                result[-1] = (result[-1][0], b)
            else:
                result.append((a, b))
        return result
