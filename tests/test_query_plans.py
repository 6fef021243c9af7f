"""The query plans of the hot reads (issue 8): each statement is captured from the real
store function, then EXPLAIN QUERY PLAN must show the index it was written for and no
walk of the whole cases table. A rewrite that loses its index fails here rather than
only at a million cases. The planner has no statistics (esc never runs ANALYZE), so an
empty store plans exactly as a large one does."""

from __future__ import annotations

import sqlite3

import pytest

from esc_cli.store import cases, queries, search, sweep_queries
from esc_cli.store.db import Store

NOW = 1_795_010_400
NO_FILTERS = {"tier": None, "owner": None, "unassigned": False, "team": None, "priority": None,
              "category": None, "state": [], "at_risk": False, "breached": False}


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("plans") / "esc.db"
    store, _ = Store.initialise(path)
    store.close()
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    yield connection
    connection.close()


def statements(conn, call) -> list[str]:
    """The SELECTs `call(conn)` runs, with their parameters bound."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        call(conn)
    finally:
        conn.set_trace_callback(None)
    return [s for s in seen if s.lstrip().upper().startswith(("SELECT", "WITH"))]


def plan(conn, sql: str) -> list[str]:
    return [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}")]


def assert_no_table_scan(lines: list[str]) -> None:
    for line in lines:
        # `SCAN cases USING INDEX x` walks an index (here only partial ones over the
        # unresolved cases); a bare `SCAN cases` reads every case ever opened
        words = line.split()
        assert not (words[:2] == ["SCAN", "cases"] and "USING" not in words), lines
        assert words[:2] != ["SCAN", "events"], lines


def test_queue_bands_walk_the_unresolved_due_index_in_order(conn):
    sqls = statements(conn, lambda c: queries.queue(c, NO_FILTERS, "urgency", 50, NOW))
    assert len(sqls) == 5  # an empty store: every band is asked for the rest
    for sql in sqls[:4]:  # breached, at risk, the rest, no due time
        lines = plan(conn, sql)
        assert_no_table_scan(lines)
        assert any(line.startswith("SEARCH cases USING INDEX cases_unresolved_due") for line in lines), lines
    for sql in sqls[:3]:  # ordered by the index itself: no sort of every match
        assert not any(line == "USE TEMP B-TREE FOR ORDER BY" for line in plan(conn, sql))
    pending = plan(conn, sqls[4])
    assert_no_table_scan(pending)
    assert any("cases_unresolved_" in line for line in pending), pending


def test_queue_by_due_time_is_banded_too(conn):
    sqls = statements(conn, lambda c: queries.queue(c, NO_FILTERS, "due", 50, NOW))
    assert len(sqls) == 2
    for sql in sqls:
        lines = plan(conn, sql)
        assert_no_table_scan(lines)
        assert any("cases_unresolved_due" in line for line in lines), lines


# `--sort id` walks the table in id order until it has `limit` matches (no index
# serves "unresolved, by id"): not a hot path, and not asserted here.
@pytest.mark.parametrize("sort", ["urgency", "due", "age"])
def test_every_queue_query_reads_an_index(conn, sort):
    for limit in (50, 0):
        for sql in statements(conn, lambda c: queries.queue(c, NO_FILTERS, sort, limit, NOW)):
            assert_no_table_scan(plan(conn, sql))


@pytest.mark.parametrize("horizon", [NOW, NOW + 7200])
def test_overdue_reads_the_warn_and_due_indexes(conn, horizon):
    sqls = statements(conn, lambda c: sweep_queries.overdue(c, NOW, horizon, None, None))
    assert len(sqls) == 1
    lines = plan(conn, sqls[0])
    assert_no_table_scan(lines)
    assert "SEARCH cases USING INTEGER PRIMARY KEY (rowid=?)" in lines, lines
    assert any(line.startswith("SEARCH cases USING INDEX cases_unresolved_warn (warn_at<?)")
               for line in lines), lines
    if horizon > NOW:
        assert any(line.startswith("SEARCH cases USING INDEX cases_unresolved_due (due_at<?)")
                   for line in lines), lines


def test_overdue_listing_only_some_columns_plans_the_same(conn):
    whole = statements(conn, lambda c: sweep_queries.overdue(c, NOW, NOW + 60, None, None))
    some = statements(conn, lambda c: sweep_queries.overdue(c, NOW, NOW + 60, None, None,
                                                            ("id", "title", "due_at")))
    assert plan(conn, some[0]) == plan(conn, whole[0])


def test_overdue_with_filters_keeps_its_indexes(conn):
    sqls = statements(conn, lambda c: sweep_queries.overdue(c, NOW, NOW + 60, 2, "billing"))
    lines = plan(conn, sqls[0])
    assert_no_table_scan(lines)
    assert any("cases_unresolved_warn" in line for line in lines), lines


def test_show_reads_one_case_and_its_history_by_key(conn):
    def read(c):
        try:
            cases.get_case(c, 42)
        except Exception:  # noqa: BLE001 -- the empty store has no case 42; the SQL ran
            pass
        cases.get_events(c, 42)

    case_sql, events_sql = statements(conn, read)
    assert plan(conn, case_sql) == ["SEARCH cases USING INTEGER PRIMARY KEY (rowid=?)"]
    # in id order straight from the index: no sort
    assert plan(conn, events_sql) == ["SEARCH events USING INDEX events_case (case_id=?)"]


def test_sweep_finds_due_cases_from_the_sweep_index_alone(conn):
    for after in (None, (NOW - 60, 7)):
        sqls = statements(conn, lambda c: sweep_queries.due_cases(c, NOW, after, 500))
        assert len(sqls) == 1
        lines = plan(conn, sqls[0])
        assert len(lines) == 1 and lines[0].startswith(
            "SEARCH cases USING COVERING INDEX cases_sweep_at"), lines


def test_search_starts_from_the_full_text_index(conn):
    sqls = statements(conn, lambda c: search.search(c, ["duplicate", "charge"], NO_FILTERS, 50, NOW))
    assert sqls
    for sql in sqls:
        lines = plan(conn, sql)
        assert_no_table_scan(lines)
        if "cases_fts MATCH" in sql:
            assert any(line.startswith("SCAN cases_fts VIRTUAL TABLE") for line in lines), lines
