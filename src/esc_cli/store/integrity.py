"""The reads `esc doctor` makes: SQLite's own checks, the store's identity, and every
case and event, streamed in id order so memory stays flat at a million cases."""

from __future__ import annotations

import re
import sqlite3
from itertools import groupby
from operator import itemgetter
from typing import Iterator

from esc_cli.domain.model import Event
from esc_cli.store.cases import _SELECT_CASE, case_from_row

UNRESOLVED_SQL = "state IN ('new', 'open', 'pending')"


def integrity_messages(conn: sqlite3.Connection, limit: int = 20) -> list[str]:
    """SQLite's `PRAGMA integrity_check`: an empty list when the file is sound."""
    messages = [row[0] for row in conn.execute(f"PRAGMA integrity_check({int(limit)})")]
    return [] if messages == ["ok"] else messages


def identity(conn: sqlite3.Connection) -> tuple[int, int]:
    """(application_id, user_version)."""
    application_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return application_id, version


def has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0


def applied_migrations(conn: sqlite3.Connection, migration_set: str) -> list[str]:
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return [
            row[0]
            for row in conn.execute(
                "SELECT name FROM esc_migrations WHERE migration_set = ? ORDER BY name",
                (migration_set,),
            )
        ]
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlite_migrations'"
    ).fetchone()
    if not exists:
        return []
    return [
        row[0]
        for row in conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
            (migration_set,),
        )
    ]


def counts(conn: sqlite3.Connection) -> tuple[int, int, int]:
    """(cases, unresolved cases, events): the totals progress is measured against."""
    cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    unresolved = conn.execute(f"SELECT count(*) FROM cases WHERE {UNRESOLVED_SQL}").fetchone()[0]
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return cases, unresolved, events


def cases_on_versions(conn: sqlite3.Connection, version_ids: list[int]) -> list[tuple[int, int]]:
    """(case id, policy version) of cases recorded on one of `version_ids`, or on a
    version the store does not hold."""
    marks = ", ".join("?" for _ in version_ids) or "NULL"
    return conn.execute(
        f"SELECT id, policy_version FROM cases WHERE policy_version IN ({marks}) "
        "OR policy_version NOT IN (SELECT id FROM policy_versions) ORDER BY id",
        list(version_ids),
    ).fetchall()


# A resolved or closed case that never paused before its resolution (its time to resolve
# is its whole age) and was never reopened: its resolution clock ran once, from the
# opening, and was decided at its due time if it ran past it, else at its resolution.
# Doctor checks those in SQL (decided_mismatches); every other resolved case is replayed.
_RAN_ONCE = (
    "reopened = 0 AND resolve_secs IS NOT NULL AND resolution_at IS NOT NULL "
    "AND resolve_secs = resolution_at - opened_at"
)


def case_facts(conn: sqlite3.Connection) -> Iterator[tuple]:
    """For every case in id order: (id, events ever written to it, and for a resolved or
    closed case the figures its report summary is computed from — opened_at, tier,
    escalations, reopened — then the stored SUMMARY_FIELDS, else None; and for a resolved
    or closed case whose resolution clock paused or was reopened, what replaying that
    clock needs — (priority, policy_version, opened_at, resolution_decided_at) — else
    None; and its owner now, which its escalations' waits start from when no event ever
    changed it: owner_waits.opening_owner)."""
    from esc_cli.domain.summary import SUMMARY_FIELDS

    width = 7 + len(SUMMARY_FIELDS)
    for row in conn.execute(
        f"SELECT id, event_count, {UNRESOLVED_SQL}, opened_at, tier, escalations, reopened, "
        f"{', '.join(SUMMARY_FIELDS)}, CASE WHEN {_RAN_ONCE} THEN 1 ELSE 0 END, priority, "
        "policy_version, resolution_decided_at, owner FROM cases ORDER BY id"
    ):
        resolved = not row[2]
        replay = resolved and not row[width]
        yield (
            row[0],
            row[1],
            row[3:width] if resolved else None,
            (row[width + 1], row[width + 2], row[3], row[width + 3]) if replay else None,
            row[width + 4],
        )


def decided_mismatches(conn: sqlite3.Connection) -> list[tuple[int, int | None, int | None]]:
    """(id, stored, expected resolution_decided_at) of the resolved or closed cases whose
    clock ran once (_RAN_ONCE) and whose stored instant is not the one its own due time
    and resolution give: one pass over the cases in SQL, no history read."""
    expected = "CASE WHEN resolved_at > resolve_by THEN resolve_by ELSE resolved_at END"
    return conn.execute(
        f"SELECT id, resolution_decided_at, {expected} FROM cases "
        f"WHERE NOT {UNRESOLVED_SQL} AND {_RAN_ONCE} "
        f"AND coalesce(resolution_decided_at, -1) <> coalesce({expected}, -1) ORDER BY id"
    ).fetchall()


