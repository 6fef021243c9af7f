"""Set-based reads and writes for import and export: batches in, batches out.

Import writes thousands of cases per `executemany` (their rows made by bulk_rows.py);
export walks the cases by id in pages (keyset pagination, never OFFSET) and fetches
each page's events in one query.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial

from esc_cli.domain.model import Case, Event, Owner
from esc_cli.store import owner_times
from esc_cli.store.bulk_rows import counted_case_rows
from esc_cli.store.cases import _SELECT_CASE, CASE_COLUMNS, _row_values, case_from_row

_PRIORITY = CASE_COLUMNS.index("priority")
_OWNER = CASE_COLUMNS.index("owner")

_INSERT_CASE = (
    f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' for _ in CASE_COLUMNS)})"
)
_INSERT_COUNTED_CASE = (
    f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}, event_count) "
    f"VALUES ({', '.join('?' for _ in CASE_COLUMNS)}, ?)"
)
_INSERT_EVENT = (
    "INSERT INTO events (case_id, at, actor, kind, field, from_value, to_value, reason, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


# -- facts the import checks against --------------------------------------------------


def case_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM cases").fetchone()[0]


def unresolved_count(conn: sqlite3.Connection) -> int:
    return conn.execute(
        "SELECT count(*) FROM cases WHERE state IN ('new', 'open', 'pending')"
    ).fetchone()[0]


def max_case_id(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM cases").fetchone()[0]


def existing_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> set[int]:
    """Which of `ids` are taken, in one query however many there are."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return {
            row[0] for row in conn.execute("SELECT id FROM cases WHERE id = ANY(?)", (list(ids),))
        }
    wanted = json.dumps(list(ids))
    return {
        row[0]
        for row in conn.execute(
            "SELECT id FROM cases WHERE id IN (SELECT value FROM json_each(?))", (wanted,)
        )
    }


# -- writes -------------------------------------------------------------------------------

DEFERRED_CACHE_KIB = 16 * 1024


def prepare_bulk_write(conn: sqlite3.Connection) -> None:
    """A bigger page cache for the import's one long transaction, so the index pages it
    keeps coming back to stay in memory. 64 MiB: the inserts go in events first with
    their counts and without row-by-row triggers (insert_cases), so few pages are
    rewritten, and 256 MiB bought no speed while taking a million-row import's
    memory past its 150 MiB budget. An upper bound, used only as needed. (PostgreSQL:
    the server's own buffers; nothing to set.)"""
    if getattr(conn, "dialect", "sqlite") == "sqlite":
        conn.execute("PRAGMA cache_size = -65536")


def _import_triggers(conn: sqlite3.Connection) -> dict[str, str]:
    """{name: sql} of the triggers an import drops while its rows go in."""
    names = (*_EVENT_TRIGGERS, _CASE_INDEX_TRIGGER)
    return dict(
        conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('cases', 'events') "
            f"AND name IN ({', '.join('?' for _ in names)})",
            names,
        )
    )


def has_event_count(conn: sqlite3.Connection) -> bool:
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return True  # a PostgreSQL store is made at the newest schema
    return any(row[1] == "event_count" for row in conn.execute("PRAGMA table_info(cases)"))


# Triggers that do nothing, or only per-row what one statement can do per batch, while
# new cases go in after their events (see insert_cases).
_EVENT_TRIGGERS = ("events_count_ai", "cases_fts_events_ai")
_CASE_INDEX_TRIGGER = "cases_fts_ai"
_TRIGGER_BODY = re.compile(
    r"\bBEGIN\s+INSERT\s+INTO\s+(\w+)\s*(\([^()]*\))\s*VALUES\s*\((.*)\)\s*;\s*END\s*$",
    re.DOTALL | re.IGNORECASE,
)


