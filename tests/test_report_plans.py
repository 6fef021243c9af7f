"""Query plans of `esc report`: each window is a range of the covering index
cases_report (no table rows, no events), the trend a range per day of small indexes.
A plan that regresses to a scan of cases or events fails here, not at a million cases."""

from __future__ import annotations

import sqlite3

import pytest

from esc_cli.domain.report import Window, days
from esc_cli.store import report_queries as q
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
    q.trend(conn, days(window, "UTC"))
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
    # each window's sums (with its durations) and its backlog
    assert len(windows) == 4
    by_priority = [sql for sql in windows if sql.rstrip().endswith("GROUP BY priority")]
    # every statement but the --by ones (the previous window's never are)
    assert len(by_priority) == (2 if dimension else 4)
    for sql, plan in windows.items():
        assert plan[0].startswith("SEARCH cases USING COVERING INDEX cases_report (priority=? AND <expr>>?)"), plan
        # the backlog reads a reopened case's state history by its case index only
        assert all("events" not in step or "events_case" in step for step in plan), plan
        assert not any(step.startswith("SCAN cases") for step in plan), plan
        # rows come by priority: grouping or ordering by it alone needs no sort
        if sql in by_priority:
            assert not any("TEMP B-TREE FOR GROUP BY" in step for step in plan), plan
    assert not [sql for sql in plans if "FROM events" in sql and "x.case_id = cases.id" not in sql
                and "json_each" not in sql]


def test_the_trend_is_index_ranges_per_day(history):  # noqa: F811
    trend = next(p for sql, p in _plans(history.db, None).items() if "json_each" in sql)
    joined = "\n".join(trend)
    for index in ("cases_opened_at", "cases_resolution_at", "events_escalated_at"):
        assert f"COVERING INDEX {index}" in joined, joined
    assert "SCAN cases" not in joined and "SCAN e" not in joined
