"""A business calendar asked many times answers from a cumulative table (bisection);
asked a few times, or past its table, it walks. Both must give the same instants."""

from __future__ import annotations

import random
from datetime import date

import pytest

from esc_cli.domain import calendar as calendar_module
from esc_cli.domain.calendar import BusinessCalendar

CALENDARS = [
    ("Europe/Berlin", ["mon", "tue", "wed", "thu", "fri"], [(9 * 60, 17 * 60)], ()),
    ("America/New_York", ["mon", "tue", "wed", "thu", "fri", "sat"], [(8 * 60, 12 * 60), (13 * 60, 18 * 60)],
     (date(2026, 12, 25), date(2026, 11, 26), date(2025, 7, 4))),
    ("Australia/Lord_Howe", ["sun", "mon", "wed"], [(0, 90), (22 * 60, 24 * 60)], ()),
]


def _pair(zone, days, hours, holidays):
    tabled = BusinessCalendar("b", zone, days, hours, holidays)
    walking = BusinessCalendar("b", zone, days, hours, holidays)
    walking._builds = calendar_module._TABLE_BUILDS  # never builds a table
    return tabled, walking


@pytest.mark.parametrize("spec", CALENDARS, ids=[c[0] for c in CALENDARS])
def test_the_table_and_the_walk_agree(spec):
    rng = random.Random(8)
    tabled, walking = _pair(*spec)
    sorted_starts = sorted(rng.randrange(1704067200, 1830297600) for _ in range(1500))
    scattered = [rng.randrange(1262304000, 1893456000) for _ in range(1500)]
    for start in sorted_starts + scattered:
        seconds = rng.choice([60, 3600, 4 * 3600, 16 * 3600, 40 * 3600, 400 * 3600])
        assert tabled.add(start, seconds) == walking.add(start, seconds), (start, seconds)
        end = start + rng.randrange(0, 90 * 86400)
        assert tabled.working(start, end) == walking.working(start, end), (start, end)
    assert 0 < tabled._builds <= calendar_module._TABLE_BUILDS  # the table path was taken


def test_a_few_questions_build_no_table():
    tabled, _ = _pair(*CALENDARS[0])
    for offset in range(calendar_module._TABLE_AFTER_CALLS - 1):
        tabled.add(1795010400 + offset * 3600, 4 * 3600)
    assert tabled._table is None
