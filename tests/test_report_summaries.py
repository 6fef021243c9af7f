"""The report's per-case columns (domain/summary.py): settled by every write, backfilled
in SQL by migration 0008 to the same values, and checked by doctor."""

from __future__ import annotations

import sqlite3

import pytest

from esc_cli.domain.model import Event
from esc_cli.domain.summary import SUMMARY_FIELDS, sql_integer, summarise
from esc_cli.store.migrations import MIGRATIONS
from tests.conftest import EscRunner
from tests.test_report import NOW, WINDOW

H = 3600


def ev(at, kind, field=None, before=None, to=None):
    return Event(at, "amy", kind, field, before, to, None)


def test_a_history_never_resolved_has_no_resolution():
    found = summarise([ev(0, "opened", "state", None, "new")], 0, 1, 0, 0)
    assert found == {"resolution_at": None, "resolve_secs": None, "fcr": 0,
                     "feedback_at": None, "feedback_score": None}


def test_pending_time_is_not_time_to_resolve_and_time_resolved_before_a_reopen_is():
    # SPEC: "from opened_at, in wall-clock seconds with pending time excluded": the 4h the
    # case sat resolved before the customer reopened it count (esc left them out before
    # schema 29)
    events = [
        ev(0, "opened", "state", None, "new"),
        ev(1 * H, "acknowledged", "state", "new", "open"),
        ev(2 * H, "pending", "state", "open", "pending"),
        ev(5 * H, "resumed", "state", "pending", "open"),  # 3h pending
        ev(6 * H, "resolved", "state", "open", "resolved"),
        ev(7 * H, "feedback", "csat", None, "2"),
        ev(10 * H, "reopened", "state", "resolved", "open"),  # 4h resolved
        ev(11 * H, "pending", "state", "open", "pending"),
        ev(13 * H, "resolved", "state", "pending", "resolved"),  # resolved while pending: 2h
        ev(14 * H, "feedback", "csat", "2", "5"),
    ]
    found = summarise(events, 0, 1, 0, 1)
    assert found == {"resolution_at": 13 * H, "resolve_secs": (13 - 3 - 2) * H, "fcr": 0,
                     "feedback_at": 14 * H, "feedback_score": 5}


def test_first_contact_resolution_needs_tier_1_since_the_resolution():
    events = [ev(0, "opened", "state", None, "new"),
              ev(H, "resolved", "state", "new", "resolved")]
    assert summarise(events, 0, 1, 0, 0)["fcr"] == 1
    assert summarise(events, 0, 2, 0, 0)["fcr"] == 0
    assert summarise(events, 0, 1, 1, 0)["fcr"] == 0
    later = events + [ev(2 * H, "deescalated", "tier", "2", "1")]
    assert summarise(later, 0, 1, 0, 0)["fcr"] == 0  # it was at tier 2 when resolved


def test_scores_read_as_sqlite_casts_them():
    assert [sql_integer(t) for t in ("4", " 3", "+2", "-1", "5.9", "x", None)] == \
        [4, 3, 2, -1, 5, 0, None]


