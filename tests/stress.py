"""Helpers the stress, crash and model tests share: budgets, real `esc` processes, and
whole-store checks that read the SQLite file directly (never through esc itself, so a
bug in esc cannot hide a bug in esc).

CI runs a small, seeded budget. For a long local run:
    ESC_STRESS=long HYPOTHESIS_PROFILE=long .venv/bin/pytest --timeout=0 -s \
        tests/test_concurrency.py tests/test_crash.py tests/test_model.py
and ESC_STRESS_SEED=N for other seeds."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from dataclasses import fields, replace
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from tests.conftest import ESC

LONG = os.environ.get("ESC_STRESS", "").lower() == "long"


def budget(ci, long):
    """The CI value, or the long one under ESC_STRESS=long (local runs)."""
    return long if LONG else ci


def seed() -> int:
    """Seeded by default so CI is repeatable; ESC_STRESS_SEED explores other runs."""
    return int(os.environ.get("ESC_STRESS_SEED", "20261102"))


def process_env(db: Path, **extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env["ESC_DB"] = str(db)
    env.update(extra)
    return env


def popen(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen([ESC, *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def is_pg(db) -> bool:
    return str(db).startswith(("postgresql://", "postgres://"))


def connect(db: Path):
    """A connection in autocommit mode (BEGIN/ROLLBACK are the caller's) with sqlite3's
    API: a PostgreSQL URI gets the store's own adapter (store/pg.py), which only
    translates the SQL the checks below write for SQLite."""
    if is_pg(db):
        from esc_cli.store import pg

        return pg.connect(pg.PgLocation(str(db)))
    return sqlite3.connect(str(db), isolation_level=None)


def integrity(db: Path) -> list[str]:
    """SQLite's own check of its file; on PostgreSQL (whose server keeps its files sound)
    the indexes an interrupted build left invalid, and that the store still opens."""
    conn = connect(db)
    try:
        if is_pg(db):
            rows = [f"invalid index {r[0]}" for r in conn.execute(
                "SELECT CAST(indexrelid AS regclass) FROM pg_index i JOIN pg_class c "
                "ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND NOT (i.indisvalid AND i.indisready)")]
            conn.execute("SELECT version FROM esc_store").fetchone()
            return rows
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
    return [] if rows == ["ok"] else rows


def pg_dump(uri: str) -> tuple:
    """Every row of every table of a PostgreSQL store (bytea read as bytes), as dump()."""
    import psycopg2

    conn = psycopg2.connect(uri)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            tables = [r[0] for r in cur.fetchall()]
            out = []
            for table in tables:
                cur.execute(f'SELECT * FROM "{table}" ORDER BY 1')
                rows = tuple(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                             for row in cur.fetchall())
                out.append((table, rows))
            return tuple(out)
    finally:
        conn.close()


def copy_store(source, target) -> None:
    """`target` made a consistent copy of the whole store `source`: SQLite's backup API
    (nothing left behind in a -wal file); on PostgreSQL the target database is dropped
    and made again from the source as its template (both on one server, no one
    connected to either)."""
    if is_pg(source):
        from urllib.parse import urlsplit

        from tests import pgserver

        admin = pgserver.with_database(str(source), "postgres")
        name = urlsplit(str(target)).path.lstrip("/")
        pgserver.drop(admin, name)
        pgserver.clone(admin, urlsplit(str(source)).path.lstrip("/"), name)
        return
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()


def dump(db: Path) -> tuple:
    """Every row of every table (FTS shadow tables included): equal dumps mean nothing
    was written. A PostgreSQL URI is dumped through the driver."""
    if is_pg(db):
        return pg_dump(str(db))
    conn = connect(db)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return tuple((t, tuple(conn.execute(f'SELECT * FROM "{t}" ORDER BY 1').fetchall()))
                     for t in tables)
    finally:
        conn.close()


def schema(db) -> list[tuple]:
    """The store's schema as sorted (type, name, table, definition) rows: SQLite's
    sqlite_master; on PostgreSQL the columns, indexes, triggers and functions of the
    store's schema from the catalogs. Equal lists: the same schema."""
    conn = connect(db)
    try:
        if not is_pg(db):
            return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        return sorted(conn.execute(
            "SELECT 'column', table_name || '.' || column_name, table_name, "
            "data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') "
            "FROM information_schema.columns WHERE table_schema = current_schema() "
            "UNION ALL SELECT 'index', indexname, tablename, indexdef FROM pg_indexes "
            "WHERE schemaname = current_schema() "
            "UNION ALL SELECT 'trigger', t.tgname, CAST(t.tgrelid AS regclass) || '', "
            "pg_get_triggerdef(t.oid) || CASE WHEN t.tgenabled = 'O' THEN '' ELSE ' (disabled)' END "
            "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE NOT t.tgisinternal AND n.nspname = current_schema() "
            "UNION ALL SELECT 'function', p.proname, '', pg_get_functiondef(p.oid) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema()").fetchall())
    finally:
        conn.close()


def cases_and_events(conn: sqlite3.Connection):
    """(case, [events], [(event, hash)]) for every case, in id order: two cursors walked
    side by side, so memory stays flat however big the store is."""
    from esc_cli.domain.model import Event
    from esc_cli.store.cases import _SELECT_CASE, case_from_row

    cases = conn.execute(f"{_SELECT_CASE} ORDER BY id")
    chains = groupby(conn.execute(
        "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash "
        "FROM events ORDER BY case_id, id"), key=itemgetter(0))
    pending = next(chains, None)
    for row in cases:
        case = case_from_row(row)
        assert pending is None or pending[0] >= case.id, \
            f"events of case #{pending[0]}, which does not exist"
        chain = []
        if pending is not None and pending[0] == case.id:
            chain = [(Event(*r[1:8]), bytes(r[8])) for r in pending[1]]
            pending = next(chains, None)
        yield case, [e for e, _ in chain], chain
    assert pending is None, f"events of case #{pending[0]}, which does not exist"


def digest(db: Path, *tables: str) -> str:
    """A fingerprint of every row of `tables`, streamed: equal digests, equal rows."""
    import hashlib

    conn = connect(db)
    try:
        hasher = hashlib.sha256()
        for table in tables:
            hasher.update(table.encode())
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1"):
                hasher.update(repr(tuple(row)).encode())
        return hasher.hexdigest()
    finally:
        conn.close()


def replay_problems(db: Path, limit: int = 10, requeued_at: int | None = None) -> list[str]:
    """Every case checked against its own history: the hash chain verifies, events are in
    time order, and every stored derived field (due times, warn times, sweep_at, counts)
    equals `lifecycle.settle` over the events under the case's policy version. Returns
    one line per problem (empty: all good).

    `requeued_at`: a policy or ladder change at that instant re-queued cases for the next
    sweep (sweep_at = that instant), which looks and reschedules. A sweep_at earlier than
    the replay's, or one at that instant when the replay's is no later, is then expected;
    a missing one, or one later than both, never is."""
    from esc_cli import services
    from esc_cli.domain import lifecycle
    from esc_cli.domain.model import Case, chain_breaks

    names = [f.name for f in fields(Case) if f.name != "extra"]
    problems: list[str] = []
    conn = connect(db)
    try:
        conn.execute("BEGIN")
        pols = services.Policies(conn)
        for case, events, chain in cases_and_events(conn):
            if not events:
                problems.append(f"#{case.id}: no events")
            elif chain_breaks(case.id, chain) is not None:
                problems.append(f"#{case.id}: hash chain breaks at {chain_breaks(case.id, chain)}")
            if [e.at for e in events] != sorted(e.at for e in events):
                problems.append(f"#{case.id}: events out of time order")
            fresh = lifecycle.settle(case, events, pols.for_case(case))
            if requeued_at is not None and case.sweep_at is not None and (
                    fresh.sweep_at is None
                    or case.sweep_at <= max(fresh.sweep_at, requeued_at)):
                fresh = replace(fresh, sweep_at=case.sweep_at)
            if fresh != case:
                diff = {n: (getattr(case, n), getattr(fresh, n)) for n in names
                        if getattr(case, n) != getattr(fresh, n)}
                problems.append(f"#{case.id}: stored != replayed {diff}")
            if len(problems) >= limit:
                break
        conn.execute("ROLLBACK")
    finally:
        conn.close()
    return problems


CSV_HEADER = ["title", "customer", "priority", "category", "channel", "opened_at",
              "acknowledged_at", "resolved_at", "tags"]


def write_cases_csv(path: Path, rows: int, now: int, rng, spread: int = 10 * 86400) -> Path:
    """`rows` cases for `esc import`, opened in the `spread` before `now`: new ones, open
    ones (acknowledged) and resolved ones, of every priority, so their clocks are at
    every stage (many already due or breached at `now`)."""
    import csv

    from esc_cli.domain.model import iso

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for number in range(rows):
            opened = now - rng.randrange(600, spread)
            roll = rng.random()
            acknowledged = resolved = None
            if roll > 0.35:
                acknowledged = opened + rng.randrange(60, 4 * 3600)
            if roll > 0.75:
                resolved = acknowledged + rng.randrange(60, 3 * 86400)
            acknowledged = None if acknowledged is None or acknowledged > now else acknowledged
            resolved = None if resolved is None or acknowledged is None or resolved > now else resolved
            writer.writerow([
                f"Imported case {number}", rng.choice(("Globex", "Initech", "Hooli", "Acme")),
                rng.choice(("urgent", "high", "medium", "low")),
                rng.choice(("technical", "billing", "other")), rng.choice(("email", "chat")),
                iso(opened), iso(acknowledged), iso(resolved),
                rng.choice(("", "vip", "vip;eu")),
            ])
    return path
