"""Ordered schema migrations, recorded in the store by sqlite-utils.

Never edit a migration once it has shipped: add a new one. `SCHEMA_VERSION` is the
number of migrations; it is mirrored in `PRAGMA user_version` so the hot path can
tell an old, current or newer store apart without importing sqlite-utils.
"""

from __future__ import annotations

import sqlite3

MIGRATION_SET = "esc"
# "ESC1": a SQLite store's PRAGMA application_id; on PostgreSQL the key of esc_store's
# row and of the advisory lock migrations and case numbering take (pg_migrations.LOCK_KEY)
APPLICATION_ID = 0x45534331


def _run(db, script: str) -> None:
    # conn.executescript() would COMMIT the caller's BEGIN IMMEDIATE first.
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


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


def _m003_report_indexes(db) -> None:
    # esc report: SLA clocks that stopped or fell due in a window are found through
    # their stop and due columns; the backlog at an instant starts from the unresolved
    # cases opened before it.
    _run(
        db,
        """
        CREATE INDEX cases_acknowledged_at ON cases(acknowledged_at)
            WHERE acknowledged_at IS NOT NULL;
        CREATE INDEX cases_respond_by ON cases(respond_by);
        CREATE INDEX cases_resolve_by ON cases(resolve_by);
        CREATE INDEX cases_unresolved_opened ON cases(opened_at)
            WHERE state IN ('new', 'open', 'pending');
        """,
    )


def _m004_report_perf(db) -> None:
    # esc report reads events by kind only for a few kinds: partial indexes over just
    # those rows, each covering its query (no row lookups), replace the index on
    # every event's (kind, at), which was larger than all of these together.
    # The (case_id, id) ones answer "is this the case's latest resolution/feedback".
    # SQLite 3.40 counts a partial index as covering only if it holds the columns of
    # its own WHERE too, hence the trailing kind/field.
    _run(
        db,
        """
        DROP INDEX IF EXISTS events_kind_at;
        CREATE INDEX events_resolved_at ON events(at, case_id, id, from_value, kind)
            WHERE kind = 'resolved';
        CREATE INDEX events_resolved_case ON events(case_id, id, kind) WHERE kind = 'resolved';
        CREATE INDEX events_feedback_at ON events(at, case_id, id, to_value, kind)
            WHERE kind = 'feedback';
        CREATE INDEX events_feedback_case ON events(case_id, id, kind) WHERE kind = 'feedback';
        CREATE INDEX events_escalated_at ON events(at, case_id, kind) WHERE kind = 'escalated';
        CREATE INDEX events_state_at ON events(at, from_value, to_value, field)
            WHERE field = 'state';
        """,
    )


def _m005_report_pauses(db) -> None:
    # esc report's time to resolve subtracts each case's pauses: the state moves that
    # start or end one, bar resolutions (report_queries._PAUSE_MOVE, spelled the same).
    db.execute(
        """CREATE INDEX events_pause_moves ON events(case_id, id, at, from_value, to_value, field)
            WHERE field = 'state' AND (from_value IN ('pending', 'resolved')
            AND to_value IN ('new', 'open') OR from_value IN ('new', 'open')
            AND to_value = 'pending')"""
    )


def _m006_report_deescalations(db) -> None:
    # esc report's first-contact resolution looks for a de-escalation after each
    # resolution: a tiny index instead of reading every event of every resolved case.
    db.execute(
        "CREATE INDEX events_deescalated ON events(case_id, at, kind) WHERE kind = 'deescalated'"
    )


def _m007_unresolved_warn(db) -> None:
    # esc overdue asks "at risk by now or due by the horizon": the warn half of that OR
    # needs its own partial index, or SQLite walks every unresolved case.
    db.execute(
        "CREATE INDEX cases_unresolved_warn ON cases(warn_at) "
        "WHERE state IN ('new', 'open', 'pending')"
    )


# The last instant at which a case can count in a report window: its opening, first
# response, due times, resolutions and feedback. A case whose horizon is before a
# window's start has nothing in it. Unresolved cases count in every backlog, so their
# horizon is past any instant esc accepts (year 10000). report_queries.HORIZON is this
# text, spelled the same so SQLite matches it to the index cases_report.
_HORIZON = (
    "CASE WHEN state IN ('new', 'open', 'pending') THEN 253402300800 ELSE max(opened_at, "
    "coalesce(acknowledged_at, 0), coalesce(respond_by, 0), coalesce(resolved_at, 0), "
    "coalesce(resolve_by, 0), coalesce(resolution_at, 0), coalesce(feedback_at, 0)) END"
)


