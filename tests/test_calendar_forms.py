"""Calendars as real desks keep them (issue 19, part 1): opening hours by weekday, whole
days that count straight through midnight, dates with their own hours or closed, a
target landing on closing time, and DST switch days in several zones.

Hand-computed expectations; the arithmetic is in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_cli.domain.calendar import BusinessCalendar
from esc_cli.domain.calendar_hours import hours_from_text
from esc_cli.domain.policy import PolicyError, parse_policy

H = 3600
M = 60


def at(zone: str, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> int:
    return int(datetime(y, mo, d, h, mi, tzinfo=ZoneInfo(zone)).timestamp())


def weekly(zone: str = "UTC", dates=None, holidays=(), **days) -> BusinessCalendar:
    return BusinessCalendar("desk", zone, None, {d: hours_from_text(h) for d, h in days.items()},
                            holidays, dates={date.fromisoformat(k): hours_from_text(v) if v else []
                                             for k, v in (dates or {}).items()})


WEEKDAYS_9_5 = {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")}
SATURDAY = weekly(**WEEKDAYS_9_5, sat=["10:00-12:00", "13:00-14:00"])


# -- hours by weekday ------------------------------------------------------------------

def test_saturday_has_its_own_hours_with_a_lunch_break():
    # Sat 7 Nov 2026 11:30 + 2h: Sat 11:30-12:00 (30m) + 13:00-14:00 (1h), Sunday closed,
    # Mon 09:00 + 30m = Mon 09:30
    start = at("UTC", 2026, 11, 7, 11, 30)
    assert SATURDAY.add(start, 2 * H) == at("UTC", 2026, 11, 9, 9, 30)
    assert SATURDAY.working(start, at("UTC", 2026, 11, 9, 9, 30)) == 2 * H
    # a Saturday is 3h of working time, a weekday 8h: Fri 09:00 -> Mon 09:00 = 11h
    assert SATURDAY.working(at("UTC", 2026, 11, 6, 9), at("UTC", 2026, 11, 9, 9)) == 11 * H


def test_a_24_5_desk_counts_straight_through_midnight():
    # Sunday 22:00 to Friday 22:00 New York time
    desk = weekly("America/New_York", sun="22:00-24:00", mon="00:00-24:00", tue="00:00-24:00",
                  wed="00:00-24:00", thu="00:00-24:00", fri="00:00-22:00")
    ny = "America/New_York"
    # Sun 8 Nov 23:00 + 5h: through midnight, Mon 04:00 (no gap at 24:00/00:00)
    assert desk.add(at(ny, 2026, 11, 8, 23), 5 * H) == at(ny, 2026, 11, 9, 4)
    # Fri 13 Nov 21:00 + 3h: Fri 21:00-22:00 (1h), Sun 22:00 + 2h = Sun 24:00 = Mon 00:00
    assert desk.add(at(ny, 2026, 11, 13, 21), 3 * H) == at(ny, 2026, 11, 16, 0)
    # a whole week: 2h + 4 x 24h + 22h = 120h
    assert desk.working(at(ny, 2026, 11, 8), at(ny, 2026, 11, 15)) == 120 * H
    # the working span across midnight is one span, not two
    assert desk.spans(at(ny, 2026, 11, 8, 23), at(ny, 2026, 11, 9, 1)) == [
        (at(ny, 2026, 11, 8, 23), at(ny, 2026, 11, 9, 1))]


def test_a_target_landing_on_closing_time_is_due_at_the_close():
    # Mon 9 Nov 09:00 + 8h = Mon 17:00, not Tue 09:00
    assert SATURDAY.add(at("UTC", 2026, 11, 9, 9), 8 * H) == at("UTC", 2026, 11, 9, 17)
    # Sat 10:00 + 2h = 12:00, the start of lunch, not 13:00
    assert SATURDAY.add(at("UTC", 2026, 11, 7, 10), 2 * H) == at("UTC", 2026, 11, 7, 12)
    # the same through the calendar's cumulative table (built after many calls)
    for _ in range(100):
        SATURDAY.add(at("UTC", 2026, 11, 2, 9), H)
    assert SATURDAY.add(at("UTC", 2026, 11, 9, 9), 8 * H) == at("UTC", 2026, 11, 9, 17)
    assert SATURDAY.add(at("UTC", 2026, 11, 7, 10), 2 * H) == at("UTC", 2026, 11, 7, 12)


# -- dates with their own hours ---------------------------------------------------------

def test_dates_shorten_close_and_open_days_over_weekday_and_holidays():
    cal = weekly(**WEEKDAYS_9_5, holidays=[date(2026, 12, 25)],
                 dates={"2026-12-24": "09:00-12:00", "2026-12-31": [],
                        "2026-12-25": "10:00-11:00", "2026-12-26": "10:00-12:00"})
    # Thu 24 Dec shortened to 09:00-12:00: 11:00 + 2h = 1h that day, Fri 25 Dec (a
    # holiday, but dated 10:00-11:00) + 1h = 11:00
    assert cal.add(at("UTC", 2026, 12, 24, 11), 2 * H) == at("UTC", 2026, 12, 25, 11)
    # Sat 26 Dec is open 10:00-12:00 although Saturdays are not working days
    assert cal.working(at("UTC", 2026, 12, 26), at("UTC", 2026, 12, 27)) == 2 * H
    # Wed 30 Dec 16:00 + 2h: 1h on the 30th, the 31st closed, Fri 1 Jan 09:00 + 1h
    assert cal.add(at("UTC", 2026, 12, 30, 16), 2 * H) == at("UTC", 2027, 1, 1, 10)


def test_policy_reads_the_new_forms_and_keeps_them_as_written():
    policy = parse_policy(POLICY)
    raw = policy.raw()["calendars"]["desk"]
    assert raw["hours"] == {"mon": "09:00-17:00", "tue": "09:00-17:00", "wed": "09:00-17:00",
                            "thu": "09:00-17:00", "fri": "09:00-17:00",
                            "sat": ["10:00-12:00", "13:00-14:00"]}
    assert "days" not in raw  # not written, not added
    assert raw["dates"] == {"2026-12-24": "09:00-12:00", "2026-12-31": []}
    cal = policy.calendar("desk")
    assert cal.days == ("mon", "tue", "wed", "thu", "fri", "sat")
    assert cal.working(at("UTC", 2026, 12, 24), at("UTC", 2026, 12, 25)) == 3 * H
    assert cal.working(at("UTC", 2026, 12, 31), at("UTC", 2027, 1, 1)) == 0
    # the one-set form is unchanged
    old = parse_policy(POLICY.replace(TABLE, 'days = ["mon", "tue"]\nhours = "09:00-17:00"'))
    assert old.raw()["calendars"]["desk"]["hours"] == "09:00-17:00"
    assert old.raw()["calendars"]["desk"]["days"] == ["mon", "tue"]


TABLE = ('hours = { mon = "09:00-17:00", tue = "09:00-17:00", wed = "09:00-17:00", '
         'thu = "09:00-17:00", fri = "09:00-17:00", sat = ["10:00-12:00", "13:00-14:00"] }')
POLICY = f"""
[calendars.desk]
timezone = "UTC"
{TABLE}

