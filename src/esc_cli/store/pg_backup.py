"""esc backup from a PostgreSQL store: the laptop copy for a flight or an outage."""

from __future__ import annotations

from contextlib import contextmanager

from esc_cli.store.migrations import APPLICATION_ID, migrate


@contextmanager
def _transaction(copy):
    """A write transaction on the copy (a new private file: no lock to wait for)."""
    copy.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if copy.in_transaction:
            copy.execute("ROLLBACK")
        raise
    copy.execute("COMMIT")


def copy_into(store, copy) -> None:
    """The whole store, as one REPEATABLE READ snapshot, into the empty SQLite
    database `copy` as an esc SQLite store (esc backup: the laptop copy). The
    SQLite schema is made by the same migrations; rows are streamed table by table.
    Events go in before their cases, as an import's do: the event triggers then
    find no case, and each case row carries its count and is indexed for search
    with its notes as it goes in."""
    with _transaction(copy):
        migrate(copy)
        copy.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    tables = (
        ("policy_versions", "id"),
        ("owners", "handle"),
        ("events", "id"),
        ("cases", "id"),
        ("notifications", "rowid"),
        ("deliveries", "notification_id, channel"),
        ("resolution_cycles", "case_id, cycle"),
        ("owner_times", "case_id, escalation"),
        ("routing_state", "scope"),
    )
    with store.read():
        with _transaction(copy):
            for table, order in tables:
                columns = [row[1] for row in copy.execute(f"PRAGMA table_info({table})")]
                if table == "notifications":
                    columns.append("rowid")  # the order they were written in
                names = ", ".join(columns)
                insert = f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' for _ in columns)})"
                # a server-side cursor: a million events never sit in memory at once
                store.conn.execute(
                    f"DECLARE esc_backup NO SCROLL CURSOR FOR "
                    f"SELECT {names} FROM {table} ORDER BY {order}"
                )
                while True:
                    chunk = store.conn.execute("FETCH 5000 FROM esc_backup").fetchall()
                    if not chunk:
                        break
                    copy.executemany(insert, chunk)
                store.conn.execute("CLOSE esc_backup")