def _m008_report_summaries(db) -> None:
    """Per-case report figures (domain/summary.py) as columns, so esc report aggregates
    one covering index instead of reading the event log; the event indexes that only
    the report read are dropped.

    The backfill is the arithmetic the report ran over the events until now, set-based
    over the partial indexes of 0004-0006 before they go."""
    _run(
        db,
        """
        ALTER TABLE cases ADD COLUMN resolution_at INTEGER;
        ALTER TABLE cases ADD COLUMN resolve_secs INTEGER;
        ALTER TABLE cases ADD COLUMN fcr INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE cases ADD COLUMN feedback_at INTEGER;
        ALTER TABLE cases ADD COLUMN feedback_score INTEGER;
        CREATE TEMP TABLE m008_final AS
            SELECT e.case_id, e.id AS event_id, e.at AS stop, e.from_value = 'pending' AS from_pending
            FROM events e
            WHERE e.kind = 'resolved' AND NOT EXISTS (
                SELECT 1 FROM events l WHERE l.case_id = e.case_id AND l.id > e.id
                AND l.kind = 'resolved');
        CREATE TEMP TABLE m008_resolution AS
            SELECT f.case_id AS id, f.stop AS resolution_at,
                f.stop - c.opened_at - CASE WHEN f.from_pending THEN f.stop ELSE 0 END
                - coalesce(CASE WHEN EXISTS (
                    SELECT 1 FROM events x
                    WHERE x.case_id = f.case_id AND x.id < f.event_id AND x.field = 'state'
                      AND x.from_value = 'resolved' AND x.to_value IN ('new', 'open'))
                  THEN (SELECT sum(CASE WHEN p.from_value IN ('pending', 'resolved')
                                         AND p.to_value IN ('new', 'open') THEN p.at
                                    WHEN p.from_value IN ('new', 'open')
                                         AND p.to_value IN ('pending', 'resolved') THEN -p.at
                                    ELSE 0 END)
                        FROM events p
                        WHERE p.case_id = f.case_id AND p.id < f.event_id AND p.field = 'state')
                  ELSE (SELECT sum(CASE WHEN p.from_value IN ('pending', 'resolved') THEN p.at
                                    ELSE -p.at END)
                        FROM events p
                        WHERE p.case_id = f.case_id AND p.id < f.event_id AND p.field = 'state'
                          AND (p.from_value IN ('pending', 'resolved') AND p.to_value IN ('new', 'open')
                               OR p.from_value IN ('new', 'open') AND p.to_value = 'pending'))
                  END, 0) AS resolve_secs,
                (c.tier = 1 AND c.escalations = 0 AND c.reopened = 0 AND NOT EXISTS (
                    SELECT 1 FROM events d WHERE d.case_id = f.case_id AND d.kind = 'deescalated'
                    AND d.id > f.event_id)) AS fcr
            FROM m008_final f JOIN cases c ON c.id = f.case_id;
        CREATE TEMP TABLE m008_feedback AS
            SELECT e.case_id AS id, e.at AS feedback_at, CAST(e.to_value AS INTEGER) AS feedback_score
            FROM events e
            WHERE e.kind = 'feedback' AND NOT EXISTS (
                SELECT 1 FROM events l WHERE l.case_id = e.case_id AND l.id > e.id
                AND l.kind = 'feedback');
        UPDATE cases SET resolution_at = r.resolution_at, resolve_secs = r.resolve_secs, fcr = r.fcr
            FROM m008_resolution r WHERE r.id = cases.id;
        UPDATE cases SET feedback_at = f.feedback_at, feedback_score = f.feedback_score
            FROM m008_feedback f WHERE f.id = cases.id;
        DROP TABLE m008_final;
        DROP TABLE m008_resolution;
        DROP TABLE m008_feedback;
        DROP INDEX IF EXISTS events_resolved_at;
        DROP INDEX IF EXISTS events_resolved_case;
        DROP INDEX IF EXISTS events_feedback_at;
        DROP INDEX IF EXISTS events_feedback_case;
        DROP INDEX IF EXISTS events_pause_moves;
        DROP INDEX IF EXISTS events_deescalated;
        DROP INDEX IF EXISTS events_state_at;
        DROP INDEX IF EXISTS cases_acknowledged_at;
        DROP INDEX IF EXISTS cases_respond_by;
        DROP INDEX IF EXISTS cases_resolve_by;
        CREATE INDEX cases_resolution_at ON cases(resolution_at) WHERE resolution_at IS NOT NULL
        """,
    )
    # Every column a report window reads, behind the horizon: one range scan per priority,
    # no row reads, rows already in priority order (GROUP BY priority needs no sort).
    db.execute(
        f"""CREATE INDEX cases_report ON cases(priority, {_HORIZON}, opened_at, state, owner,
            escalations, reopened, acknowledged_at, respond_by, resolved_at, resolve_by,
            paused_since, resolution_at, resolve_secs, fcr, feedback_at, feedback_score,
            last_event_at)"""
    )