[calendars.desk.dates]
"2026-12-24" = "09:00-12:00"
"2026-12-31" = []

[priorities.urgent]
respond = "15m"
resolve = "4h"
calendar = "24x7"
[priorities.high]
respond = "1h"
resolve = "48h"
calendar = "24x7"
[priorities.medium]
respond = "4h"
resolve = "40h"
calendar = "desk"
[priorities.low]
respond = "8h"
resolve = "80h"
calendar = "desk"
"""


@pytest.mark.parametrize("calendar, key, words", [
    ('days = ["mon", "tue"]\nhours = { mon = "09:00-17:00", sat = "10:00-12:00" }',
     "calendars.desk.hours.sat", "'sat' has opening hours but is not in calendars.desk.days"),
    ('days = ["mon", "tue"]\nhours = { mon = "09:00-17:00" }',
     "calendars.desk.days", "'tue' is a working day with no hours in calendars.desk.hours"),
    ('hours = { mon = "09:00-17:00", funday = "10:00-12:00" }',
     "calendars.desk.hours.funday", "unknown day 'funday'"),
    ('hours = { mon = "17:00-09:00" }', "calendars.desk.hours.mon", "must end after they start"),
    ('hours = { mon = [] }', "calendars.desk.hours.mon", "expected \"HH:MM-HH:MM\""),
    ("hours = {}", "calendars.desk.hours", "names no day"),
    ('hours = "09:00-17:00"', "calendars.desk.days", "missing"),
    ('hours = { mon = "09:00-17:00" }\n[calendars.desk.dates]\n"2026-13-01" = []',
     "calendars.desk.dates.2026-13-01", "expected a date"),
    ('hours = { mon = "09:00-17:00" }\n[calendars.desk.dates]\n"2026-12-24" = 9',
     "calendars.desk.dates.2026-12-24", "[] for closed"),
    ('hours = { mon = "09:00-17:00" }\ndates = ["2026-12-24"]',
     "calendars.desk.dates", "expected a table"),
])
def test_bad_calendars_name_the_key(calendar, key, words):
    text = POLICY.replace(f'timezone = "UTC"\n{TABLE}\n\n[calendars.desk.dates]\n'
                          '"2026-12-24" = "09:00-12:00"\n"2026-12-31" = []\n',
                          f'timezone = "UTC"\n{calendar}\n')
    with pytest.raises(PolicyError) as err:
        parse_policy(text)
    assert key in str(err.value) and words in str(err.value), str(err.value)


def test_policy_show_and_load_through_the_cli(esc, tmp_path):
    path = tmp_path / "desk.toml"
    path.write_text(POLICY)
    esc.ok("policy", "load", str(path))
    shown = esc.ok("policy", "show").out
    assert 'sat = ["10:00-12:00", "13:00-14:00"]' in shown
    assert '"2026-12-31" = []' in shown
    doc = esc.doc("policy", "show")
    assert doc["policy"]["calendars"]["desk"]["dates"]["2026-12-24"] == "09:00-12:00"
    # exported, reloaded: the same calendar
    (tmp_path / "again.toml").write_text(esc.ok("policy", "export").out)
    esc.ok("policy", "load", str(tmp_path / "again.toml"))
    assert esc.doc("policy", "show")["policy"]["calendars"] == doc["policy"]["calendars"]
    # a medium case opened Thu 24 Dec 11:00: respond 4h = 24th 1h, 25th-27th... Fri 25
    # 09:00-17:00 (no holidays here) 3h -> Fri 12:00
    case = esc.doc("open", "x", "--customer", "c", "--priority", "medium",
                   now="2026-12-24T11:00:00Z")
    assert case["respond_by"] == "2026-12-25T12:00:00Z"
    bad = tmp_path / "bad.toml"
    bad.write_text(POLICY.replace('sat = ["10:00-12:00", "13:00-14:00"] }',
                                  'sat = ["10:00-12:00", "11:00-14:00"] }'))
    result = esc("policy", "load", str(bad))
    assert result.code == 2
    assert result.err.startswith("error: policy: calendars.desk.hours.sat: opening hours overlap")
    assert "\n" not in result.err.strip()


# -- DST: wall-clock hours, real elapsed time ----------------------------------------

ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "America/Santiago",
         "Europe/London")


def _switch_days(zone: str, year: int = 2026) -> list[date]:
    tz = ZoneInfo(zone)
    days = []
    day = date(year, 1, 1)
    while day.year == year:
        start = datetime(day.year, day.month, day.day, tzinfo=tz)
        end = start + timedelta(days=1)
        if start.utcoffset() != end.utcoffset():
            days.append(day)
        day += timedelta(days=1)
    return days


SWITCHES = [(zone, day) for zone in ZONES for day in _switch_days(zone)]


def test_every_zone_has_its_two_switch_days():
    assert all(len(_switch_days(zone)) == 2 for zone in ZONES)


def _real(zone: str, day: date, minute: int) -> int:
    """The instant of a local wall-clock minute of `day`: a time inside a gap is the
    switch itself (the first valid instant after it), a repeated time its first
    occurrence. Found by a plain search over the day's instants."""
    tz = ZoneInfo(zone)
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()) - 3 * H
    wanted = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    instant = midnight
    while True:  # the first instant whose wall clock reads `wanted` or later
        local = datetime.fromtimestamp(instant, timezone.utc).astimezone(tz).replace(tzinfo=None)
        if local >= wanted:
            return instant
        instant += 15 * M


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SWITCHES), st.integers(0, 95), st.integers(1, 96))
def test_a_range_on_a_switch_day_counts_the_real_elapsed_time(switch, first, length):
    zone, day = switch
    a, b = first * 15, min(1440, first * 15 + length * 15)
    text = f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}"
    name = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
    cal = weekly(zone, **{name: text})
    start, end = _real(zone, day, a), _real(zone, day, b)
    whole = (int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).timestamp()),
             int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).timestamp()) + 30 * H)
    assert cal.working(*whole) == end - start
    if end > start:
        # adding the day's working time from before the opening lands on the close
        assert cal.add(whole[0], end - start) == end


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SWITCHES), st.integers(-48, 48), st.integers(0, 60 * H))
def test_add_then_working_round_trips_across_switches(switch, hours_before, seconds):
    zone, day = switch
    # a 24/5 desk and a 9-5 desk with a lunch break, in the switching zone
    desks = [
        weekly(zone, sun="22:00-24:00", mon="00:00-24:00", tue="00:00-24:00",
               wed="00:00-24:00", thu="00:00-24:00", fri="00:00-22:00"),
        weekly(zone, **{d: ["01:30-02:45", "09:00-12:00", "13:00-17:00"]
                        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}),
    ]
    start = int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).timestamp()) + hours_before * H
    for desk in desks:
        due = desk.add(start, seconds)
        assert desk.working(start, due) == seconds
        if seconds:  # never lands after the close it needed: the last second was working
            assert desk.working(due - 1, due) == 1


