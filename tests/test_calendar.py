"""Business calendars and 24x7: hand-computed due times, DST, holidays, properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_cli.domain.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    Calendar,
    TwentyFourSeven,
)
from esc_cli.domain.calendar_hours import hours_from_text, hours_to_text

H = 3600
M = 60
WORKWEEK = ["mon", "tue", "wed", "thu", "fri"]
NINE_TO_FIVE = [(9 * 60, 17 * 60)]
NEW_YORK = "America/New_York"
BERLIN = "Europe/Berlin"


def at(zone: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    """Epoch seconds of a local wall-clock time (fold=0)."""
    return int(datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone)).timestamp())


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return at("UTC", y, mo, d, h, mi)


def local(zone: str, instant: int) -> datetime:
    return datetime.fromtimestamp(instant, ZoneInfo(zone))


def offset_hours(zone: str, instant: int) -> float:
    return local(zone, instant).utcoffset() / timedelta(hours=1)


def business(zone: str = "UTC", **kwargs) -> BusinessCalendar:
    kwargs.setdefault("days", WORKWEEK)
    kwargs.setdefault("hours", NINE_TO_FIVE)
    return BusinessCalendar("business", zone, **kwargs)


# --- 24x7 -------------------------------------------------------------------


def test_twenty_four_seven_is_elapsed_time():
    cal = TwentyFourSeven()
    assert (cal.name, cal.zone) == ("24x7", "UTC")
    start = utc(2026, 3, 6, 15)
    assert cal.add(start, 4 * H) == start + 4 * H
    assert cal.add(start, 0) == start
    assert cal.working(start, start + 90) == 90
    assert cal.working(start + 90, start) == 0
    assert cal.spans(start, start + 90) == [(start, start + 90)]
    assert cal.spans(start, start) == []
    with pytest.raises(ValueError):
        cal.add(start, -1)


def test_twenty_four_seven_across_dst_is_exact_elapsed_seconds():
    # Sat 2026-03-07 12:00 EST (-5) = 17:00 UTC; + 24h = Sun 17:00 UTC = 13:00 EDT (-4):
    # the wall clock lost an hour overnight, the target did not.
    cal = TwentyFourSeven()
    start = at(NEW_YORK, 2026, 3, 7, 12)
    due = cal.add(start, 24 * H)
    assert due == utc(2026, 3, 8, 17)
    assert local(NEW_YORK, due).hour == 13
    # Fall back: Sat 2026-10-31 12:00 EDT = 16:00 UTC; + 24h = Sun 16:00 UTC = 11:00 EST.
    start = at(NEW_YORK, 2026, 10, 31, 12)
    assert local(NEW_YORK, cal.add(start, 24 * H)).hour == 11


def test_both_calendars_satisfy_the_protocol():
    assert isinstance(TwentyFourSeven(), Calendar)
    assert isinstance(business(), Calendar)


# --- business hours in UTC -----------------------------------------------------


def test_friday_afternoon_medium_response():
    # Fri 2026-03-06 15:00, 4h: Fri 15:00-17:00 = 2h, Mon 09:00-11:00 = 2h -> Mon 11:00.
    cal = business()
    assert cal.add(utc(2026, 3, 6, 15), 4 * H) == utc(2026, 3, 9, 11)


def test_friday_afternoon_medium_resolution():
    # 40h from Fri 15:00: Fri 2h, Mon-Thu 4 x 8h = 32h (34h so far), Fri 09:00 + 6h = 15:00.
    cal = business()
    assert cal.add(utc(2026, 3, 6, 15), 40 * H) == utc(2026, 3, 13, 15)
    assert cal.working(utc(2026, 3, 6, 15), utc(2026, 3, 13, 15)) == 40 * H


def test_target_that_runs_out_at_closing_returns_closing_time():
    cal = business()
    # Fri 15:00 + 2h = Fri 17:00, not Mon 09:00.
    assert cal.add(utc(2026, 3, 6, 15), 2 * H) == utc(2026, 3, 6, 17)
    # Mon 09:00 + 8h = Mon 17:00.
    assert cal.add(utc(2026, 3, 9, 9), 8 * H) == utc(2026, 3, 9, 17)
    # Mon 17:00 + 1s: closed until Tue 09:00 -> Tue 09:00:01.
    assert cal.add(utc(2026, 3, 9, 17), 1) == utc(2026, 3, 10, 9) + 1


def test_start_outside_hours_counts_from_next_opening():
    cal = business()
    # Sat 2026-03-07 10:00 + 1h -> Mon 09:00 + 1h = Mon 10:00.
    assert cal.add(utc(2026, 3, 7, 10), 1 * H) == utc(2026, 3, 9, 10)
    # Tue 2026-03-10 03:00 + 1h -> Tue 09:00 + 1h = 10:00.
    assert cal.add(utc(2026, 3, 10, 3), 1 * H) == utc(2026, 3, 10, 10)
    # Tue 18:00 + 1h -> Wed 09:00 + 1h = Wed 10:00.
    assert cal.add(utc(2026, 3, 10, 18), 1 * H) == utc(2026, 3, 11, 10)
    # Sun 2026-03-08 23:59 + 30m -> Mon 09:30.
    assert cal.add(utc(2026, 3, 8, 23, 59), 30 * M) == utc(2026, 3, 9, 9, 30)


def test_add_zero_is_identity_even_when_closed():
    cal = business()
    saturday = utc(2026, 3, 7, 10)
    assert cal.add(saturday, 0) == saturday
    with pytest.raises(ValueError):
        cal.add(saturday, -1)


def test_working_counts_half_open_ranges():
    cal = business()
    # Fri 16:00 -> Mon 10:00: Fri 1h + Mon 1h = 2h (the pause example of SPEC §2).
    assert cal.working(utc(2026, 3, 6, 16), utc(2026, 3, 9, 10)) == 2 * H
    # A weekend alone is nothing; an empty or reversed range is nothing.
    assert cal.working(utc(2026, 3, 7, 0), utc(2026, 3, 9, 0)) == 0
    assert cal.working(utc(2026, 3, 9, 10), utc(2026, 3, 9, 10)) == 0
    assert cal.working(utc(2026, 3, 9, 12), utc(2026, 3, 9, 10)) == 0
    # A whole week Mon 00:00 -> next Mon 00:00 = 5 x 8h.
    assert cal.working(utc(2026, 3, 9), utc(2026, 3, 16)) == 40 * H


def test_split_hours_with_lunch_break():
    cal = business(hours=[(9 * 60, 12 * 60), (13 * 60, 17 * 60)])
    mon = (2026, 3, 9)
    # Mon 11:00 + 1h = 12:00 (runs out exactly at the lunch close).
    assert cal.add(utc(*mon, 11), 1 * H) == utc(*mon, 12)
    # Mon 11:00 + 2h: 11-12 = 1h, 13-14 = 1h -> 14:00.
    assert cal.add(utc(*mon, 11), 2 * H) == utc(*mon, 14)
    # Mon 12:30 (lunch) + 30m -> 13:30.
    assert cal.add(utc(*mon, 12, 30), 30 * M) == utc(*mon, 13, 30)
    # A full day is 3h + 4h = 7h: Mon 09:00 + 7h = Mon 17:00; + 8h = Tue 10:00.
    assert cal.add(utc(*mon, 9), 7 * H) == utc(*mon, 17)
    assert cal.add(utc(*mon, 9), 8 * H) == utc(2026, 3, 10, 10)
    # Mon 10:00 -> Tue 10:00: Mon 10-12 (2h) + 13-17 (4h) + Tue 09-10 (1h) = 7h.
    start, end = utc(*mon, 10), utc(2026, 3, 10, 10)
    spans = cal.spans(start, end)
    assert spans == [
        (utc(*mon, 10), utc(*mon, 12)),
        (utc(*mon, 13), utc(*mon, 17)),
        (utc(2026, 3, 10, 9), utc(2026, 3, 10, 10)),
    ]
    assert cal.working(start, end) == sum(b - a for a, b in spans) == 7 * H


def test_touching_intervals_behave_as_one():
    cal = business(hours=[(9 * 60, 12 * 60), (12 * 60, 17 * 60)])
    mon = (2026, 3, 9)
    assert cal.add(utc(*mon, 9), 8 * H) == utc(*mon, 17)
    assert cal.spans(utc(*mon), utc(*mon, 23)) == [(utc(*mon, 9), utc(*mon, 17))]


def test_round_the_clock_days_merge_into_one_span():
    # 00:00-24:00 Mon-Fri: Mon 00:00 -> Sat 00:00 is one 120h span; Sat/Sun closed.
    cal = business(hours=[(0, 1440)])
    spans = cal.spans(utc(2026, 3, 9), utc(2026, 3, 16))
    assert spans == [(utc(2026, 3, 9), utc(2026, 3, 14))]
    # Fri 23:00 + 2h -> Fri 24:00 is 1h, then Mon 00:00 + 1h = Mon 01:00.
    assert cal.add(utc(2026, 3, 13, 23), 2 * H) == utc(2026, 3, 16, 1)


# --- holidays ---------------------------------------------------------------


def test_explicit_holiday_is_skipped():
    # Mon 2026-03-09 is a holiday: Fri 15:00 + 4h = Fri 2h + Tue 09:00-11:00 -> Tue 11:00.
    cal = business(holidays=[date(2026, 3, 9)])
    assert cal.add(utc(2026, 3, 6, 15), 4 * H) == utc(2026, 3, 10, 11)
    assert cal.working(utc(2026, 3, 9), utc(2026, 3, 10)) == 0
    assert cal.is_holiday(date(2026, 3, 9))
    assert not cal.is_holiday(date(2026, 3, 10))


def test_us_thanksgiving_is_skipped():
    # Thanksgiving is Thu 2026-11-26. Wed 15:00 + 4h in New York: Wed 15-17 = 2h,
    # Thu closed, Fri 09-11 = 2h -> Fri 2026-11-27 11:00 EST (16:00 UTC).
    cal = business(NEW_YORK, country="US")
    due = cal.add(at(NEW_YORK, 2026, 11, 25, 15), 4 * H)
    assert due == at(NEW_YORK, 2026, 11, 27, 11) == utc(2026, 11, 27, 16)
    # Without the country, Thursday works: Thu 11:00.
    assert business(NEW_YORK).add(at(NEW_YORK, 2026, 11, 25, 15), 4 * H) == at(NEW_YORK, 2026, 11, 26, 11)


def test_bavarian_epiphany_is_skipped_but_not_in_all_of_germany():
    # Epiphany, Tue 2026-01-06, is a public holiday in Bavaria only.
    # Mon 15:00 + 4h: Mon 2h, (Tue closed in BY), 2h more -> Wed 11:00 in BY, Tue 11:00 in DE.
    start = at(BERLIN, 2026, 1, 5, 15)
    bavaria = business(BERLIN, country="DE", subdivision="BY")
    assert bavaria.add(start, 4 * H) == at(BERLIN, 2026, 1, 7, 11)
    assert business(BERLIN, country="DE").add(start, 4 * H) == at(BERLIN, 2026, 1, 6, 11)
    # New Year's Day is national: Thu 2026-01-01 has no working time anywhere in DE.
    assert bavaria.working(at(BERLIN, 2026, 1, 1), at(BERLIN, 2026, 1, 2)) == 0


def test_country_holidays_are_computed_per_year():
    # Christmas 2025 (Thu), 2026 (Fri) and 2027 (Sat) in one calendar, New Year's too.
    cal = business(country="US")
    assert cal.is_holiday(date(2025, 12, 25))
    assert cal.is_holiday(date(2026, 12, 25))
    # Thu 2026-12-31 16:00 + 2h: Thu 1h, Fri 2027-01-01 closed, Mon 2027-01-04 09:00 + 1h.
    assert cal.add(utc(2026, 12, 31, 16), 2 * H) == utc(2027, 1, 4, 10)


def test_unknown_country_or_subdivision_is_rejected_at_construction():
    with pytest.raises(ValueError, match="XX"):
        business(country="XX")
    with pytest.raises(ValueError, match="ZZ"):
        business(country="DE", subdivision="ZZ")
    with pytest.raises(ValueError, match="needs a country"):
        business(subdivision="BY")


# --- daylight saving ----------------------------------------------------------


def test_new_york_spring_forward_over_the_weekend():
    # Fri 2026-03-06 16:00 EST + 4h: Fri 16-17 = 1h, Mon 09-12 = 3h -> Mon 2026-03-09 12:00 EDT.
    cal = business(NEW_YORK)
    start = at(NEW_YORK, 2026, 3, 6, 16)
    due = cal.add(start, 4 * H)
    assert local(NEW_YORK, due).replace(tzinfo=None) == datetime(2026, 3, 9, 12)
    assert offset_hours(NEW_YORK, start) == -5 and offset_hours(NEW_YORK, due) == -4
    assert (start, due) == (utc(2026, 3, 6, 21), utc(2026, 3, 9, 16))
    # Mon 09:00-17:00 EDT is still 8 working hours: 13:00-21:00 UTC.
    assert cal.spans(utc(2026, 3, 9), utc(2026, 3, 10)) == [(utc(2026, 3, 9, 13), utc(2026, 3, 9, 21))]


def test_new_york_fall_back_over_the_weekend():
    # Fri 2026-10-30 16:00 EDT (20:00 UTC) + 4h -> Mon 2026-11-02 12:00 EST (17:00 UTC).
    cal = business(NEW_YORK)
    start = at(NEW_YORK, 2026, 10, 30, 16)
    due = cal.add(start, 4 * H)
    assert (start, due) == (utc(2026, 10, 30, 20), utc(2026, 11, 2, 17))
    assert offset_hours(NEW_YORK, start) == -4 and offset_hours(NEW_YORK, due) == -5
    assert cal.working(start, due) == 4 * H


def test_berlin_spring_forward_and_fall_back():
    cal = business(BERLIN)
    # Fri 2026-03-27 16:00 CET (+1, 15:00 UTC) + 4h -> Mon 2026-03-30 12:00 CEST (+2, 10:00 UTC).
    start = at(BERLIN, 2026, 3, 27, 16)
    due = cal.add(start, 4 * H)
    assert (start, due) == (utc(2026, 3, 27, 15), utc(2026, 3, 30, 10))
    assert offset_hours(BERLIN, start) == 1 and offset_hours(BERLIN, due) == 2
    # Fri 2026-10-23 16:00 CEST (14:00 UTC) + 4h -> Mon 2026-10-26 12:00 CET (11:00 UTC).
    start = at(BERLIN, 2026, 10, 23, 16)
    due = cal.add(start, 4 * H)
    assert (start, due) == (utc(2026, 10, 23, 14), utc(2026, 10, 26, 11))
    assert offset_hours(BERLIN, start) == 2 and offset_hours(BERLIN, due) == 1


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # 00:00 EST (05:00 UTC) -> 04:00 EDT (08:00 UTC): 3 real hours.
        (NEW_YORK, date(2026, 3, 8), 3 * H),
        # 00:00 EDT (04:00 UTC) -> 04:00 EST (09:00 UTC): 5 real hours.
        (NEW_YORK, date(2026, 11, 1), 5 * H),
        # 00:00 CET (23:00 UTC) -> 04:00 CEST (02:00 UTC): 3 real hours.
        (BERLIN, date(2026, 3, 29), 3 * H),
        # 00:00 CEST (22:00 UTC) -> 04:00 CET (03:00 UTC): 5 real hours.
        (BERLIN, date(2026, 10, 25), 5 * H),
        # An ordinary day: 4 hours.
        (BERLIN, date(2026, 10, 26), 4 * H),
    ],
)
def test_opening_hours_spanning_a_switch_count_real_seconds(zone, day, expected):
    cal = BusinessCalendar("night", zone, WEEKDAYS, [(0, 4 * 60)])
    start = at(zone, day.year, day.month, day.day)
    nxt = day + timedelta(days=1)
    end = at(zone, nxt.year, nxt.month, nxt.day)  # the next local midnight: 23, 24 or 25 hours on
    assert cal.working(start, end) == expected
    assert cal.add(start, expected) == at(zone, day.year, day.month, day.day, 4)


def test_local_time_in_a_gap_maps_to_the_first_valid_instant_after_it():
    # 2026-03-08 02:30 does not exist in New York; it opens at 03:00 EDT (07:00 UTC).
    # 02:30-04:00 is therefore 03:00-04:00 EDT = 1h, and 02:00-02:30 is empty.
    day = date(2026, 3, 8).toordinal()
    assert BusinessCalendar("b", NEW_YORK, WEEKDAYS, [(150, 240)]).day_intervals(day) == (
        (utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)),
    )
    assert BusinessCalendar("b", NEW_YORK, WEEKDAYS, [(120, 150)]).day_intervals(day) == ()


def test_ambiguous_local_time_takes_the_first_occurrence():
    # 2026-11-01 01:30 happens twice in New York; the first is 01:30 EDT = 05:30 UTC.
    # 01:30-03:00 is 05:30 UTC -> 03:00 EST (08:00 UTC) = 2h30m.
    cal = BusinessCalendar("b", NEW_YORK, WEEKDAYS, [(90, 180)])
    assert cal.day_intervals(date(2026, 11, 1).toordinal()) == ((utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 8)),)


@pytest.mark.parametrize(
    ("zone", "first", "last"),
    [(NEW_YORK, date(2026, 3, 5), date(2026, 3, 11)), (NEW_YORK, date(2026, 10, 29), date(2026, 11, 4)),
     (BERLIN, date(2026, 3, 26), date(2026, 4, 1)), (BERLIN, date(2026, 10, 22), date(2026, 10, 28))],
)
def test_matches_a_minute_by_minute_wall_clock_reference(zone, first, last):
    # A brute-force reference: a minute is working when its local wall clock is
    # Mon-Fri and inside 09:00-12:00 or 13:00-17:30 (no hour here is ambiguous).
    cal = business(zone, hours=[(9 * 60, 12 * 60), (13 * 60, 17 * 60 + 30)])
    tz = ZoneInfo(zone)
    start = at(zone, first.year, first.month, first.day)
    end = at(zone, last.year, last.month, last.day)
    expected = 0
    for t in range(start, end, 60):
        wall = datetime.fromtimestamp(t, tz)
        minute = wall.hour * 60 + wall.minute
        if wall.weekday() < 5 and (540 <= minute < 720 or 780 <= minute < 1050):
            expected += 60
    # Thu, Fri, (weekend), Mon, Tue: four weekdays of 3h + 4h30m.
    assert expected == 4 * (3 * H + 4 * H + 30 * M)
    assert cal.working(start, end) == expected


# --- construction and opening hours as text -------------------------------------


def test_constructor_rejects_bad_definitions():
    with pytest.raises(ValueError, match="days"):
        business(days=[])
    with pytest.raises(ValueError, match="empty"):
        business(hours=[])
    with pytest.raises(ValueError, match="'mo'"):
        business(days=["mo"])
    with pytest.raises(ValueError, match="Mars/Olympus"):
        business("Mars/Olympus")
    with pytest.raises(ValueError):
        business(hours=[(600, 540)])
    with pytest.raises(ValueError):
        business(hours=[(540, 800), (700, 1020)])


def test_calendar_without_any_working_time_raises_instead_of_looping():
    # Mondays only, and every Monday of 2026-2037 is a holiday.
    mondays = [date(2026, 1, 5) + timedelta(weeks=k) for k in range(52 * 12)]
    cal = BusinessCalendar("never", "UTC", ["mon"], NINE_TO_FIVE, holidays=mondays)
    with pytest.raises(ValueError, match="no working time"):
        cal.add(utc(2026, 1, 1), 1 * H)
    # A bounded measurement is simply zero.
    assert cal.working(utc(2026, 1, 1), utc(2027, 1, 1)) == 0
    assert cal.spans(utc(2026, 1, 1), utc(2027, 1, 1)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("09:00-17:00", [(540, 1020)]),
        (["09:00-12:00", "13:00-17:00"], [(540, 720), (780, 1020)]),
        (" 9:30 - 17:45 ", [(570, 1065)]),
        ("00:00-24:00", [(0, 1440)]),
        ("18:00-24:00", [(1080, 1440)]),
        (["09:00-12:00", "12:00-17:00"], [(540, 720), (720, 1020)]),  # touching is not overlapping
    ],
)
def test_hours_from_text(text, expected):
    assert hours_from_text(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("9-17", "'9-17'"),
        ("09:00", "'09:00'"),
        ("09:00-09:00", "'09:00-09:00'"),
        ("17:00-09:00", "'17:00-09:00'"),
        ("25:00-26:00", "'25:00-26:00'"),
        ("09:60-10:00", "'09:60-10:00'"),
        ("24:00-24:00", "'24:00-24:00'"),
        ("09:00-24:30", "'09:00-24:30'"),
        ("", "''"),
        ("nine to five", "'nine to five'"),
        (["09:00-13:00", "12:00-17:00"], "['09:00-13:00', '12:00-17:00']"),
        (["13:00-17:00", "09:00-12:00"], "['13:00-17:00', '09:00-12:00']"),
        (["09:00-12:00", 13], "13"),
    ],
)
def test_hours_from_text_rejects_bad_values_naming_them(text, named):
    with pytest.raises(ValueError) as caught:
        hours_from_text(text)
    assert named in str(caught.value)


def test_hours_from_text_rejects_empty_and_non_text():
    for value in ([], None, 900):
        with pytest.raises(ValueError, match=repr(value).replace("[", r"\[").replace("]", r"\]")):
            hours_from_text(value)


def test_hours_to_text_round_trips():
    for text in ("09:00-17:00", ["09:00-12:00", "13:00-24:00"]):
        assert hours_to_text(hours_from_text(text)) == text


# --- properties -------------------------------------------------------------

ZONES = ["UTC", NEW_YORK, BERLIN]
KINDS = ["nine-to-five", "lunch", "night", "weekend-evenings", "holidays"]


@lru_cache(maxsize=None)
def calendar_for(kind: str, zone: str) -> BusinessCalendar:
    if kind == "nine-to-five":
        return BusinessCalendar(kind, zone, WORKWEEK, NINE_TO_FIVE)
    if kind == "lunch":
        return BusinessCalendar(kind, zone, WORKWEEK, [(540, 720), (780, 1020)])
    if kind == "night":  # starts and ends in the DST gaps and repeated hours of both zones
        return BusinessCalendar(kind, zone, WEEKDAYS, [(0, 90), (150, 200), (1380, 1440)])
    if kind == "weekend-evenings":
        return BusinessCalendar(kind, zone, ["sat", "sun"], [(1200, 1440)])
    country = {"UTC": ("GB", "ENG"), NEW_YORK: ("US", "NY"), BERLIN: ("DE", "BY")}[zone]
    return BusinessCalendar(
        kind, zone, WORKWEEK, NINE_TO_FIVE, holidays=[date(2026, 3, 9)], country=country[0], subdivision=country[1]
    )


calendars = st.builds(calendar_for, st.sampled_from(KINDS), st.sampled_from(ZONES))
instants = st.integers(min_value=utc(2025, 1, 1), max_value=utc(2027, 12, 31))
amounts = st.one_of(st.integers(0, 200 * H), st.integers(0, 200 * 60).map(lambda m: m * 60))
PROPERTY = settings(max_examples=200, deadline=None, derandomize=True)


@PROPERTY
@given(calendars, instants, amounts)
def test_add_then_working_round_trips(cal, start, n):
    due = cal.add(start, n)
    assert due >= start
    assert cal.working(start, due) == n


@PROPERTY
@given(calendars, instants, amounts)
def test_add_is_the_earliest_instant_and_never_lands_in_a_closed_period(cal, start, n):
    due = cal.add(start, n)
    if n == 0:
        assert due == start
    else:
        # The second before the due time is working: it is inside or at the end of
        # an opening interval, never inside a closed period...
        assert cal.working(due - 1, due) == 1
        # ...and one second earlier the target is not yet met.
        assert cal.working(start, due - 1) == n - 1


@PROPERTY
@given(calendars, instants, st.integers(0, 30 * 86400), st.integers(0, 30 * 86400))
def test_working_is_additive(cal, a, ab, bc):
    b, c = a + ab, a + ab + bc
    assert cal.working(a, c) == cal.working(a, b) + cal.working(b, c)


@PROPERTY
@given(calendars, instants, amounts, amounts.filter(lambda n: n > 0))
def test_add_composes(cal, start, first, second):
    assert cal.add(cal.add(start, first), second) == cal.add(start, first + second)


@PROPERTY
@given(calendars, instants, st.integers(0, 20 * 86400))
def test_spans_agree_with_working(cal, start, length):
    end = start + length
    spans = cal.spans(start, end)
    assert sum(b - a for a, b in spans) == cal.working(start, end)
    previous_end = start - 1
    for a, b in spans:
        assert start <= a < b <= end
        assert a > previous_end  # sorted, disjoint and not touching (touching spans merge)
        assert cal.working(a, b) == b - a
        previous_end = b
    # Between spans nothing counts.
    for (_, gap_start), (gap_end, _) in zip(spans, spans[1:]):
        assert cal.working(gap_start, gap_end) == 0


@PROPERTY
@given(st.sampled_from(ZONES), instants, amounts)
def test_round_the_clock_business_calendar_equals_24x7(zone, start, n):
    # Every day 00:00-24:00 in any zone is elapsed time, DST or not.
    cal = BusinessCalendar("always", zone, WEEKDAYS, [(0, 1440)])
    assert cal.add(start, n) == TwentyFourSeven().add(start, n)
    assert cal.working(start, start + n) == n


def test_bulk_due_times_are_cheap():
    # 20,000 due-time computations over two years on one calendar instance.
    cal = calendar_for("holidays", NEW_YORK)
    start = utc(2025, 1, 1)
    step = (2 * 365 * 86400) // 20_000
    dues = [cal.add(start + k * step, 40 * H) for k in range(20_000)]
    assert all(cal.working(start + k * step, dues[k]) == 40 * H for k in range(0, 20_000, 500))
    assert datetime.fromtimestamp(dues[-1], timezone.utc).year in (2026, 2027)