def _summaries(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT id, {', '.join(SUMMARY_FIELDS)} FROM cases ORDER BY id").fetchall()
    finally:
        conn.close()


def _as_before_0008(path) -> None:
    """Make a current store look like one written before migration 0008: no summary
    columns, no record of it or of the migrations after it."""
    later = [name for name, _ in MIGRATIONS if name >= "0008"]
    conn = sqlite3.connect(path)
    try:
        for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name IN "
                "('cases_report', 'cases_resolution_at', 'cases_respond_secs', "
                "'cases_resolve_secs')").fetchall():
            conn.execute(f"DROP INDEX {name}")
        for column in SUMMARY_FIELDS:
            conn.execute(f"ALTER TABLE cases DROP COLUMN {column}")
        conn.execute("ALTER TABLE policy_versions DROP COLUMN document")  # migration 0010
        conn.execute("ALTER TABLE deliveries DROP COLUMN lease_until")  # migration 0011
        conn.execute("ALTER TABLE deliveries DROP COLUMN leased_by")
        conn.execute("ALTER TABLE cases DROP COLUMN resolution_decided_at")  # migration 0012
        for column in ("away_until", "away_reason"):  # migration 0013
            conn.execute(f"ALTER TABLE owners DROP COLUMN {column}")
        conn.execute("DROP TABLE routing_state")
        conn.executemany("DELETE FROM _sqlite_migrations WHERE name = ?", [(n,) for n in later])
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - len(later)}")
        conn.commit()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def upgraded(history, tmp_path_factory):  # noqa: F811  (the fixture imported below)
    """The hand-worked report history, settled by esc, then taken back to before 0008
    and upgraded again by the migration's SQL."""
    path = tmp_path_factory.mktemp("upgrade") / "esc.db"
    history.ok("backup", str(path))
    return EscRunner(path, now=NOW), history


from tests.test_report import history  # noqa: E402,F401  (the module-scoped fixture)


def test_migration_0008_backfills_what_the_domain_settles(upgraded):
    esc, original = upgraded
    settled = _summaries(esc.db)
    assert any(row[1] is not None for row in settled) and any(row[4] is not None for row in settled)
    before = esc.doc("report", *WINDOW)
    _as_before_0008(esc.db)
    assert "resolve_secs" not in [r[1] for r in sqlite3.connect(esc.db).execute(
        "PRAGMA table_info(cases)")]
    after = esc.doc("report", *WINDOW)  # opening the store upgrades it
    assert _summaries(esc.db) == settled
    assert after == before
    assert esc.doc("report", "--since", "2000-01-01", "--by", "owner") == \
        original.doc("report", "--since", "2000-01-01", "--by", "owner")


def test_doctor_checks_the_summaries_of_resolved_cases(tmp_path):
    esc = EscRunner(tmp_path / "esc.db", now="2026-11-02T13:00:00Z")
    esc.ok("init", now="2026-11-01T00:00:00Z")
    case = esc.doc("open", "Password reset", "--customer", "Hooli", "--priority", "low",
                   now="2026-11-02T09:00:00Z")["id"]
    esc.ok("resolve", str(case), "--resolution", "reset it", now="2026-11-02T12:00:00Z")
    esc.ok("feedback", str(case), "--csat", "4", now="2026-11-02T12:30:00Z")
    assert esc("doctor").code == 0
    conn = sqlite3.connect(esc.db)
    conn.execute("UPDATE cases SET resolve_secs = resolve_secs + 60, feedback_score = 1")
    conn.commit()
    conn.close()
    worked = esc("doctor", "--json")
    assert worked.code == 5
    check = next(c for c in worked.json()["checks"] if c["name"] == "due_times")
    assert check["cases"] == [case]
    assert "resolve_secs stored 10860, recomputed 10800" in check["detail"]
    assert "feedback_score stored 1, recomputed 4" in check["detail"]
    assert esc("doctor", "--repair").code == 0
    assert esc("doctor").code == 0


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from esc_cli.store.report_ranks import _kth  # noqa: E402


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(st.integers(min_value=-10**6, max_value=10**9), min_size=1, max_size=30),
                min_size=1, max_size=5), st.data())
def test_kth_across_sorted_runs_is_the_merged_rank(runs, data):
    merged = sorted(v for run in runs for v in run)
    k = data.draw(st.integers(min_value=1, max_value=len(merged)))
    assert _kth([sorted(run) for run in runs], k) == merged[k - 1]


def test_a_huge_feedback_score_saturates_as_sqlite_casts_it():
    from esc_cli.domain.summary import sql_integer

    assert sql_integer("99999999999999999999x") == (1 << 63) - 1
    assert sql_integer("-99999999999999999999") == -(1 << 63)
    assert sql_integer(" 4 stars") == 4 and sql_integer("great") == 0 and sql_integer(None) is None