def test_whole_days_on_switch_days_are_23_or_25_hours():
    for zone, day in SWITCHES:
        name = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[day.weekday()]
        cal = weekly(zone, **{name: "00:00-24:00"})
        midnight = int(datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone)).timestamp())
        following = day + timedelta(days=1)
        next_midnight = int(datetime(following.year, following.month, following.day,
                                     tzinfo=ZoneInfo(zone)).timestamp())
        assert cal.working(midnight - H, next_midnight + H) == next_midnight - midnight
        assert next_midnight - midnight in (23 * H, 25 * H, int(23.5 * H), int(24.5 * H))


def test_explain_prints_the_calendar_as_written(esc, tmp_path):
    path = tmp_path / "desk.toml"
    path.write_text(POLICY)
    esc.ok("policy", "load", str(path))
    case = str(esc.doc("open", "x", "--customer", "c", "--priority", "medium",
                       now="2026-12-24T11:00:00Z")["id"])
    text = esc.ok("explain", case, now="2026-12-24T11:30:00Z").out
    assert ("calendar: mon 09:00-17:00; tue 09:00-17:00; wed 09:00-17:00; thu 09:00-17:00; "
            "fri 09:00-17:00; sat 10:00-12:00, 13:00-14:00 (UTC); "
            "dates: 2026-12-24 09:00-12:00; 2026-12-31 closed") in text
    doc = esc.doc("explain", case, now="2026-12-24T11:30:00Z")
    assert doc["calendar"]["hours"]["sat"] == ["10:00-12:00", "13:00-14:00"]
    urgent = str(esc.doc("open", "y", "--customer", "c", "--priority", "urgent",
                         now="2026-12-24T11:00:00Z")["id"])
    assert esc.doc("explain", urgent, now="2026-12-24T11:30:00Z")["calendar"] is None