def _index_statement(trigger_sql: str, every_case: bool = False) -> str | None:
    """The search-index trigger on new cases, as one statement for many cases: its own
    INSERT ... VALUES (new.…) run as INSERT ... SELECT … FROM cases AS new, so the
    documents indexed are the trigger's own whatever migration wrote it. None when the
    trigger is not that single INSERT (then it is left to fire row by row)."""
    match = _TRIGGER_BODY.search(trigger_sql)
    if match is None:
        return None
    table, columns, values = match.groups()
    which = "" if every_case else "WHERE new.id IN (SELECT value FROM json_each(?)) "
    return f"INSERT INTO {table} {columns} SELECT {values} FROM cases AS new {which}ORDER BY new.id"


@contextmanager
def deferred_indexes(
    conn: sqlite3.Connection, wanted: bool, one_process: bool = False
) -> Iterator[bool]:
    """For an import into a store without cases: drop the secondary indexes of cases and
    events and the triggers `insert_cases` drops per batch, let every batch go in
    without them (`insert_cases(..., deferred=True)`), then build each index once from
    the finished table and the search index of every case in one statement, and make
    the triggers again — all from their own SQL in sqlite_master, so the schema ends as
    it began. Keeping a dozen indexes up to date row by row costs more than building
    them once; with cases already in the store, rebuilding would cost in proportion to
    them instead, so only an empty store's import defers.

    All inside the import's transaction: an error, a crash or Ctrl-C rolls the drops
    back with the rows. Yields whether the indexes are deferred.

    On PostgreSQL an import made in `one_process` (no import workers: a JSON file, a
    policy with rules, a small CSV) keeps its indexes: its batches go out from a second
    thread (case_writer), so the server keeps them up to date on a core esc is not
    using, where building them after the last batch is time added to the import
    (100,000 cases from an export: 23.6-24.3 s deferred, 22.5-23.0 s kept, for 0.6-0.8 s
    more of the server's CPU). An import with workers keeps every core busy: there the
    indexes wait (no faster kept, and more CPU)."""
    if wanted and one_process and getattr(conn, "dialect", "sqlite") == "postgres":
        yield False
        return
    if wanted and getattr(conn, "dialect", "sqlite") == "postgres":
        # its triggers are skipped per batch (pg_bulk.insert_counted); its indexes wait
        from esc_cli.store import pg_bulk

        with pg_bulk.deferred_indexes(conn) as deferring:
            yield deferring
        return
    if not wanted or not has_event_count(conn) or getattr(conn, "dialect", "sqlite") != "sqlite":
        yield False
        return
    triggers = _import_triggers(conn)
    index = None
    if _CASE_INDEX_TRIGGER in triggers:
        index = _index_statement(triggers[_CASE_INDEX_TRIGGER], every_case=True)
        if index is None:  # a trigger of another shape: leave it all to insert_cases
            yield False
            return
    indexes = list(
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('cases', 'events') ORDER BY rowid"
        )
    )
    for name in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    # Rows without indexes go in at the end of two b-trees, which needs next to no page
    # cache; building an index sorts in as much memory as the cache may hold, on top of
    # the cache itself, and 64 MiB of each took a million-row import past its budget.
    conn.execute(f"PRAGMA cache_size = -{DEFERRED_CACHE_KIB}")
    yield True
    # not reached after an error: the rollback brings the indexes and triggers back
    for _, sql in indexes:
        conn.execute(sql)
    if index is not None:
        conn.execute(index)
    for sql in triggers.values():
        conn.execute(sql)


def insert_cases(
    conn: sqlite3.Connection, cases: list[Case], events: list[tuple], deferred: bool = False
) -> None:
    """New cases (with their ids) and their event rows from `bulk_rows.event_rows`.

    The events go in first and each case row carries its event count: the trigger that
    keeps `cases.event_count` would otherwise rewrite the case row once per event,
    which costs more than all the other writes of an import together.

    Firing the remaining triggers row by row costs more than the inserts themselves.
    While the events go in their cases do not exist yet (the ids are new), so the event
    triggers (count, search index) find no case and do nothing; the case trigger indexes
    each new case with the notes of its events, which one statement does for the whole
    batch afterwards. So those triggers are dropped for the batch and made again from
    their own SQL, inside the import's transaction: a failure rolls all of it back."""
    if not has_event_count(conn):
        conn.executemany(_INSERT_CASE, [_row_values(case) for case in cases])
        conn.executemany(_INSERT_EVENT, events)
        owner_times.insert_new(
            conn, events, {case.id: (case.priority, case.owner) for case in cases}
        )
    else:
        insert_counted(conn, counted_case_rows(cases, events), events, deferred)
    # histories with reopens: their earlier resolution cycles (a CSV row has none)
    from esc_cli.store import cycles

    cycles.insert_new(conn, cases)


