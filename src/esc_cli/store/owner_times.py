"""The report's time to owner (issue 21): for each escalation in the window, how long
until the case had an owner at its new tier, and how many escalations still had none
at the window's end; grouped like the rest of the report.

An escalation's delay is 0 when the case has an owner once its write is done (kept,
named with --owner, or given by routing), else the time to the first later `assigned`
to someone. An escalation followed by another tier move, a resolution or a close before
any owner came is neither timed nor unowned: the case left that tier's queue.

How each wait ended is recorded as it happens (domain/owner_waits.py): one row per
escalation in the table owner_times, rewritten by every write that can end or start a
wait (save), made for an import's cases as they go in (insert_new), backfilled by
migration 0018 (BACKFILL: the per-escalation search the report used to run). A window
is then one range of the covering index owner_times_at, not two searches of the
event log per escalation (half the report's server time at a million cases).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from esc_cli.domain.report import Window

# MATERIALIZED: each escalation's delay is worked out once, not once per aggregate
# that reads it (SQLite would otherwise inline the CTE three times). The delay is
# owner_waits.delay in SQL. Each row carries its case's priority (kept with the case's,
# migration 0019), so a report by priority alone reads nothing but the index; another
# --by looks each case up for its value.
_DELAYS = """WITH x AS MATERIALIZED (
    SELECT w.case_id AS cid, w.priority,
        CASE WHEN w.owned = 1 AND w.settled_at = w.escalated_at THEN 0
             WHEN w.settled_at < :end THEN
                CASE WHEN w.owned = 1 THEN w.settled_at - w.escalated_at ELSE -1 END
        END AS delay
    FROM owner_times w WHERE w.escalated_at >= :s AND w.escalated_at < :u
)
SELECT x.priority, {group} AS val, count(*) FILTER (WHERE x.delay IS NULL),
    group_concat(x.delay) FILTER (WHERE x.delay >= 0)
{join} GROUP BY x.priority, val"""
_JOIN = {
    None: "FROM x",
    "sqlite": "FROM x JOIN cases c ON c.id = x.cid",
    # one lookup by key per escalation (OFFSET 0 keeps the subquery from being merged
    # back into a join): as a join, PostgreSQL merged a few thousand escalations with a
    # walk of every case's primary key (500 -> 300 ms at a million cases)
    "postgres": "FROM x CROSS JOIN LATERAL (SELECT * FROM cases c WHERE c.id = x.cid OFFSET 0) c",
}

# Every escalation's row (case_id, escalation, escalated_at, settled_at, owned) from the
# event log: the owner at the escalation's instant (the latest `assigned` at or before
# it; with none, the owner the case was opened with: the first `assigned` event's
# `from_value`, or with no `assigned` event at all its owner now, domain/owner_waits.
# opening_owner), else the first later event that ends the wait. Migrations 0018 and
# 0028 and the tests use it; doctor compares rows with the domain's replay instead (it
# has each case's events in hand).
SEARCHED = """SELECT x.case_id, ROW_NUMBER() OVER (PARTITION BY x.case_id ORDER BY x.id), x.at,
    CASE WHEN x.owner IS NOT NULL THEN x.at ELSE n.at END,
    CASE WHEN x.owner IS NOT NULL OR n.kind = 'assigned' THEN 1 ELSE 0 END
