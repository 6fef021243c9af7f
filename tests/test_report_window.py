"""Report windows as people type them, local days, and the nearest-rank percentile method."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_cli.domain.report import Window, days, nearest_rank, parse_window, rank, rate
from esc_cli.errors import UsageError
from esc_cli.store.report_ranks import percentiles


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# Wednesday 4 Nov 2026, 15:30 UTC
NOW = ts("2026-11-04T15:30:00Z")


def window(since=None, until=None, zone="UTC", now=NOW) -> tuple[int, int]:
    w = parse_window(since, until, now, zone)
    return w.since, w.until


def test_default_is_the_last_30_days_up_to_now():
    assert window() == (NOW - 30 * 86400, NOW)


def test_only_until_gives_the_30_days_before_it():
    assert window(until="2026-10-31") == (ts("2026-10-02T00:00:00Z"), ts("2026-11-01T00:00:00Z"))


def test_spans_are_exact_and_back_from_now():
    assert window("7d") == (NOW - 7 * 86400, NOW)
    assert window("4w") == (NOW - 28 * 86400, NOW)
    assert window("1h30m") == (NOW - 5400, NOW)
    # a span as --until is that long before now as well
    assert window("14d", "7d") == (NOW - 14 * 86400, NOW - 7 * 86400)


def test_named_periods():
    assert window("today") == (ts("2026-11-04T00:00:00Z"), NOW)
    assert window("yesterday", "yesterday") == (ts("2026-11-03T00:00:00Z"), ts("2026-11-04T00:00:00Z"))
    # weeks start on Monday; 4 Nov 2026 is a Wednesday
    assert window("this week", "this week") == (ts("2026-11-02T00:00:00Z"), ts("2026-11-09T00:00:00Z"))
    assert window("last week", "last week") == (ts("2026-10-26T00:00:00Z"), ts("2026-11-02T00:00:00Z"))
    assert window("This Month", "this-month") == (ts("2026-11-01T00:00:00Z"), ts("2026-12-01T00:00:00Z"))
    assert window("last month", "last month") == (ts("2026-10-01T00:00:00Z"), ts("2026-11-01T00:00:00Z"))


def test_a_date_as_until_means_the_end_of_that_day():
    assert window("2026-11-02", "2026-11-02") == (ts("2026-11-02T00:00:00Z"), ts("2026-11-03T00:00:00Z"))
    # a time is exact
    assert window("2026-11-02T08:00", "2026-11-02T09:30:15") == (
        ts("2026-11-02T08:00:00Z"), ts("2026-11-02T09:30:15Z"))
    # months and ISO weeks are periods too
    assert window("2026-10", "2026-10") == (ts("2026-10-01T00:00:00Z"), ts("2026-11-01T00:00:00Z"))
    assert window("2026-W45", "2026-W45") == (ts("2026-11-02T00:00:00Z"), ts("2026-11-09T00:00:00Z"))


def test_times_without_offset_are_read_in_the_display_zone():
    assert window("2026-11-02T10:00", zone="Europe/Berlin")[0] == ts("2026-11-02T09:00:00Z")
    assert window("2026-11-02T10:00+05:00", zone="Europe/Berlin")[0] == ts("2026-11-02T05:00:00Z")


def test_dates_are_local_midnights_across_a_dst_change():
    # Europe/Berlin leaves summer time on Sun 25 Oct 2026 (03:00 CEST -> 02:00 CET):
    # that day starts at 00:00 CEST = 22:00Z on the 24th and lasts 25 hours.
    since, until = window("2026-10-25", "2026-10-25", zone="Europe/Berlin")
    assert since == ts("2026-10-24T22:00:00Z")
    assert until == ts("2026-10-25T23:00:00Z")
    assert until - since == 25 * 3600
    # "yesterday" seen from Monday 26 Oct 12:00 local is that same 25-hour Sunday
    monday = ts("2026-10-26T11:00:00Z")
    assert window("yesterday", "yesterday", zone="Europe/Berlin", now=monday) == (since, until)
    # trend days follow local midnights, not UTC ones
    w = Window(ts("2026-10-24T22:00:00Z"), ts("2026-10-26T23:00:00Z"))
    assert days(w, "Europe/Berlin") == [
        ("2026-10-25", ts("2026-10-24T22:00:00Z"), ts("2026-10-25T23:00:00Z")),
        ("2026-10-26", ts("2026-10-25T23:00:00Z"), ts("2026-10-26T23:00:00Z")),
    ]


def test_a_midnight_inside_a_dst_gap_starts_the_day_when_the_clocks_jump():
    # America/Santiago springs forward at 00:00 on 6 Sep 2026: the day begins at 01:00 -03
    since, _ = window("2026-09-06", zone="America/Santiago", now=ts("2026-09-10T12:00:00Z"))
    assert since == ts("2026-09-06T04:00:00Z")


def test_a_time_in_a_dst_gap_is_refused():
    with pytest.raises(UsageError, match="daylight-saving gap"):
        window("2026-03-29T02:30", zone="Europe/Berlin")


def test_days_are_clipped_to_the_window_and_include_empty_ones():
    w = Window(ts("2026-11-02T12:00:00Z"), ts("2026-11-04T06:00:00Z"))
    assert days(w, "UTC") == [
        ("2026-11-02", ts("2026-11-02T12:00:00Z"), ts("2026-11-03T00:00:00Z")),
        ("2026-11-03", ts("2026-11-03T00:00:00Z"), ts("2026-11-04T00:00:00Z")),
        ("2026-11-04", ts("2026-11-04T00:00:00Z"), ts("2026-11-04T06:00:00Z")),
    ]
    # a window ending exactly at midnight does not add an empty next day
    assert [d for d, _, _ in days(Window(ts("2026-11-02T00:00:00Z"), ts("2026-11-03T00:00:00Z")), "UTC")] == ["2026-11-02"]


@pytest.mark.parametrize("since, until, message", [
    ("fortnight", None, "cannot read"),
    ("2026-13-01", None, "cannot read"),
    ("10:15", None, "no date"),
    ("", None, "must not be empty"),
    ("2026-11-04", "2026-11-01", "window is empty"),
    ("today", "2026-11-04T00:00", "window is empty"),
    ("1970-01-01", "8999-12-31", "window is too long"),
    ("2000-01-01", "2100-01-01", "window is too long"),
])
def test_bad_windows_are_usage_errors(since, until, message):
    with pytest.raises(UsageError, match=message):
        window(since, until)


def test_a_century_is_the_longest_window():
    assert window("2000-01-01", "2099-12-31") == (ts("2000-01-01T00:00:00Z"), ts("2100-01-01T00:00:00Z"))


def test_window_errors_exit_2(esc):
    result = esc("report", "--since", "next tuesday")
    assert result.code == 2 and result.err.startswith("error: --since: cannot read")
    assert "Traceback" not in result.err
    assert esc("report", "--by", "colour").code == 2
    assert esc("report", "--format", "pdf").code == 2
    assert esc("report", "--format", "csv", "--json").code == 2


# -- the years a bound may name: the range of --now ----------------------------------

@pytest.mark.parametrize("since, until, refused", [
    (None, "9999-12-31", "--until: 9999-12-31"),  # its end, 10000-01-01, overflowed
    ("9999-12-30", "9999-12-31", "--until: 9999-12-31"),
    ("0001-01-01", None, "--since: 0001-01-01"),  # read, and a trend of 740,000 days
    ("1969-12-31", None, "--since: 1969-12-31"),
    (None, "9000-01-01", "--until: 9000-01-01"),
    (None, "9999-12", "--until: 9999-12"),
    (None, "9999-W52", "--until: 9999-W52"),
    (None, "9999-12-31T10:00", "--until: 9999-12-31T10:00"),
    (None, "9999-12-31T23:00+00:00", "--until: 9999-12-31T23:00+00:00"),
    ("19691231", None, "--since: 19691231"),
])
def test_a_bound_outside_the_years_of_now_is_refused(since, until, refused):
    with pytest.raises(UsageError) as raised:
        window(since, until)
    assert raised.value.line() == f"{refused} is out of range (from 1970 to 9000)"


def test_a_span_back_before_1970_is_refused():
    with pytest.raises(UsageError) as raised:
        window("7d", now=ts("1970-01-03T00:00:00Z"))
    assert raised.value.line() == "--since: 7d is out of range (from 1970 to 9000)"


def test_the_first_and_last_days_in_range_make_windows():
    assert window("1970-01-01", "1970-01-01") == (0, 86400)
    assert window("8999-12-31", "8999-12-31") == (ts("8999-12-31T00:00:00Z"),
                                                  ts("9000-01-01T00:00:00Z"))


@pytest.mark.parametrize("args, line", [
    (("report", "--until", "9999-12-31"), "--until: 9999-12-31"),
    (("report", "--since", "9999-12-30", "--until", "9999-12-31"), "--until: 9999-12-31"),
    (("report", "--since", "0001-01-01"), "--since: 0001-01-01"),
    (("report", "--json", "--until", "9999-W52"), "--until: 9999-W52"),
    (("policy", "try", "POLICY", "--until", "9999-12-31"), "--until: 9999-12-31"),
    (("policy", "try", "POLICY", "--since", "0001-01-01"), "--since: 0001-01-01"),
    # the options that took the range first, with the same words
    (("owner", "away", "alice", "--until", "9999-12-31"), "--until: 9999-12-31"),
    (("oncall", "--at", "9999-12-31"), "--at: 9999-12-31"),
])
def test_every_time_option_refuses_the_same_years(esc, tmp_path, args, line):
    from esc_cli.domain.policy import DEFAULT_POLICY_TOML

    policy = tmp_path / "policy.toml"
    policy.write_text(DEFAULT_POLICY_TOML)
    esc.ok("owner", "add", "alice")
    result = esc(*[str(policy) if a == "POLICY" else a for a in args])
    assert (result.code, result.out) == (2, "")
    assert result.err == f"error: {line} is out of range (from 1970 to 9000)\n"


# -- percentiles ---------------------------------------------------------------------

def test_nearest_rank_by_hand():
    values = [50, 10, 40, 20, 30, 60, 70, 80, 90, 100]  # n = 10
    assert rank(50, 10) == 5 and nearest_rank(values, 50) == 50  # ceil(5.0) = 5th: 50
    assert rank(90, 10) == 9 and nearest_rank(values, 90) == 90  # ceil(9.0) = 9th: 90
    assert rank(90, 11) == 10  # ceil(9.9)
    assert rank(50, 1) == 1 and rank(90, 1) == 1
    assert rank(50, 3) == 2 and rank(90, 3) == 3  # ceil(1.5), ceil(2.7)
    assert nearest_rank([7, 3], 50) == 3  # ceil(1.0): the lower one, never an average
    assert nearest_rank([], 50) is None


def _sql_percentiles(values: list[int]) -> dict:
    conn = sqlite3.connect(":memory:")
    # two groups ('a' holds every value, 'b' the even-positioned ones) to check that
    # partitions rank independently
    rows = [["a", v] for v in values] + [["b", v] for v in values[::2]]
    found = percentiles(
        conn,
        "SELECT json_extract(value, '$[0]'), NULL, json_extract(value, '$[1]') FROM json_each(:rows)",
        {"rows": json.dumps(rows)},
    )
    return found


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=60))
def test_sql_percentiles_match_nearest_rank(values):
    found = _sql_percentiles(values)
    assert found[("priority", "a")] == {"p_p50": nearest_rank(values, 50),
                                        "p_p90": nearest_rank(values, 90)}
    half = values[::2]
    assert found[("priority", "b")] == {"p_p50": nearest_rank(half, 50),
                                        "p_p90": nearest_rank(half, 90)}
    everything = values + half
    assert found[("all", None)] == {"p_p50": nearest_rank(everything, 50),
                                    "p_p90": nearest_rank(everything, 90)}


def test_rates_are_null_without_a_denominator():
    assert rate(0, 0) is None and rate(None, None) is None
    assert rate(0, 4) == 0.0 and rate(1, 4) == 0.25
