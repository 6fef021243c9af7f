"""Routing's memory: whom routing chose last in each scope (`tier:2`, `team:billing`),
for round-robin. Plain SQL that PostgreSQL runs as written."""

from __future__ import annotations


def claim(conn, scope: str, now: int) -> str | None:
    """The handle routing chose last in `scope` (None the first time). The upsert
    writes the scope's row before it is read: SQLite's writers already hold the store's
    write lock; on PostgreSQL it locks the row until commit, so two transactions
    routing in one scope take turns and round-robin keeps its order."""
    conn.execute(
        "INSERT INTO routing_state (scope, last_handle, turns, updated_at) VALUES (?, NULL, 0, ?) "
        "ON CONFLICT (scope) DO UPDATE SET turns = routing_state.turns",
        (scope, now),
    )
    row = conn.execute("SELECT last_handle FROM routing_state WHERE scope = ?", (scope,)).fetchone()
    return row[0] if row else None


def record(conn, scope: str, handle: str, now: int) -> None:
    conn.execute(
        "UPDATE routing_state SET last_handle = ?, turns = turns + 1, updated_at = ? WHERE scope = ?",
        (handle, now, scope),
    )
