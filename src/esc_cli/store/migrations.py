"""Ordered schema migrations, recorded in the store by sqlite-utils.

Never edit a migration once it has shipped: add a new one. `SCHEMA_VERSION` is the
number of migrations; it is mirrored in `PRAGMA user_version` so the hot path can
tell an old, current or newer store apart without importing sqlite-utils.
"""

from __future__ import annotations

import sqlite3

from esc_cli.store.migrations_report import (
    _m003_report_indexes,
    _m004_report_perf,
    _m005_report_pauses,
    _m006_report_deescalations,
    _m007_unresolved_warn,
    _m008_report_summaries,
    _m009_report_durations,
    _m010_policy_documents,
    _m011_delivery_leases,
    _m012_resolution_decided,
)
from esc_cli.store.sql_script import run_script as _run

MIGRATION_SET = "esc"
# "ESC1": a SQLite store's PRAGMA application_id; on PostgreSQL the key of esc_store's
# row and of the advisory lock migrations and case numbering take (pg_migrations.LOCK_KEY)
APPLICATION_ID = 0x45534331


def _m001_core(db) -> None:
    _run(
        db,
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
        """,
    )


# Event kinds whose reason is text a person wrote about the problem: notes, customer
# updates, resolutions and the customer's feedback comment.
SEARCHED_EVENT_KINDS = ("note", "customer_update", "resolved", "feedback")


def _m002_fts(db) -> None:
    """Full-text search for `esc search`, and an event counter for `esc doctor`.

    One FTS5 row per case: its title, description and notes (the reasons of
    SEARCHED_EVENT_KINDS events) as three columns, so every word of a query can match
    anywhere in the case and bm25 weighs title, description and notes on one scale.
    The index reads its text through the view `case_search_docs` (external content:
    nothing is stored twice), and triggers keep it in step with cases and events.

    Not sqlite-utils' `enable_fts()`: it runs `executescript()`, which commits the
    BEGIN IMMEDIATE a migration runs in, and it indexes one table's columns only.

    detail=none stores no positions (about a third of detail=full): bm25 ranking is
    unchanged, FTS5 re-reads the matched rows for it; phrase and column queries are
    lost, and `esc search` never builds them.

    cases.event_count counts the events ever written to a case (a trigger, so every
    writer keeps it): the hash chain proves an event was edited, reordered or removed
    from the middle, the count proves the newest ones were not deleted."""
    kinds = ", ".join(f"'{kind}'" for kind in SEARCHED_EVENT_KINDS)

    def notes(case_id: str, without: str = "NULL") -> str:
        # FTS5 deletes by the tokens a row was indexed with, so each trigger rebuilds
        # the old notes (order does not matter, the set of texts does).
        return (
            f"(SELECT group_concat(reason, ' ') FROM events WHERE case_id = {case_id} "
            f"AND kind IN ({kinds}) AND reason IS NOT NULL AND id IS NOT {without})"
        )

    def searched(row: str) -> str:
        return f"{row}.kind IN ({kinds}) AND {row}.reason IS NOT NULL"

    def reindex(case_id: str, old_notes: str, when: str = "1") -> str:
        return f"""
            INSERT INTO cases_fts (cases_fts, rowid, title, description, notes)
            SELECT 'delete', id, title, description, {old_notes}
            FROM cases WHERE id = {case_id} AND {when};
            INSERT INTO cases_fts (rowid, title, description, notes)
            SELECT id, title, description, {notes("cases.id")}
            FROM cases WHERE id = {case_id} AND {when};"""

    def with_old(without_new: str, row: str) -> str:
        return (
            f"CASE WHEN {searched(row)} THEN coalesce({without_new} || ' ', '') || {row}.reason "
            f"ELSE {without_new} END"
        )

    statements = [
        f"""CREATE VIEW case_search_docs AS
            SELECT id, title, description, {notes("cases.id")} AS notes FROM cases""",
        """CREATE VIRTUAL TABLE cases_fts USING fts5(
            title, description, notes, content = 'case_search_docs', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2', detail = none)""",
        f"""CREATE TRIGGER cases_fts_ai AFTER INSERT ON cases BEGIN
            INSERT INTO cases_fts (rowid, title, description, notes)
            VALUES (new.id, new.title, new.description, {notes("new.id")});
        END""",
        f"""CREATE TRIGGER cases_fts_ad AFTER DELETE ON cases BEGIN
            INSERT INTO cases_fts (cases_fts, rowid, title, description, notes)
            VALUES ('delete', old.id, old.title, old.description, {notes("old.id")});
        END""",
        # Every case write rewrites every column; re-index only when the text changed.
        f"""CREATE TRIGGER cases_fts_au AFTER UPDATE OF id, title, description ON cases
        WHEN old.id IS NOT new.id OR old.title IS NOT new.title
            OR old.description IS NOT new.description BEGIN
            INSERT INTO cases_fts (cases_fts, rowid, title, description, notes)
            VALUES ('delete', old.id, old.title, old.description, {notes("old.id")});
            INSERT INTO cases_fts (rowid, title, description, notes)
            VALUES (new.id, new.title, new.description, {notes("new.id")});
        END""",
        f"""CREATE TRIGGER cases_fts_events_ai AFTER INSERT ON events
        WHEN {searched("new")} BEGIN
            {reindex("new.case_id", notes("new.case_id", "new.id"))}
        END""",
        # esc never updates or deletes an event; these keep the index true to the tables
        # when someone does so by hand (which doctor then reports).
        f"""CREATE TRIGGER cases_fts_events_ad AFTER DELETE ON events
        WHEN {searched("old")} BEGIN
            {reindex("old.case_id", with_old(notes("old.case_id"), "old"))}
        END""",
        f"""CREATE TRIGGER cases_fts_events_au AFTER UPDATE ON events
        WHEN ({searched("old")}) OR ({searched("new")}) BEGIN
            {reindex("old.case_id", with_old(notes("old.case_id", "new.id"), "old"))}
            {
            reindex(
                "new.case_id", notes("new.case_id", "new.id"), when="new.case_id IS NOT old.case_id"
            )
        }
        END""",
        "INSERT INTO cases_fts (cases_fts) VALUES ('rebuild')",
        "ALTER TABLE cases ADD COLUMN event_count INTEGER NOT NULL DEFAULT 0",
        "UPDATE cases SET event_count = (SELECT count(*) FROM events WHERE case_id = cases.id)",
        """CREATE TRIGGER events_count_ai AFTER INSERT ON events BEGIN
            UPDATE cases SET event_count = event_count + 1 WHERE id = new.case_id;
        END""",
    ]
    for statement in statements:
        db.execute(statement)


def _m013_routing(db) -> None:
    """Routing (issue 21): an owner may be away until an instant, and round-robin
    remembers per scope (`tier:2`, `team:billing`) whom routing chose last. Plain
    portable SQL: PostgreSQL runs it as written. On SQLite it may run again over its own
    work (tests take a store back to before an earlier migration and upgrade it again),
    so it adds only what is missing."""
    have = set()
    if getattr(db, "dialect", "sqlite") == "sqlite":
        have = {row[1] for row in db.execute("PRAGMA table_info(owners)").fetchall()}
    for column, kind in (("away_until", "INTEGER"), ("away_reason", "TEXT")):
        if column not in have:
            db.execute(f"ALTER TABLE owners ADD COLUMN {column} {kind}")
    db.execute("""CREATE TABLE IF NOT EXISTS routing_state (
        scope TEXT PRIMARY KEY,
        last_handle TEXT,
        turns INTEGER NOT NULL DEFAULT 0,
        updated_at INTEGER NOT NULL
    )""")


def _m014_pg_bulk_load(db) -> None:
    """PostgreSQL only (its body is _pg_bulk_load): SQLite's import drops and remakes its
    triggers inside its transaction instead (store/bulk.py). Nothing to do here."""


def _m015_pg_sweep_claims(db) -> None:
    """PostgreSQL only (its body is _pg_sweep_claims): SQLite's index on sweep_at holds
    each row's id after it, in order, already. Nothing to do here."""


def _m016_search_diacritics(db) -> None:
    """PostgreSQL only (its body is _pg_search_diacritics): FTS5's unicode61 tokenizer
    already finds "cafe" in "Café" on SQLite. Nothing to do here."""


def _m017_resolution_cycles(db) -> None:
    """Each cycle of a reopened case's resolution clock is counted once, where it was
    decided (domain/cycles.py, docs/sla.md): the cycles before a case's latest go in
    their own table, read by esc report through its index on decided_at; the latest
    stays in cases.resolution_decided_at, which for a reopened case now holds that
    cycle's own decision (no longer the first breach of any cycle).

    Plain portable SQL (PostgreSQL runs it as written, types through pg_migrations._PgDDL); the
    backfill replays only the reopened cases, on either store."""
    db.execute("""CREATE TABLE IF NOT EXISTS resolution_cycles (
        case_id INTEGER NOT NULL,
        cycle INTEGER NOT NULL,
        decided_at INTEGER NOT NULL,
        met INTEGER NOT NULL,
        PRIMARY KEY (case_id, cycle)
    )""")
    db.execute(
        "CREATE INDEX IF NOT EXISTS resolution_cycles_decided "
        "ON resolution_cycles(decided_at, case_id, met)"
    )
    from esc_cli.store.cycles import replay

    replay(db.conn)


def _m018_owner_times(db) -> None:
    """How each escalation's wait for an owner ended, recorded as it happens, so esc
    report reads a window of them by an index range (store/owner_times.py, its table,
    index and backfill from the event log). Plain portable SQL, on either store."""
    from esc_cli.store.owner_times import create

    create(db)


def _m019_owner_priority(db) -> None:
    """Each owner_times row carries its case's priority, so the report by priority
    reads the index alone (store/owner_times.add_priority)."""
    from esc_cli.store.owner_times import add_priority

    add_priority(db)


def _m020_pg_report_case_ids(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_report_case_ids): SQLite's index
    entries hold each row's id already. Nothing to do here."""


def _m021_ascii_words(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_ascii_words: a cheaper esc_words for
    ASCII text, the same words). Nothing to do here."""


def _m022_index_words(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_index_words: an import's search
    documents from the words esc cut). Nothing to do here: SQLite's FTS5 cuts its own."""


def _m023_search_rows(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_search_rows: every case's search
    document in one query, for doctor). Nothing to do here: FTS5 checks itself."""


def _m024_index_texts(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_index_texts: an import's search
    documents from the texts it sends). Nothing to do here."""


def _m025_search_rows_cut_once(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_search_rows_cut_once: doctor's
    search documents with each text cut once). Nothing to do here."""


def _m026_pg_events_kind_at(db) -> None:
    """PostgreSQL only (its body is pg_migrations._pg_drop_events_kind_at). SQLite dropped
    events_kind_at in 0004. Nothing to do here."""


def _m027_pg_short_words(db) -> None:
    """PostgreSQL only (pg_migrations._pg_short_words): its stemmer now leaves words
    shorter than 3 bytes or longer than 64 as they are, as FTS5's porter does here."""


def _m028_opening_owners(db) -> None:
    """Every escalation's wait for an owner again (store/owner_times.fill), now counting
    the owner a case was opened with: `esc open --owner` wrote no `assigned` event, so
    an escalation that kept that owner counted as unowned in the report. Portable SQL,
    on either store."""
    from esc_cli.store.owner_times import fill

    fill(db)


def _m029_time_to_resolve(db) -> None:
    """A reopened case's time to resolve counts the time it sat resolved before the reopen
    (domain/summary.py); only pending time is left out, as SPEC defines it. Only reopened
    cases change (for the others the two rules agree): each one's stored resolve_secs from
    its events up to its latest resolution, as summarise() sums them. Portable SQL, on
    either store."""
    db.execute(
        """UPDATE cases SET resolve_secs = resolution_at - opened_at - coalesce((
            SELECT sum(CASE WHEN e.from_value = 'pending' THEN e.at
                            WHEN e.to_value = 'pending' THEN -e.at ELSE 0 END)
            FROM events e
            WHERE e.case_id = cases.id AND e.field = 'state' AND e.id <= (
                SELECT max(f.id) FROM events f WHERE f.case_id = cases.id AND f.kind = 'resolved')
        ), 0)
        WHERE reopened > 0 AND resolution_at IS NOT NULL"""
    )


def _m030_pg_fts5_words(db) -> None:
    """PostgreSQL only (pg_migrations._pg_fts5_words): its documents now hold words as
    FTS5 cuts and folds them here, and a huge case's document fits. Nothing to do here."""


MIGRATIONS = [
    ("0001_core", _m001_core),
    ("0002_fts", _m002_fts),
    ("0003_report_indexes", _m003_report_indexes),
    ("0004_report_perf", _m004_report_perf),
    ("0005_report_pauses", _m005_report_pauses),
    ("0006_report_deescalations", _m006_report_deescalations),
    ("0007_unresolved_warn", _m007_unresolved_warn),
    ("0008_report_summaries", _m008_report_summaries),
    ("0009_report_durations", _m009_report_durations),
    ("0010_policy_documents", _m010_policy_documents),
    ("0011_delivery_leases", _m011_delivery_leases),
    ("0012_resolution_decided", _m012_resolution_decided),
    ("0013_routing", _m013_routing),
    ("0014_pg_bulk_load", _m014_pg_bulk_load),
    ("0015_pg_sweep_claims", _m015_pg_sweep_claims),
    ("0016_search_diacritics", _m016_search_diacritics),
    ("0017_resolution_cycles", _m017_resolution_cycles),
    ("0018_owner_times", _m018_owner_times),
    ("0019_owner_priority", _m019_owner_priority),
    ("0020_pg_report_case_ids", _m020_pg_report_case_ids),
    ("0021_ascii_words", _m021_ascii_words),
    ("0022_index_words", _m022_index_words),
    ("0023_search_rows", _m023_search_rows),
    ("0024_index_texts", _m024_index_texts),
    ("0025_search_rows_cut_once", _m025_search_rows_cut_once),
    ("0026_pg_events_kind_at", _m026_pg_events_kind_at),
    ("0027_pg_short_words", _m027_pg_short_words),
    ("0028_opening_owners", _m028_opening_owners),
    ("0029_time_to_resolve", _m029_time_to_resolve),
    ("0030_pg_fts5_words", _m030_pg_fts5_words),
]
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
