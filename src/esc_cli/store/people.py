"""Owners: the people cases are assigned to."""

from __future__ import annotations

import json
import sqlite3

from esc_cli.domain.model import Owner

_COLUMNS = "handle, name, email, tier, teams, capacity, active, away_until, away_reason"


def _owner(row) -> Owner:
    handle, name, email, tier, teams, capacity, active, away_until, away_reason = row
    return Owner(
        handle,
        name,
        email,
        tier,
        tuple(json.loads(teams or "[]")),
        capacity,
        bool(active),
        away_until,
        away_reason,
    )


_ALL = None  # the key under which conn.owners says it holds every owner


def get_owner(conn: sqlite3.Connection, handle: str) -> Owner | None:
    # A PostgreSQL write transaction keeps what it read (conn.owners): a sweep asks for
    # the same few dozen owners hundreds of times, a round trip each otherwise. The
    # second owner it asks for brings them all, in one query.
    cache = getattr(conn, "owners", None)
    if cache is None:
        row = conn.execute(f"SELECT {_COLUMNS} FROM owners WHERE handle = ?", (handle,)).fetchone()
        return _owner(row) if row else None
    if handle in cache:
        return cache[handle]
    if _ALL in cache:
        return None
    if cache:
        cache.update((o.handle, o) for o in list_owners(conn))
        cache[_ALL] = True
        return cache.get(handle)
    row = conn.execute(f"SELECT {_COLUMNS} FROM owners WHERE handle = ?", (handle,)).fetchone()
    cache[handle] = owner = _owner(row) if row else None
    return owner


def list_owners(conn: sqlite3.Connection) -> list[Owner]:
    return [_owner(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM owners ORDER BY handle")]


def save_owner(conn: sqlite3.Connection, owner: Owner) -> None:
    cache = getattr(conn, "owners", None)
    if cache is not None:
        cache.clear()
    conn.execute(
        f"INSERT INTO owners ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(handle) DO UPDATE SET name = excluded.name, email = excluded.email, "
        "tier = excluded.tier, teams = excluded.teams, capacity = excluded.capacity, "
        "active = excluded.active, away_until = excluded.away_until, "
        "away_reason = excluded.away_reason",
        (
            owner.handle,
            owner.name,
            owner.email,
            owner.tier,
            json.dumps(list(owner.teams), ensure_ascii=False),
            owner.capacity,
            int(owner.active),
            owner.away_until,
            owner.away_reason,
        ),
    )


def load(conn: sqlite3.Connection, handle: str) -> int:
    """Cases an owner is working: those in new, open or pending."""
    return conn.execute(
        "SELECT count(*) FROM cases WHERE owner = ? AND state IN ('new', 'open', 'pending')",
        (handle,),
    ).fetchone()[0]


def loads(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(
        conn.execute(
            "SELECT owner, count(*) FROM cases WHERE owner IS NOT NULL "
            "AND state IN ('new', 'open', 'pending') GROUP BY owner"
        ).fetchall()
    )


def unresolved_case_ids(conn: sqlite3.Connection, handle: str) -> list[int]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT id FROM cases WHERE owner = ? AND state IN ('new', 'open', 'pending') "
            "ORDER BY id",
            (handle,),
        )
    ]


def loads_of(conn: sqlite3.Connection, handles: list[str]) -> dict[str, int]:
    """Unresolved cases of each of `handles` (through the partial owner index)."""
    if not handles:
        return {}
    marks = ", ".join("?" for _ in handles)
    return dict(
        conn.execute(
            f"SELECT owner, count(*) FROM cases WHERE owner IN ({marks}) "
            "AND state IN ('new', 'open', 'pending') GROUP BY owner",
            list(handles),
        ).fetchall()
    )