def _m009_report_durations(db) -> None:
    """Each priority's durations in value order, so a percentile over a long window is
    one index walk (ORDER BY value LIMIT 1 OFFSET rank - 1) filtered on the instant the
    clock stopped, instead of every duration of the window held and sorted in Python.
    report_queries.DURATIONS spells the same expressions."""
    db.executescript(
        """
        CREATE INDEX cases_respond_secs ON cases(priority, acknowledged_at - opened_at,
            acknowledged_at) WHERE acknowledged_at IS NOT NULL;
        CREATE INDEX cases_resolve_secs ON cases(priority, resolve_secs, resolution_at)
            WHERE resolution_at IS NOT NULL;
        """
    )


def _m010_policy_documents(db) -> None:
    # Every run reads the current policy: keep each version's parsed TOML as JSON too,
    # so a run need not import tomllib (store/policies.py says why).
    from esc_cli.store.policies import encode_document

    db.execute("ALTER TABLE policy_versions ADD COLUMN document TEXT")
    for version_id, toml in db.execute("SELECT id, toml FROM policy_versions").fetchall():
        db.execute(
            "UPDATE policy_versions SET document = ? WHERE id = ?",
            (encode_document(toml), version_id),
        )


def _m011_delivery_leases(db) -> None:
    # A claim's lease in real time and who holds it (host:pid), beside next_attempt_at
    # (in the commands' "now", which --now may hold still): a claim whose holder is gone
    # or whose real lease ran out is taken back by the next sweep or notify retry.
    db.execute("ALTER TABLE deliveries ADD COLUMN lease_until INTEGER")
    db.execute("ALTER TABLE deliveries ADD COLUMN leased_by TEXT")


def _m012_resolution_decided(db) -> None:
    """When each case's resolution clock was decided (domain/sla.decided_at, docs/sla.md):
    esc report counts a resolution clock once, at that instant, and judges a case
    resolved straight from pending by the working time it ran.

    A history without pauses before its resolution is settled in SQL from its due time;
    one with a pending or a reopen is replayed through the domain under its policy
    version (one ordered pass over those cases' events). The report's covering index
    is rebuilt with the new column."""
    db.execute("ALTER TABLE cases ADD COLUMN resolution_decided_at INTEGER")
    db.execute(
        """UPDATE cases SET resolution_decided_at = CASE
            WHEN state IN ('resolved', 'closed') THEN
                CASE WHEN resolved_at > resolve_by THEN resolve_by ELSE resolved_at END
            WHEN state IN ('new', 'open') THEN resolve_by END"""
    )
    _replay_resolution_decided(db.conn)
    db.execute("DROP INDEX cases_report")
    db.execute(
        f"""CREATE INDEX cases_report ON cases(priority, {_HORIZON}, opened_at, state, owner,
            escalations, reopened, acknowledged_at, respond_by, resolved_at, resolve_by,
            paused_since, resolution_at, resolve_secs, fcr, feedback_at, feedback_score,
            last_event_at, resolution_decided_at)"""
    )


def _replay_resolution_decided(conn: sqlite3.Connection) -> None:
    from esc_cli.domain import sla
    from esc_cli.domain.model import Event
    from esc_cli.domain.policy import Policy, PolicyError, parse_policy

    parsed: dict[int, Policy] = {}
    for version_id, toml in conn.execute("SELECT id, toml FROM policy_versions"):
        try:
            parsed[version_id] = parse_policy(toml)
        except PolicyError:
            pass  # doctor reports an invalid version; its cases keep the SQL value
    rows = conn.execute(
        """SELECT c.id, c.priority, c.opened_at, c.policy_version,
                  e.at, e.actor, e.kind, e.field, e.from_value, e.to_value, e.reason
           FROM cases c JOIN events e ON e.case_id = c.id
           WHERE c.id IN (SELECT case_id FROM events WHERE kind IN ('pending', 'reopened'))
           ORDER BY c.id, e.id"""
    )
    updates: list[tuple[int | None, int]] = []
    current: tuple | None = None
    events: list = []

    def settle() -> None:
        case_id, priority, opened_at, version = current  # type: ignore[misc]  # set before a call
        policy = parsed.get(version)
        if policy is None or priority not in policy.priorities:
            return
        try:
            clocks = sla.trace_clocks(policy, priority, opened_at, events)
        except Exception:  # a history the domain cannot replay: doctor reports it
            return
        updates.append((clocks["resolution"].decided_at, case_id))

    for row in rows:
        if current is None or row[0] != current[0]:
            if current is not None:
                settle()
            current, events = row[:4], []
        events.append(Event(*row[4:]))
    if current is not None:
        settle()
    conn.executemany("UPDATE cases SET resolution_decided_at = ? WHERE id = ?", updates)


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