def stored_cycles(conn: sqlite3.Connection) -> dict[int, tuple]:
    """Every case's earlier resolution cycles as stored: {case id: ((decided_at, met), ...)}
    (only reopened cases have them: a small table)."""
    found: dict[int, tuple] = {}
    for case_id, rows in groupby(
        conn.execute(
            "SELECT case_id, decided_at, met FROM resolution_cycles ORDER BY case_id, cycle"
        ),
        key=itemgetter(0),
    ):
        found[case_id] = tuple((decided, bool(met)) for _, decided, met in rows)
    return found


def stray_cycles(conn: sqlite3.Connection) -> list[int]:
    """Case ids with resolution cycles but no reopen (or no case at all)."""
    return [
        row[0]
        for row in conn.execute(
            "SELECT DISTINCT case_id FROM resolution_cycles WHERE case_id NOT IN "
            "(SELECT id FROM cases WHERE reopened > 0) ORDER BY case_id"
        )
    ]


def event_chains(conn: sqlite3.Connection) -> Iterator[tuple[int, list[tuple[Event, bytes]]]]:
    """(case id, its events with their stored hashes) for every case that has events,
    in case id order, one case in memory at a time."""
    cursor = conn.execute(
        "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash "
        "FROM events ORDER BY case_id, id"
    )
    for case_id, rows in groupby(cursor, key=itemgetter(0)):
        yield (
            case_id,
            [(Event(*row[1:8]), row[8] if isinstance(row[8], bytes) else b"") for row in rows],
        )


def unresolved_cases(conn: sqlite3.Connection) -> Iterator:
    for row in conn.execute(f"{_SELECT_CASE} WHERE {UNRESOLVED_SQL} ORDER BY id"):
        yield case_from_row(row)


def undelivered(conn: sqlite3.Connection) -> tuple[int, int]:
    """(deliveries not yet delivered, notifications they belong to)."""
    row = conn.execute(
        "SELECT count(*), count(DISTINCT notification_id) FROM deliveries "
        "WHERE state != 'delivered'"
    ).fetchone()
    return row[0], row[1]


# -- indexes -------------------------------------------------------------------------

# A migration script's statements may open with comment lines (0001's partial indexes
# do): missed, cases_unresolved_due went unchecked on PostgreSQL.
_LEADING_COMMENTS = r"^(?:\s*--[^\n]*\n)*"
_CREATE_INDEX = re.compile(
    _LEADING_COMMENTS + r"\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?(\w+)",
    re.I,
)
_DROP_INDEX = re.compile(_LEADING_COMMENTS + r"\s*DROP\s+INDEX\s+(?:IF\s+EXISTS\s+)?(\w+)", re.I)


class _Recorder:
    """A stand-in PostgreSQL connection that runs nothing and keeps, per index, the
    statement the migrations last created it with (a later DROP forgets it)."""

    dialect = "postgres"

    def __init__(self):
        self.conn = self
        self.indexes: dict[str, str] = {}

    def execute(self, sql: str, params=()):
        created, dropped = _CREATE_INDEX.match(sql), _DROP_INDEX.match(sql)
        if created:
            self.indexes[created[1].lower()] = sql.strip()
        elif dropped:
            self.indexes.pop(dropped[1].lower(), None)
        return self

    def executemany(self, sql: str, rows) -> None:
        pass

    def fetchone(self):
        return None

    def fetchall(self) -> list:
        return []

    def __iter__(self):
        return iter(())


def expected_indexes(dialect: str) -> dict[str, str]:
    """{name: CREATE statement} of every index esc's migrations leave in a store. SQLite:
    read from a store made in memory by the migrations. PostgreSQL: the migrations' own
    statements, recorded without a server (a PostgreSQL store is always made at the
    newest schema in one go, so what they create is what it has)."""
    if dialect == "postgres":
        from esc_cli.store.pg_migrations import migrate_postgres

        recorder = _Recorder()
        migrate_postgres(recorder, 0)
        return recorder.indexes
    from esc_cli.store.migrations import migrate

    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn)
        return dict(
            conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        )
    finally:
        conn.close()


def present_indexes(conn) -> set[str]:
    """The names of the store's usable indexes (on PostgreSQL a build that never
    finished leaves an invalid one, which does not count)."""
    if getattr(conn, "dialect", "sqlite") == "postgres":
        return {
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND i.indisvalid AND i.indisready"
            )
        }
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
