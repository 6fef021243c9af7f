"""An import's rows into PostgreSQL with COPY: the batch's events, then its cases, each
table in one `COPY ... FROM STDIN` round trip, inside the import's one transaction.

Row by row, an import into PostgreSQL waited on the server: one INSERT per row (500 a
round trip) and, per row, the triggers that keep the search index and the event counts
(a PL/pgSQL call each, and a search document per case built by a query planned before
the table had statistics). So the batch sets `esc.bulk` for its COPYs, which the
triggers skip (migration 0014), and does their work itself: each case row carries its
event count (as on SQLite), and one statement indexes the batch's cases for search
(esc_index_cases, the same documents esc_search_row makes). The setting is transaction
local and is cleared after the COPYs: nothing else in the transaction, and no other
session, ever skips a trigger.
"""

from __future__ import annotations

from contextlib import contextmanager

_EVENT_COLUMNS = (
    "case_id",
    "at",
    "actor",
    "kind",
    "field",
    "from_value",
    "to_value",
    "reason",
    "hash",
)
# COPY's text format: a backslash, a tab, a newline or a carriage return in a value is
# escaped; NULL is \N. (NUL cannot be stored at all: the import refuses it first.)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value) -> str:
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if kind is int:
        return str(value)
    if kind is bytes:
        return "\\\\x" + value.hex()  # bytea's hex input, its backslash escaped for COPY
    if kind is bool:
        return "1" if value else "0"
    return repr(value)  # float


def copy_text(rows) -> bytes:
    """Rows (tuples of str, int, float, bytes or None) in COPY's text format."""
    field = _field
    return "".join(["\t".join([field(v) for v in row]) + "\n" for row in rows]).encode("utf-8")


def copy_rows(conn, table: str, columns, rows) -> None:
    if rows:
        conn.copy_in(f"COPY {table} ({', '.join(columns)}) FROM STDIN", copy_text(rows))


def insert_counted(conn, case_columns, case_rows: list[list], events: list[tuple]) -> None:
    """bulk.insert_counted on PostgreSQL: new cases (each with its event count) and their
    events, the search index of the cases made once for the batch."""
    if not case_rows:
        return
    conn.execute("SET LOCAL esc.bulk = 'on'")
    copy_rows(conn, "events", _EVENT_COLUMNS, events)
    copy_rows(conn, "cases", case_columns, case_rows)
    # Not in a `finally`: a COPY that fails (a Ctrl-C in it too) leaves the transaction
    # aborted, and a statement sent then would fail in its turn and hide why (exit 5
    # instead of 130); the import's transaction rolls back whole, the setting with it.
    conn.execute("SET LOCAL esc.bulk = 'off'")
    conn.execute("SELECT esc_index_cases(?)", ([row[0] for row in case_rows],))


# The tables whose secondary indexes an import into an empty store builds once at the
# end; events_case stays, as esc_index_cases reads each batch's events through it.
_DEFERRED_TABLES = ("cases", "events", "case_search")
_KEPT_INDEX = "events_case"


@contextmanager
def deferred_indexes(conn):
    """bulk.deferred_indexes on PostgreSQL: for an import into a store without cases,
    drop the secondary indexes of cases, events and case_search (not the primary keys,
    not events_case), let every batch's COPY go in without them, then build each once
    from its own definition (pg_get_indexdef), inside the import's transaction: a
    failure rolls the drops back with the rows. Keeping a dozen indexes up to date row
    by row cost more than the COPYs themselves (100,000 cases: ~12 s of ~19 s of the
    server's time). DROP INDEX locks the table against every other session until the
    import commits, which only an empty store's import may do; and only the tables'
    owner may, so for anyone else the indexes stay. Yields whether they are deferred."""
    tables = ", ".join(f"'{t}'::regclass" for t in _DEFERRED_TABLES)
    owned = conn.execute(
        f"SELECT count(*) FROM pg_class WHERE oid IN ({tables}) AND pg_has_role(relowner, 'USAGE')"
    ).fetchone()[0]
    if owned != len(_DEFERRED_TABLES):
        yield False
        return
    indexes = conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        f"WHERE i.indrelid IN ({tables}) AND c.relname <> ? "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY c.relname",
        (_KEPT_INDEX,),
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    yield True
    # not reached after an error: the rollback brings the indexes back
    for _, definition in indexes:
        conn.execute(definition)
