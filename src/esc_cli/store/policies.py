"""Policy versions: every load or edit of the SLA policy is kept."""

from __future__ import annotations

import sqlite3


def current(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute(
        "SELECT id, toml FROM policy_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        from esc_cli.errors import StoreError

        raise StoreError("the store has no policy", hint="run esc doctor")
    return row[0], row[1]


def version(conn: sqlite3.Connection, version_id: int) -> str | None:
    row = conn.execute("SELECT toml FROM policy_versions WHERE id = ?", (version_id,)).fetchone()
    return row[0] if row else None


def all_versions(conn: sqlite3.Connection) -> list[tuple[int, int, str, str]]:
    return conn.execute(
        "SELECT id, created_at, actor, toml FROM policy_versions ORDER BY id"
    ).fetchall()


def add(conn: sqlite3.Connection, toml: str, at: int, actor: str) -> int:
    cursor = conn.execute(
        "INSERT INTO policy_versions (created_at, actor, toml) VALUES (?, ?, ?)", (at, actor, toml)
    )
    return cursor.lastrowid


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM policy_versions").fetchone()[0]
