"""Reading and writing case rows and their hash-chained events."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import fields
from operator import attrgetter

from esc_cli.domain.model import Case, Event, case_with_defaults, event_hash
from esc_cli.domain.values import filled
from esc_cli.domain.record_values import MAX_ID
from esc_cli.errors import Conflict, NotFound

CASE_COLUMNS = tuple(f.name for f in fields(Case) if f.name not in ("extra", "resolution_cycles"))
_SELECT_CASE = f"SELECT {', '.join(CASE_COLUMNS)} FROM cases"


def case_from_row(row) -> Case:
    """A Case from a row in CASE_COLUMNS order, built without the frozen __init__
    (model.case_with_defaults; fields that are not columns get their defaults):
    `overdue` and `queue --json` build thousands."""
    values = dict(zip(CASE_COLUMNS, row))
    tags = row[_TAGS]
    values["tags"] = tuple(json.loads(tags)) if tags and tags != "[]" else ()
    values["update_missed"] = bool(row[_UPDATE_MISSED])
    return case_with_defaults(values)


_COLUMN_VALUES = attrgetter(*CASE_COLUMNS)
_TAGS = CASE_COLUMNS.index("tags")
_UPDATE_MISSED = CASE_COLUMNS.index("update_missed")
# json.dumps(..., ensure_ascii=False) builds this encoder anew on every call
_JSON = json.JSONEncoder(ensure_ascii=False)


def _row_values(case: Case) -> list:
    values = list(_COLUMN_VALUES(case))
    values[_TAGS] = _JSON.encode(list(values[_TAGS]))
    values[_UPDATE_MISSED] = int(values[_UPDATE_MISSED])
    return values


def get_case(conn: sqlite3.Connection, case_id: int) -> Case:
    # in a PostgreSQL write, FOR UPDATE: writers to one case queue here, before reading
    # its events, so the hash chain never forks (SQLite's write lock covers the file)
    row_lock = getattr(conn, "row_lock", "")
    row = conn.execute(f"{_SELECT_CASE} WHERE id = ?{row_lock}", (case_id,)).fetchone()
    if row is None:
        raise NotFound(f"no case #{case_id}")
    if row_lock:
        # this transaction holds the case now: nobody else can append to its history
        # until it ends, so the last hash read (get_events) stays the last (append_events)
        conn.last_hashes.setdefault(case_id, None)  # type: ignore[attr-defined]  # a PgConnection
    return case_from_row(row)


_EVENT_FIELDS = tuple(f.name for f in fields(Event))
_SELECT_EVENTS = f"SELECT {', '.join(_EVENT_FIELDS)}"


def _event(row) -> Event:
    """An Event from a row in _EVENT_FIELDS order, built without its __init__ (values.filled)."""
    return filled(Event, dict(zip(_EVENT_FIELDS, row)))


def get_events(conn: sqlite3.Connection, case_id: int) -> list[Event]:
    last = getattr(conn, "last_hashes", None)
    if last and case_id in last:
        # a case this PostgreSQL transaction holds (get_case): note its last hash
        rows = conn.execute(
            f"{_SELECT_EVENTS}, hash FROM events WHERE case_id = ? ORDER BY id", (case_id,)
        ).fetchall()
        if rows:
            last[case_id] = rows[-1][-1]
        return [_event(row) for row in rows]  # zip stops before the hash
    rows = conn.execute(
        f"{_SELECT_EVENTS} FROM events WHERE case_id = ? ORDER BY id",
        (case_id,),
    ).fetchall()
    return [_event(row) for row in rows]


def get_events_with_hashes(conn: sqlite3.Connection, case_id: int) -> list[tuple[Event, bytes]]:
    rows = conn.execute(
        f"{_SELECT_EVENTS}, hash FROM events WHERE case_id = ? ORDER BY id",
        (case_id,),
    ).fetchall()
    return [(_event(row), bytes(row[-1])) for row in rows]  # zip stops before the hash


def insert_case(conn: sqlite3.Connection, case: Case) -> int:
    columns = [c for c in CASE_COLUMNS if not (c == "id" and case.id is None)]
    values = _row_values(case)
    if case.id is None:
        values = values[1:]
    placeholders = ", ".join("?" for _ in columns)
    cursor = conn.execute(
        f"INSERT INTO cases ({', '.join(columns)}) VALUES ({placeholders})", values
    )
    return case.id if case.id is not None else cursor.lastrowid  # type: ignore[return-value]  # set by INSERT


def update_case(conn: sqlite3.Connection, case: Case, before: Case | None = None) -> None:
    """Write the case row; given the row as it was read (`before`), only the columns
    that differ: SQLite rewrites the entry of every index on a column the UPDATE
    names, changed or not, and the cases table has a dozen indexes."""
    values = _row_values(case)
    columns: tuple[str, ...] | list[str]
    if before is None:
        columns = CASE_COLUMNS[1:]
        changed = values[1:]
    else:
        old = _row_values(before)
        pairs = [
            (c, v)
            for c, v, o in zip(CASE_COLUMNS[1:], values[1:], old[1:])
            if v != o or type(v) is not type(o)
        ]
        if not pairs:
            _save_cycles(conn, case)
            return
        columns = [c for c, _ in pairs]
        changed = [v for _, v in pairs]
    assignments = ", ".join(f"{c} = ?" for c in columns)
    # PostgreSQL: sent with the next statement that needs an answer (or the COMMIT)
    getattr(conn, "later", conn.execute)(
        f"UPDATE cases SET {assignments} WHERE id = ?", [*changed, case.id]
    )
    _save_cycles(conn, case)


def _save_cycles(conn: sqlite3.Connection, case: Case) -> None:
    """A settled, reopened case's earlier resolution cycles into their table (only a
    reopen makes them; a case never reopened has none)."""
    if case.reopened and case.resolution_cycles is not None:
        from esc_cli.store import cycles

        cycles.save(conn, case.id, case.resolution_cycles)  # type: ignore[arg-type]  # a stored case


def append_events(conn: sqlite3.Connection, case_id: int, events: list[Event]) -> None:
    if not events:
        return
    # the case's last hash as this transaction read it under the case's lock (the
    # sweep's histories note it on PostgreSQL), else from the store
    last = getattr(conn, "last_hashes", None)
    known = last.get(case_id) if last is not None else None
    if known is not None:
        previous = bytes(known)
    else:
        row = conn.execute(
            "SELECT hash FROM events WHERE case_id = ? ORDER BY id DESC LIMIT 1", (case_id,)
        ).fetchone()
        previous = bytes(row[0]) if row else b""
    rows = []
    for event in events:
        previous = event_hash(previous, case_id, event)
        rows.append(
            (
                case_id,
                event.at,
                event.actor,
                event.kind,
                event.field,
                event.from_value,
                event.to_value,
                event.reason,
                previous,
            )
        )
    insert = (
        "INSERT INTO events (case_id, at, actor, kind, field, from_value, to_value, reason, "
        "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    )
    later = getattr(conn, "later", None)
    if later is None:
        conn.executemany(insert, rows)
        return
    # PostgreSQL: sent with the next statement that needs an answer (or the COMMIT)
    for row in rows:
        later(insert, row)
    if last is not None and case_id in last:
        last[case_id] = previous


def next_case_id(conn: sqlite3.Connection) -> int:
    if getattr(conn, "dialect", "sqlite") == "postgres":
        # numbered as on SQLite (the highest id + 1): writers opening cases at once take
        # turns on a transaction-scoped lock instead of colliding on the same id
        from esc_cli.store.pg_migrations import LOCK_KEY

        conn.execute("SELECT pg_advisory_xact_lock(?)", (LOCK_KEY + 1,))
    next_id = (conn.execute("SELECT max(id) FROM cases").fetchone()[0] or 0) + 1
    if next_id > MAX_ID:
        # an import may take the largest id it accepts (2^62); one past it made a store
        # whose own export no longer imports
        raise Conflict(f"no case id is left: case ids stop at {MAX_ID:,}")
    return next_id


def unresolved_ids(conn: sqlite3.Connection) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM cases WHERE state IN ('new', 'open', 'pending') ORDER BY id"
        )
    ]


def highest_live_tier(conn: sqlite3.Connection) -> int:
    """The highest tier a case that can still be worked (anything not closed) is at."""
    return conn.execute(
        "SELECT coalesce(max(tier), 1) FROM cases WHERE state != 'closed'"
    ).fetchone()[0]


def requeue_for_sweep(conn: sqlite3.Connection, now: int) -> None:
    """The next sweep at `now` looks at every case the ladder or close_after may move.
    Never later than it was: a case whose work was due before `now` (a warning at
    10:12, the policy loaded at 11:00) stays due then, for a sweep that catches up
    with --now (and doctor, which holds a sweep_at past its work to be damage)."""
    conn.execute(
        "UPDATE cases SET sweep_at = ? WHERE ((state IN ('new', 'open') AND due_at <= ?) "
        "OR state = 'resolved') AND (sweep_at IS NULL OR sweep_at > ?)",
        (now, now, now),
    )
