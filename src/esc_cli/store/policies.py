"""Policy versions: every load or edit of the SLA policy is kept."""

from __future__ import annotations

import sqlite3

# Every run reads the current policy. Parsing TOML means importing tomllib, which compiles
# its regular expressions on import: ~16 ms, more than the rest of a `show`'s policy work.
# So each version also keeps its parsed document as JSON (TOML's dates and times tagged),
# which the standard json module reads in microseconds.
_TAG = "\x00toml"


def encode_document(toml: str) -> str | None:
    """The parsed TOML as JSON, or None when it does not parse (doctor reports that) or
    holds a key spelled like the tag (then every run parses the TOML instead)."""
    import datetime as dt
    import json
    import tomllib

    try:
        doc = tomllib.loads(toml)
    except tomllib.TOMLDecodeError:
        return None

    def tagged(value):
        if isinstance(value, dict):
            if _TAG in value:
                raise ValueError("tag collision")
            return {key: tagged(item) for key, item in value.items()}
        if isinstance(value, list):
            return [tagged(item) for item in value]
        for kind in (dt.datetime, dt.date, dt.time):  # datetime before date: it is one
            if isinstance(value, kind):
                return {_TAG: [kind.__name__, value.isoformat()]}
        return value

    try:
        return json.dumps(tagged(doc), ensure_ascii=False, allow_nan=True)
    except ValueError:
        return None


def decode_document(text: str) -> dict:
    import json

    def untag(obj: dict):
        value = obj.get(_TAG)
        if value is None or len(obj) != 1:
            return obj
        import datetime as dt

        kind, iso = value
        return getattr(dt, kind).fromisoformat(iso)

    return json.loads(text, object_hook=untag)


def current_parsed(conn: sqlite3.Connection) -> tuple[int, str, str | None]:
    """The current version: id, TOML and its parsed document (None: parse the TOML)."""
    row = conn.execute(
        "SELECT id, toml, document FROM policy_versions ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        from esc_cli.errors import StoreError

        raise StoreError("the store has no policy", hint="run esc doctor")
    return row[0], row[1], row[2]


def version_parsed(conn: sqlite3.Connection, version_id: int) -> tuple[str, str | None] | None:
    row = conn.execute(
        "SELECT toml, document FROM policy_versions WHERE id = ?", (version_id,)
    ).fetchone()
    return (row[0], row[1]) if row else None


def documents(conn: sqlite3.Connection) -> list[tuple[int, str, str | None]]:
    return conn.execute("SELECT id, toml, document FROM policy_versions ORDER BY id").fetchall()


def set_document(conn: sqlite3.Connection, version_id: int, document: str | None) -> None:
    conn.execute("UPDATE policy_versions SET document = ? WHERE id = ?", (document, version_id))


def all_versions(conn: sqlite3.Connection) -> list[tuple[int, int, str, str]]:
    return conn.execute(
        "SELECT id, created_at, actor, toml FROM policy_versions ORDER BY id"
    ).fetchall()


def add(conn: sqlite3.Connection, toml: str, at: int, actor: str) -> int:
    cursor = conn.execute(
        "INSERT INTO policy_versions (created_at, actor, toml, document) VALUES (?, ?, ?, ?)",
        (at, actor, toml, encode_document(toml)),
    )
    return cursor.lastrowid  # type: ignore[return-value]  # an INSERT sets it


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM policy_versions").fetchone()[0]


def add_first(conn: sqlite3.Connection, toml: str, at: int, actor: str) -> bool:
    """The store's first policy version, unless it has one: True when this call wrote
    it (`esc init` says "initialised"). SQLite's write lock makes the check and the
    write one step; on PostgreSQL (READ COMMITTED) two `esc init` at once would both
    find none, so they take turns on the migrations' advisory lock first."""
    store_lock = getattr(conn, "store_lock", None)  # PostgreSQL's connection has one
    if store_lock is not None:
        store_lock()
    if count(conn):
        return False
    add(conn, toml, at, actor)
    return True
