"""esc report splits its queries between two connections reading one snapshot
(Store.read_pair; on PostgreSQL the second imports the first's snapshot): both halves
must see the same commits, whatever is written while the report runs. Both stores
(PG_MODULES)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


def _store(esc):
    from esc_cli.store.db import Store
    from esc_cli.store.pg_location import location

    return Store.open(location(str(esc.db)) or Path(esc.db))


def test_both_connections_read_the_snapshot_taken_before_a_later_commit(esc):
    esc.ok("open", "VPN down", "--customer", "Acme", "--priority", "high")
    store = _store(esc)
    try:
        with store.read_pair() as (conn, second):
            assert second is not None, "a report on one connection: no second core"
            assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
            # another client commits a case and an escalation while the report reads
            case = esc.doc("open", "Printer", "--customer", "Initech", "--priority", "low")["id"]
            esc.ok("escalate", str(case), "--reason", "stuck")
            for reader in (conn, second):
                assert reader.execute("SELECT count(*) FROM cases").fetchone()[0] == 1
                assert reader.execute("SELECT count(*) FROM owner_times").fetchone()[0] == 0
        with store.read_pair() as (conn, second):
            for reader in (conn, second):
                assert reader.execute("SELECT count(*) FROM cases").fetchone()[0] == 2
                assert reader.execute("SELECT count(*) FROM owner_times").fetchone()[0] == 1
    finally:
        store.close()


def test_the_report_is_the_same_on_one_connection_and_on_two(esc, monkeypatch):
    # the halves' figures, merged from two connections, equal one connection's run
    from esc_cli.store import db, pg

    esc.ok("owner", "add", "bob", "--tier", "2")
    for n in range(3):
        case = esc.doc("open", f"case {n}", "--customer", "Acme", "--priority", "urgent")["id"]
        esc.ok("escalate", str(case), "--reason", "stuck", now="2026-11-02T10:30:00Z")
    esc.ok("assign", "1", "bob", now="2026-11-02T11:00:00Z")
    window = ("--since", "2026-11-01", "--until", "2026-11-03", "--by", "priority")
    two = esc.doc("report", *window, now="2026-11-02T12:00:00Z")
    assert two["time_to_owner"] == {"p50": 1800, "p90": 1800} and two["unowned"] == 2

    @contextmanager
    def one(self):
        with self.read() as conn:
            yield conn, None

    monkeypatch.setattr(db.Store, "read_pair", one)
    monkeypatch.setattr(pg.PgStore, "read_pair", one)
    assert esc.doc("report", *window, now="2026-11-02T12:00:00Z") == two
