"""Query plans of `esc report`: each window is two ranges of the covering index
cases_report (no table rows, no events), the trend a range per day of small indexes.
A plan that regresses to a scan of cases or events fails here, not at a million cases."""

from __future__ import annotations

import sqlite3

import pytest

from esc_cli.domain.report import Window, days
from esc_cli.store import report_queries as q
from esc_cli.store import report_trend
from tests.test_report import history  # noqa: F401  (the module-scoped fixture)
from tests.test_report import NOW


def _ts(text: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def _plans(path, dimension):
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    window = Window(_ts("2026-11-02T00:00:00Z"), _ts("2026-11-09T00:00:00Z"))
    q.figures(conn, window, _ts(NOW), dimension)
    first = conn.execute("SELECT min(opened_at) FROM cases").fetchone()[0]
    report_trend.trend(conn, days(window, "UTC"), first)
    conn.set_trace_callback(None)
    plans = {}
    for sql in seen:
        if sql.lstrip().upper().startswith(("SELECT", "WITH")):
            plans[sql] = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
    conn.close()
    return plans


@pytest.mark.parametrize("dimension", [None, "owner"])
def test_windows_read_only_the_covering_report_index(history, dimension):  # noqa: F811
    plans = _plans(history.db, dimension)
    windows = {sql: p for sql, p in plans.items() if "FROM cases INDEXED BY cases_report WHERE" in sql}
    # each window's sums (with its durations) and its backlog, each over the resolved
    # cases' range and the unresolved cases' range; this window by owner is long enough
    # to be collected value by value, one statement over the one range
    assert len(windows) == (7 if dimension else 8)
    by_priority = [sql for sql in windows if sql.rstrip().endswith("GROUP BY priority")]
    # every statement but the --by ones (the previous window's never are)
    assert len(by_priority) == (4 if dimension else 8)
    ranges = {"SEARCH cases USING COVERING INDEX cases_report (priority=? AND <expr>>? AND <expr><?)",
              # the unresolved cases opened before the window's end, not all of them
              "SEARCH cases USING COVERING INDEX cases_report (priority=? AND <expr>=? AND opened_at<?)"}
    twins = [plan[0] for sql, plan in windows.items() if "ORDER BY val" not in sql]
    assert set(twins) == ranges and twins.count(min(ranges)) == twins.count(max(ranges)), twins
    for sql, plan in windows.items():
        assert plan[0] in ranges or plan[0].startswith(
            "SEARCH cases USING COVERING INDEX cases_report (priority=? AND <expr>>?)"), plan
        # the backlog reads a reopened case's state history by its case index only
        assert all("events" not in step or "events_case" in step for step in plan), plan
        assert not any(step.startswith("SCAN cases") for step in plan), plan
        # rows come by priority: grouping or ordering by it alone needs no sort
        if sql in by_priority:
            assert not any("TEMP B-TREE FOR GROUP BY" in step for step in plan), plan
    # time to owner (store/owner_times.py) reads the window's recorded waits as one range
    # of their covering index, each row with its case's priority; only another --by
    # looks each case up, by its key: never a scan, no events
    owner_times = [sql for sql in plans if "FROM owner_times w" in sql]
    assert len(owner_times) == 2  # this window and the previous one
    for sql in owner_times:
        joined = "\n".join(plans[sql])
        assert "SEARCH w USING COVERING INDEX owner_times_at (escalated_at>? AND escalated_at<?)" \
            in joined, joined
        looked_up = "JOIN cases c" in sql
        assert looked_up == (dimension is not None and "AS val" in sql and "x.priority AS val" not in sql
                             and "NULL AS val" not in sql), sql
        assert ("SEARCH c USING INTEGER PRIMARY KEY" in joined) == looked_up, joined
        assert "SCAN c" not in joined and "SCAN w" not in joined and "events" not in joined
    assert not [sql for sql in plans if "FROM events" in sql and "x.case_id = cases.id" not in sql
                and "json_each" not in sql]


def test_the_trend_is_index_ranges_per_day(history):  # noqa: F811
    trend = next(p for sql, p in _plans(history.db, None).items() if "json_each" in sql)
    joined = "\n".join(trend)
    for index in ("cases_opened_at", "cases_resolution_at", "events_escalated_at"):
        assert f"COVERING INDEX {index}" in joined, joined
    assert "SCAN cases" not in joined and "SCAN e" not in joined


# -- percentiles of long windows ------------------------------------------------------

def _walk_plans(path, dimension):
    """Plans of the statements figures runs for all time (a window that walks)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    now = _ts(NOW)
    window = Window(_ts("2000-01-01T00:00:00Z"), now + 1)
    first = conn.execute("SELECT min(opened_at) FROM cases").fetchone()[0]
    assert q._strategy(window, now, first, dimension) == "walk"
    q.figures(conn, window, now, dimension)
    conn.set_trace_callback(None)
    plans = {sql: [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
             for sql in seen if "OFFSET" in sql}
    conn.close()
    return plans


@pytest.mark.parametrize("dimension", [None, "priority"])
def test_a_long_window_ranks_by_walking_the_value_indexes(history, dimension):  # noqa: F811
    plans = _walk_plans(history.db, dimension)
    merged = [sql for sql in plans if "UNION ALL" in sql]
    # p50 and p90 of both durations per priority, and overall across priorities
    assert {index for index in ("cases_respond_secs", "cases_resolve_secs")
            if any(index in sql for sql in plans)} == {"cases_respond_secs", "cases_resolve_secs"}
    assert merged, plans
    for sql, plan in plans.items():
        joined = "\n".join(plan)
        # in value order straight from the index: no sort of the window's durations
        assert "TEMP B-TREE" not in joined, joined
        assert not any(step.startswith("SCAN") for step in plan), joined
        searches = [step for step in plan if step.startswith("SEARCH")]
        assert searches and all("cases_respond_secs (priority=?" in step
                                or "cases_resolve_secs (priority=?" in step for step in searches), joined
        if sql in merged:
            assert "MERGE (UNION ALL)" in joined, joined




@pytest.mark.parametrize("dimension", [None, "priority", "owner", "tier"])
@pytest.mark.parametrize("bounds", [
    ("2000-01-01T00:00:00Z", None, True),  # all time
    ("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z", True),
    ("2026-11-05T00:00:00Z", "2026-11-06T00:00:00Z", False),
    ("2026-10-01T00:00:00Z", "2026-11-04T12:00:00Z", True),
    ("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", False),  # nothing in it
])
def test_every_way_of_ranking_gives_the_same_figures(history, monkeypatch, dimension, bounds):  # noqa: F811
    """Collected and sorted, (with a breakdown) collected value by value in pieces with
    the priorities walked, and (without a breakdown by other than priority) walked from
    the value indexes: the same numbers, current and previous."""
    conn = sqlite3.connect(f"file:{history.db}?mode=ro", uri=True, check_same_thread=False)
    now = _ts(NOW)
    window = Window(_ts(bounds[0]), _ts(bounds[1]) if bounds[1] else now + 1)
    strategies = ["collect"] + (["split"] if dimension else []) + (
        ["walk"] if dimension in (None, "priority") else [])
    second = sqlite3.connect(f"file:{history.db}?mode=ro", uri=True, check_same_thread=False)
    daily = days(window, "UTC")
    seen = {}
    for strategy in strategies:
        monkeypatch.setattr(q, "_strategy", lambda *args, s=strategy: s)
        seen[strategy] = q.figures(conn, window, now, dimension)
        # split between two connections (two threads), with the trend: the same again
        current, previous, trend = q.figures(conn, window, now, dimension, second, daily)
        assert (current, previous) == seen[strategy][:2]
        first = conn.execute("SELECT min(opened_at) FROM cases").fetchone()[0]
        assert trend == report_trend.trend(conn, daily, first) and len(trend) == len(daily)
    conn.close()
    second.close()
    expected = seen.pop("collect")
    # the windows that have durations to rank do rank them
    assert any(key.startswith("resolve_p") for key in expected[0]["all"]) == bounds[2]
    for strategy, figures in seen.items():
        assert figures == expected, strategy


def test_a_long_window_by_owner_reads_its_values_from_the_report_index(history):  # noqa: F811
    conn = sqlite3.connect(f"file:{history.db}?mode=ro", uri=True)
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    now = _ts(NOW)
    window = Window(_ts("2000-01-01T00:00:00Z"), now + 1)
    first = conn.execute("SELECT min(opened_at) FROM cases").fetchone()[0]
    assert q._strategy(window, now, first, "owner") == "split"
    q.figures(conn, window, now, "owner")
    conn.set_trace_callback(None)
    split = [sql for sql in seen if "ORDER BY val" in sql]
    assert len(split) == 1
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {split[0]}")]
    conn.close()
    assert plan[0].startswith("SEARCH cases USING COVERING INDEX cases_report (priority=? AND <expr>>?)"), plan
    assert not any(step.startswith("SCAN cases") for step in plan), plan
    # the priorities and overall walk the value indexes
    assert any("OFFSET" in sql and "cases_resolve_secs" in sql for sql in seen)


@pytest.mark.parametrize("dimension", [None, "owner"])
@pytest.mark.parametrize("bounds", [
    ("2000-01-01T00:00:00Z", None),  # all time
    ("2026-11-02T00:00:00Z", "2026-11-09T00:00:00Z"),
    ("2026-11-05T00:00:00Z", "2026-11-06T00:00:00Z"),
    ("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"),  # after now: backlog now
])
def test_the_two_ranges_read_every_case_of_the_one_range_once(
        history, monkeypatch, dimension, bounds):  # noqa: F811  (the fixture)
    assert f" THEN {q._FOREVER} ELSE " in q.HORIZON  # every unresolved case's horizon
    conn = sqlite3.connect(f"file:{history.db}?mode=ro", uri=True)
    now = _ts(NOW)
    window = Window(_ts(bounds[0]), _ts(bounds[1]) if bounds[1] else now + 1)
    split = q.figures(conn, window, now, dimension)
    monkeypatch.setattr(q, "_RANGES", (q._CANDIDATES,))
    whole = q.figures(conn, window, now, dimension)
    conn.close()
    assert split == whole
    assert whole[0]["all"].get("backlog") and whole[0]["all"].get("opened") is not None
