"""Owners: the people cases are assigned to."""

from __future__ import annotations

import json
import sqlite3

from esc_cli.domain.model import Owner

_COLUMNS = "handle, name, email, tier, teams, capacity, active"


def _owner(row) -> Owner:
    handle, name, email, tier, teams, capacity, active = row
    return Owner(handle, name, email, tier, tuple(json.loads(teams or "[]")), capacity, bool(active))


def get_owner(conn: sqlite3.Connection, handle: str) -> Owner | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM owners WHERE handle = ?", (handle,)).fetchone()
    return _owner(row) if row else None


def list_owners(conn: sqlite3.Connection) -> list[Owner]:
    return [_owner(r) for r in conn.execute(f"SELECT {_COLUMNS} FROM owners ORDER BY handle")]


def save_owner(conn: sqlite3.Connection, owner: Owner) -> None:
    conn.execute(
        f"INSERT INTO owners ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(handle) DO UPDATE SET name = excluded.name, email = excluded.email, "
        "tier = excluded.tier, teams = excluded.teams, capacity = excluded.capacity, "
        "active = excluded.active",
        (owner.handle, owner.name, owner.email, owner.tier,
         json.dumps(list(owner.teams), ensure_ascii=False), owner.capacity, int(owner.active)),
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
