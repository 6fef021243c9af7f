"""A migration's multi-statement script, run statement by statement."""

from __future__ import annotations


def run_script(db, script: str) -> None:
    """Each `;`-separated statement of `script` on `db`, inside the caller's transaction:
    sqlite3's executescript() would COMMIT the caller's BEGIN IMMEDIATE first. (No
    statement of a migration holds a `;` inside quotes.)"""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