def insert_counted(
    conn: sqlite3.Connection, case_rows: list[list], events: list[tuple], deferred: bool = False
) -> None:
    """`insert_cases` for rows made already by `bulk_rows.counted_case_rows` and
    `event_rows`, in a store whose cases count their events."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        from esc_cli.store import pg_bulk

        # its owner_times rows travel in the batch's COPYs (pg_bulk.encode)
        pg_bulk.insert_counted(conn, case_rows, events)
        return
    # how each escalation's wait for an owner ended, for esc report (store/owner_times.py)
    owner_times.insert_new(
        conn, events, {row[0]: (row[_PRIORITY], row[_OWNER]) for row in case_rows}
    )
    if deferred:
        # deferred_indexes has the triggers and indexes out of the way
        conn.executemany(_INSERT_EVENT, events)
        conn.executemany(_INSERT_COUNTED_CASE, case_rows)
        return
    triggers = _import_triggers(conn)
    index = None
    if _CASE_INDEX_TRIGGER in triggers:
        index = _index_statement(triggers[_CASE_INDEX_TRIGGER])
        if index is None:
            del triggers[_CASE_INDEX_TRIGGER]
    for name in triggers:
        conn.execute(f'DROP TRIGGER "{name}"')
    try:
        conn.executemany(_INSERT_EVENT, events)
        conn.executemany(_INSERT_COUNTED_CASE, case_rows)
        if index is not None:
            conn.execute(index, (json.dumps([row[0] for row in case_rows]),))
    finally:
        if conn.in_transaction:
            for sql in triggers.values():
                conn.execute(sql)


@contextmanager
def batch_writer(conn: sqlite3.Connection, deferred: bool = False) -> Iterator:
    """A function that writes batches from `bulk_rows.encode_batch`, in order, inside the
    import's transaction. On SQLite it writes each batch there and then; on PostgreSQL a
    second thread sends them while the caller prepares the next (pg_bulk.Sender), and
    leaving the `with` waits until all are written (or, on an error, stops the sending
    first). The caller must not use the connection itself until then."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        from esc_cli.store import pg_bulk

        with pg_bulk.Sender(conn) as sender:
            yield sender.send
        return

    def write(batch) -> None:
        insert_counted(conn, batch[0], batch[1], deferred)

    yield write


@contextmanager
def case_writer(
    conn: sqlite3.Connection, deferred: bool, channels: list[str], created_at: int
) -> Iterator:
    """A function that writes a batch of new cases, their event rows and the
    notifications their rules raised (`insert_cases` and `add_notifications`), in order,
    inside the import's transaction: the single-process import's writer. On PostgreSQL
    the batch is encoded here and its statements sent from a second thread
    (pg_bulk.Sender) while the caller builds the next one: a JSON import (`esc export |
    esc import`, the move to a shared store) waited on the server a fifth of its time.
    The caller must not use the connection itself until the `with` is left."""
    if getattr(conn, "dialect", "sqlite") == "postgres" and has_event_count(conn):
        from esc_cli.store import cycles, pg_bulk

        with pg_bulk.Sender(conn) as sender:

            def send(cases: list[Case], events: list[tuple], payloads: list[dict]) -> None:
                if cases:
                    sender.send(pg_bulk.encode(counted_case_rows(cases, events), events))
                # the lists are the caller's to reuse: the thread gets copies
                if any(case.resolution_cycles for case in cases):
                    sender.call(partial(cycles.insert_new, conn, list(cases)))
                if payloads:
                    sender.call(
                        partial(add_notifications, conn, list(payloads), channels, created_at)
                    )

            yield send
        return

    def write(cases: list[Case], events: list[tuple], payloads: list[dict]) -> None:
        insert_cases(conn, cases, events, deferred)
        add_notifications(conn, payloads, channels, created_at)

    yield write


