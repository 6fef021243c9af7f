"""Ordered schema migrations, recorded in the store by sqlite-utils.

Never edit a migration once it has shipped: add a new one. `SCHEMA_VERSION` is the
number of migrations; it is mirrored in `PRAGMA user_version` so the hot path can
tell an old, current or newer store apart without importing sqlite-utils.
"""

from __future__ import annotations

import sqlite3

MIGRATION_SET = "esc"


def _run(db, script: str) -> None:
    # conn.executescript() would COMMIT the caller's BEGIN IMMEDIATE first.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_core(db) -> None:
    _run(db, 
        """
        CREATE TABLE policy_versions (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            toml TEXT NOT NULL
        );
        CREATE TABLE owners (
            handle TEXT PRIMARY KEY,
            name TEXT,
            email TEXT,
            tier INTEGER NOT NULL DEFAULT 1,
            teams TEXT NOT NULL DEFAULT '[]',
            capacity INTEGER,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            customer TEXT NOT NULL,
            category TEXT NOT NULL,
            priority TEXT NOT NULL,
            channel TEXT NOT NULL,
            tier INTEGER NOT NULL,
            team TEXT,
            owner TEXT,
            state TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            csat INTEGER,
            opened_at INTEGER NOT NULL,
            acknowledged_at INTEGER,
            resolved_at INTEGER,
            closed_at INTEGER,
            respond_by INTEGER,
            respond_warn INTEGER,
            update_by INTEGER,
            update_warn INTEGER,
            resolve_by INTEGER,
            resolve_warn INTEGER,
            due_at INTEGER,
            warn_at INTEGER,
            paused_since INTEGER,
            update_missed INTEGER NOT NULL DEFAULT 0,
            escalations INTEGER NOT NULL DEFAULT 0,
            reopened INTEGER NOT NULL DEFAULT 0,
            policy_version INTEGER NOT NULL,
            tier_since INTEGER NOT NULL,
            last_activity_at INTEGER NOT NULL,
            last_event_at INTEGER NOT NULL,
            sweep_at INTEGER
        );
        -- Partial indexes: at a million cases a plain index on a due column walks
        -- the closed cases, these hold only the rows that can still be due.
        CREATE INDEX cases_unresolved_due ON cases(due_at)
            WHERE state IN ('new', 'open', 'pending');
        CREATE INDEX cases_unresolved_owner ON cases(owner)
            WHERE state IN ('new', 'open', 'pending');
        CREATE INDEX cases_sweep_at ON cases(sweep_at) WHERE sweep_at IS NOT NULL;
        CREATE INDEX cases_opened_at ON cases(opened_at);
        CREATE INDEX cases_resolved_at ON cases(resolved_at) WHERE resolved_at IS NOT NULL;
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL,
            at INTEGER NOT NULL,
            actor TEXT NOT NULL,
            kind TEXT NOT NULL,
            field TEXT,
            from_value TEXT,
            to_value TEXT,
            reason TEXT,
            hash BLOB NOT NULL
        );
        CREATE INDEX events_case ON events(case_id, id);
        CREATE INDEX events_kind_at ON events(kind, at);
        CREATE TABLE notifications (
            id TEXT PRIMARY KEY,
            case_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            recipient TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            payload TEXT NOT NULL
        );
        CREATE INDEX notifications_case ON notifications(case_id);
        CREATE TABLE deliveries (
            notification_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            state TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at INTEGER,
            PRIMARY KEY (notification_id, channel)
        );
        CREATE INDEX deliveries_due ON deliveries(next_attempt_at)
            WHERE state != 'delivered';
        """
    )


MIGRATIONS = [("0001_core", _m001_core)]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations; the caller holds the write lock. Returns the new version."""
    import sqlite_utils
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for name, fn in MIGRATIONS:
        migrations(name=name)(fn)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    migrations.apply(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return SCHEMA_VERSION