FROM (
    SELECT e.case_id, e.id, e.at,
        CASE WHEN EXISTS (SELECT 1 FROM events a WHERE a.case_id = e.case_id
                          AND a.kind = 'assigned' AND a.at <= e.at)
        THEN (SELECT a.to_value FROM events a WHERE a.case_id = e.case_id
              AND a.kind = 'assigned' AND a.at <= e.at ORDER BY a.id DESC LIMIT 1)
        WHEN EXISTS (SELECT 1 FROM events a WHERE a.case_id = e.case_id AND a.kind = 'assigned')
        THEN (SELECT a.from_value FROM events a WHERE a.case_id = e.case_id
              AND a.kind = 'assigned' ORDER BY a.id LIMIT 1)
        ELSE (SELECT c.owner FROM cases c WHERE c.id = e.case_id) END AS owner,
        (SELECT n.id FROM events n WHERE n.case_id = e.case_id AND n.id > e.id
         AND n.at > e.at AND ((n.kind = 'assigned' AND n.to_value IS NOT NULL)
              OR n.kind IN ('escalated', 'deescalated', 'resolved', 'closed'))
         ORDER BY n.id LIMIT 1) AS next_id
    FROM events e WHERE e.kind = 'escalated'
) x LEFT JOIN events n ON n.id = x.next_id"""
BACKFILL = (
    "INSERT INTO owner_times (case_id, escalation, escalated_at, settled_at, owned) " + SEARCHED
)


def create(db) -> None:
    """Migration 0018: the table, its index, and every escalation's row from the event
    log (plain portable SQL: PostgreSQL runs it as written, types through _PgDDL). It
    may run again over its own work (tests take a store back to before it)."""
    db.execute("""CREATE TABLE IF NOT EXISTS owner_times (
        case_id INTEGER NOT NULL,
        escalation INTEGER NOT NULL,
        escalated_at INTEGER NOT NULL,
        settled_at INTEGER,
        owned INTEGER NOT NULL,
        PRIMARY KEY (case_id, escalation)
    )""")
    # a window is one range of it, every column the report reads in the entry
    db.execute(
        "CREATE INDEX IF NOT EXISTS owner_times_at "
        "ON owner_times(escalated_at, case_id, settled_at, owned)"
    )
    db.execute("DELETE FROM owner_times")
    db.execute(BACKFILL)


# each row's priority is its case's (migration 0019)
_PRIORITIES = (
    "UPDATE owner_times SET priority = "
    "(SELECT c.priority FROM cases c WHERE c.id = owner_times.case_id)"
)


def add_priority(db) -> None:
    """Migration 0019: each row carries its case's priority, in the index after the
    instant, so the report by priority (its default) looks no case up: at a million
    cases those lookups were most of the query (26,000 a window). Portable SQL but for
    the column's guard; it may run again over its own work, after 0018 ran again."""
    if getattr(db, "dialect", "sqlite") == "postgres":
        db.execute("ALTER TABLE owner_times ADD COLUMN IF NOT EXISTS priority TEXT")
    elif "priority" not in {row[1] for row in db.execute("PRAGMA table_info(owner_times)")}:
        db.execute("ALTER TABLE owner_times ADD COLUMN priority TEXT")
    db.execute(_PRIORITIES)
    db.execute("DROP INDEX IF EXISTS owner_times_at")
    db.execute(
        "CREATE INDEX owner_times_at "
        "ON owner_times(escalated_at, priority, case_id, settled_at, owned)"
    )


def fill(conn) -> None:
    """Every row again from the event log and the cases (benchmarks/generate.py, and
    migration 0028: the owner a case was opened with counts from schema 28 on)."""
    conn.execute("DELETE FROM owner_times")
    conn.execute(BACKFILL)
    conn.execute(_PRIORITIES)