def upsert_owners(conn: sqlite3.Connection, owners: list[Owner]) -> None:
    cache = getattr(conn, "owners", None)  # what this transaction read of them (people)
    if cache is not None:
        cache.clear()
    conn.executemany(
        "INSERT INTO owners (handle, name, email, tier, teams, capacity, active) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(handle) DO UPDATE SET name = excluded.name, email = excluded.email, "
        "tier = excluded.tier, teams = excluded.teams, capacity = excluded.capacity, "
        "active = excluded.active",
        [
            (
                o.handle,
                o.name,
                o.email,
                o.tier,
                json.dumps(list(o.teams), ensure_ascii=False),
                o.capacity,
                int(o.active),
            )
            for o in owners
        ],
    )


def replace_policy_versions(
    conn: sqlite3.Connection, versions: list[tuple[int, int, str, str]]
) -> None:
    """Restore an export's policy history with its own version ids. Only for a store with
    no cases: nothing then refers to the versions being replaced."""
    from esc_cli.store.policies import encode_document

    conn.execute("DELETE FROM policy_versions")
    conn.executemany(
        "INSERT INTO policy_versions (id, created_at, actor, toml, document) VALUES (?, ?, ?, ?, ?)",
        [(*version, encode_document(version[3])) for version in versions],
    )
    if getattr(conn, "dialect", "sqlite") == "postgres":
        # ids given explicitly do not move the identity's sequence: the next version
        # must be numbered after them, as SQLite numbers it
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('policy_versions', 'id'), "
            "coalesce((SELECT max(id) FROM policy_versions), 0) + 1, false)"
        )


def add_notifications(
    conn: sqlite3.Connection, payloads: list[dict], channels: list[str], created_at: int
) -> None:
    if not payloads:
        return
    conn.executemany(
        "INSERT OR IGNORE INTO notifications (id, case_id, kind, recipient, created_at, payload) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                p["id"],
                p["case"],
                p["kind"],
                p["recipient_label"],
                created_at,
                json.dumps(
                    {k: v for k, v in p.items() if k != "recipient_label"}, ensure_ascii=False
                ),
            )
            for p in payloads
        ],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO deliveries (notification_id, channel, state, attempts, next_attempt_at) "
        "VALUES (?, ?, 'pending', 0, ?)",
        [(p["id"], channel, created_at) for p in payloads for channel in channels],
    )


# -- export ---------------------------------------------------------------------------------


def iter_case_pages(
    conn: sqlite3.Connection, size: int = 2000
) -> Iterator[list[tuple[Case, list[Event]]]]:
    """Every case with its events, in id order, `size` cases per page."""
    after: int | None = 0
    while True:
        cases = [
            case_from_row(row)
            for row in conn.execute(
                f"{_SELECT_CASE} WHERE id > ? ORDER BY id LIMIT ?", (after, size)
            )
        ]
        if not cases:
            return
        first, last = cases[0].id, cases[-1].id
        by_case: dict[int | None, list[Event]] = {case.id: [] for case in cases}
        for row in conn.execute(
            "SELECT case_id, at, actor, kind, field, from_value, to_value, reason FROM events "
            "WHERE case_id BETWEEN ? AND ? ORDER BY case_id, id",
            (first, last),
        ):
            bucket = by_case.get(row[0])
            if bucket is not None:  # events of a deleted case (damage) are doctor's business
                bucket.append(Event(*row[1:]))
        yield [(case, by_case[case.id]) for case in cases]
        after = last
