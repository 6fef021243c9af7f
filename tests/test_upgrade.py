"""A store written by the first schema opens, upgrades and keeps every row."""

import shutil
import sqlite3
from pathlib import Path

from esc_cli.domain.model import chain_breaks
from esc_cli.store.cases import get_events_with_hashes
from esc_cli.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests.conftest import EscRunner

FIXTURE = Path(__file__).parent / "fixtures" / "schema_v1.db"


def test_first_schema_store_upgrades_without_loss(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(FIXTURE, db)
    before = sqlite3.connect(db)
    assert before.execute("PRAGMA user_version").fetchone()[0] == 1
    cases_before = before.execute("SELECT * FROM cases ORDER BY id").fetchall()
    events_before = before.execute(
        "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash "
        "FROM events ORDER BY id").fetchall()
    owners_before = before.execute("SELECT * FROM owners ORDER BY handle").fetchall()
    before.close()
    assert len(cases_before) == 3 and len(events_before) == 12

    esc = EscRunner(db, now="2026-10-03T09:00:00Z")
    shown = esc.doc("show", "1")
    assert shown["csat"] == 4 and shown["state"] == "resolved"
    assert [e["kind"] for e in shown["events"]][:3] == ["opened", "acknowledged", "note"]

    after = sqlite3.connect(db)
    assert after.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    applied = [r[0] for r in after.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = 'esc' ORDER BY id")]
    assert applied == [name for name, _ in MIGRATIONS]
    columns = [r[1] for r in after.execute("PRAGMA table_info(cases)")]
    width = len(cases_before[0])
    assert [row[:width] for row in after.execute(f"SELECT {', '.join(columns[:width])} FROM cases ORDER BY id")] == cases_before
    assert after.execute(
        "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash "
        "FROM events ORDER BY id").fetchall() == events_before
    # later migrations add columns to owners (0013: away_until, away_reason)
    assert [row[:len(owners_before[0])] for row in after.execute(
        "SELECT * FROM owners ORDER BY handle")] == owners_before
    for case_id in (1, 2, 3):
        assert chain_breaks(case_id, get_events_with_hashes(after, case_id)) is None
    after.close()

    # the upgraded store takes new writes
    esc.ok("ack", "2")
    assert esc.doc("show", "2")["state"] == "open"