_INSERT = (
    "INSERT INTO owner_times (case_id, escalation, escalated_at, settled_at, owned, priority) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def save(conn, case_id: int, priority: str, owner: str | None, events, new_events) -> None:
    """After a write of `new_events` to a case whose whole history is now `events` and
    whose priority and owner are now `priority` and `owner`: its rows again, when the write could move them
    (an escalation, an assignment, a de-escalation, a resolution, a close, or a new
    priority, on a case escalated at some point). The old rows go and the new go in
    without waiting for an answer (PostgreSQL: sent with the write's next statement),
    so the write costs no round trip more."""
    from esc_cli.domain.owner_waits import MOVES, waits

    if not any(
        e.kind in MOVES or (e.kind == "changed" and e.field == "priority") for e in new_events
    ):
        return
    rows = waits(events, owner)
    if not rows:
        return  # never escalated: it has no rows
    send = getattr(conn, "later", conn.execute)
    send("DELETE FROM owner_times WHERE case_id = ?", (case_id,))
    for number, (at, settled, owned) in enumerate(rows, start=1):
        send(_INSERT, (case_id, number, at, settled, owned, priority))


def rows_for(event_rows, cases: dict) -> list[tuple]:
    """owner_times rows for new cases from their event rows (case_id, at, actor, kind,
    field, from_value, to_value, ...), each case's in written order, and their
    {case id: (priority, owner)}: an import's. Only the escalated cases' histories are
    gathered (a fifth of a typical store's)."""
    from esc_cli.domain.owner_waits import waits_of

    escalated = {row[0] for row in event_rows if row[3] == "escalated"}
    if not escalated:
        return []
    histories: dict[int, list] = {}
    opened_with: dict[int, str | None] = {}
    for row in event_rows:
        case_id = row[0]
        if case_id in escalated:
            histories.setdefault(case_id, []).append((row[1], row[3], row[6]))
            if row[3] == "assigned" and case_id not in opened_with:
                opened_with[case_id] = row[5]  # owner_waits.opening_owner
    return [
        (case_id, number, at, settled, owned, cases[case_id][0])
        for case_id, history in histories.items()
        for number, (at, settled, owned) in enumerate(
            waits_of(history, opened_with.get(case_id, cases[case_id][1])), start=1
        )
    ]


def insert_new(conn, event_rows, cases: dict) -> None:
    """New cases' rows (an import's batch: its events as event rows, its cases'
    (priority, owner) by id)."""
    rows = rows_for(event_rows, cases)
    if rows:
        conn.executemany(_INSERT, rows)


def stored(conn) -> dict[int, list[tuple]]:
    """Every case's rows as stored: {case id: [(escalated_at, settled_at, owned), ...]}
    in escalation order (doctor)."""
    found: dict[int, list[tuple]] = {}
    for case_id, at, settled, owned in conn.execute(
        "SELECT case_id, escalated_at, settled_at, owned FROM owner_times "
        "ORDER BY case_id, escalation"
    ):
        found.setdefault(case_id, []).append((at, settled, owned))
    return found


def replace(conn, case_id: int, priority: str | None, owner: str | None, events) -> None:
    """Rewrite a case's rows from its history and priority (doctor --repair)."""
    from esc_cli.domain.owner_waits import waits

    conn.execute("DELETE FROM owner_times WHERE case_id = ?", (case_id,))
    conn.executemany(
        _INSERT,
        [
            (case_id, n, at, settled, owned, priority)
            for n, (at, settled, owned) in enumerate(waits(events, owner), 1)
        ],
    )


def priority_mismatches(conn) -> list[tuple]:
    """(case id, stored priority, the case's) for rows whose priority is not their
    case's (a case that does not exist has None)."""
    return [
        tuple(row)
        for row in conn.execute(
            "SELECT DISTINCT w.case_id, w.priority, c.priority FROM owner_times w "
            "LEFT JOIN cases c ON c.id = w.case_id WHERE c.priority IS NULL "
            "OR w.priority IS NULL OR c.priority <> w.priority ORDER BY w.case_id"
        )
    ]


def owner_times(conn, window: Window, now: int, group: str, dimension: str | None) -> dict:
    """{"all", "priority": {p}, "value": {v}} of {unowned, owner_p50, owner_p90}; the
    window's end is `until`, or just after now when that is earlier."""
    from esc_cli.store.report_ranks import _ranks, _run

    end = window.until if window.until <= now else now + 1
    result: dict = {"all": {"unowned": 0}, "priority": {}, "value": {}}
    runs: dict = {}
    for priority, value, unowned, delays in conn.execute(
        _DELAYS.format(
            group="x.priority" if dimension == "priority" else group,
            join=_JOIN[
                None if dimension in (None, "priority") else getattr(conn, "dialect", "sqlite")
            ],
        ),
        {"s": window.since, "u": window.until, "end": end},
    ):
        targets = [result["all"], result["priority"].setdefault(priority, {})]
        if dimension is not None:
            targets.append(result["value"].setdefault(value, {}))
        for target in targets:
            target["unowned"] = target.get("unowned", 0) + (unowned or 0)
        if delays is not None:
            runs.setdefault((priority, value), []).append(_run(delays))
    for (kind, key), ranks in _ranks({"owner": runs}, dimension is not None).items():
        target = result["all"] if kind == "all" else result[kind].setdefault(key, {})
        target.update(ranks)
    return result
