"""The report's migrations (0003-0012): the indexes and per-case summary columns esc
report reads, the horizon that lets it skip cases outside a window, and the other
migrations of that stretch (policy documents, delivery leases). Numbered and applied
with the rest by store/migrations.py; never edited once shipped."""

from __future__ import annotations

import sqlite3

from esc_cli.store.sql_script import run_script as _run


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
    # esc report's time to resolve subtracted each case's pauses: the state moves that
    # start or end one, bar resolutions, as the report's query spelled them then (0008
    # replaced them with per-case summary columns and dropped this index).
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
# horizon is past any instant esc accepts (year 10000). The report's queries
# (report_queries, replay_queries) use this very text, so SQLite matches their ranges to
# the index cases_report.
HORIZON = (
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
        f"""CREATE INDEX cases_report ON cases(priority, {HORIZON}, opened_at, state, owner,
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
        f"""CREATE INDEX cases_report ON cases(priority, {HORIZON}, opened_at, state, owner,
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
