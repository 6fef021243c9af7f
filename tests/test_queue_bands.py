"""`queue --limit N` reads band by band (store/queries.py BANDS); it must list exactly the
rows, in exactly the order, of the one query that sorts every match. Compared over
random stores, for every sort, random filters and limits, with ties on due times and
cases whose stored instants disagree with each other."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from esc_cli.domain.model import STATES, Case
from esc_cli.store import cases, queries
from esc_cli.store.db import Store

NOW = 1_795_010_400
INSTANTS = st.one_of(st.none(), st.integers(-3, 3).map(lambda k: NOW + 60 * k))


@st.composite
def case_rows(draw, case_id: int) -> Case:
    return Case(
        id=case_id, title=f"case {case_id}", customer="Acme",
        priority=draw(st.sampled_from(["urgent", "high", "medium", "low"])),
        category=draw(st.sampled_from(["billing", "technical"])), channel="email",
        opened_at=NOW - 3600 * draw(st.integers(0, 3)), policy_version=1,
        tier=draw(st.integers(1, 3)), team=draw(st.sampled_from([None, "billing", "network"])),
        owner=draw(st.sampled_from([None, "alice", "bob"])), state=draw(st.sampled_from(STATES)),
        due_at=draw(INSTANTS), warn_at=draw(INSTANTS),
    )


@st.composite
def stores(draw) -> list[Case]:
    count = draw(st.integers(0, 30))
    return [draw(case_rows(case_id)) for case_id in range(1, count + 1)]


FILTERS = st.fixed_dictionaries({
    "tier": st.sampled_from([None, 1, 2]),
    "owner": st.sampled_from([None, "alice"]),
    "unassigned": st.booleans(),
    "team": st.sampled_from([None, "billing"]),
    "priority": st.sampled_from([None, "high", "low"]),
    "category": st.sampled_from([None, "billing"]),
    "state": st.sampled_from([[], ["pending"], ["new", "pending"], ["open", "resolved"],
                              ["closed"], list(STATES)]),
    "at_risk": st.booleans(),
    "breached": st.booleans(),
})


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("bands") / "esc.db"
    store, _ = Store.initialise(path)
    store.close()
    connection = sqlite3.connect(path, isolation_level=None)
    yield connection
    connection.close()


NONE = {"tier": None, "owner": None, "unassigned": False, "team": None, "priority": None,
        "category": None, "state": [], "at_risk": False, "breached": False}
# every filter alone, and a few together: random filters alone mostly match nothing
FIXED = [NONE] + [dict(NONE, **change) for change in (
    {"tier": 2}, {"owner": "alice"}, {"unassigned": True}, {"team": "billing"},
    {"priority": "high"}, {"category": "billing"}, {"state": ["pending"]},
    {"state": ["new", "pending"]}, {"state": list(STATES)}, {"at_risk": True},
    {"breached": True}, {"owner": "alice", "at_risk": True},
    {"state": ["open", "resolved"], "priority": "low"})]


@settings(max_examples=40)
@given(rows=stores(), drawn=FILTERS, shift=st.integers(-2, 2))
def test_banded_queue_equals_the_single_sorted_query(conn, rows, drawn, shift):
    now = NOW + 60 * shift
    conn.execute("BEGIN")
    try:
        for case in rows:
            cases.insert_case(conn, case)
        for filters in FIXED + [drawn]:
            for sort in queries.SORTS:
                everything = [c.id for c in queries.queue(conn, filters, sort, 0, now)]
                for limit in (1, 3, 50):
                    banded = [c.id for c in queries.queue(conn, filters, sort, limit, now)]
                    single = [c.id for c in queries.queue(conn, filters, sort, limit, now,
                                                          banded=False)]
                    assert banded == single == everything[:limit], (filters, sort, limit)
    finally:
        conn.execute("ROLLBACK")


def test_bands_cover_every_sort_they_name():
    assert set(queries.BANDS) <= set(queries.SORTS)
