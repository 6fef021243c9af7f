"""The notification outbox: every notification, and its delivery state per channel."""

from __future__ import annotations

import json
import sqlite3

# json.dumps(..., ensure_ascii=False) builds a new encoder on every call
_JSON = json.JSONEncoder(ensure_ascii=False)


def add(conn: sqlite3.Connection, payload: dict, channels: list[str], created_at: int) -> bool:
    """Record a notification and one pending delivery per configured channel. Returns
    False when it already exists (the same event seen twice)."""
    stored = {k: v for k, v in payload.items() if k != "recipient_label"}
    cursor = conn.execute(
        "INSERT OR IGNORE INTO notifications (id, case_id, kind, recipient, created_at, payload) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            payload["id"],
            payload["case"],
            payload["kind"],
            payload["recipient_label"],
            created_at,
            _JSON.encode(stored),
        ),
    )
    if cursor.rowcount == 0:
        return False
    if not channels:
        return True
    insert = (
        "INSERT OR IGNORE INTO deliveries (notification_id, channel, state, attempts, "
        "next_attempt_at) VALUES (?, ?, 'pending', 0, ?)"
    )
    later = getattr(conn, "later", None)
    if later is not None:  # PostgreSQL: sent with the next statement that needs an answer
        for channel in channels:
            later(insert, (payload["id"], channel, created_at))
        return True
    conn.executemany(insert, [(payload["id"], channel, created_at) for channel in channels])
    return True


def due_deliveries(conn: sqlite3.Connection, now: int | None, limit: int = 500) -> list[tuple]:
    """(notification_id, channel, attempts, payload) whose next attempt has come
    (all undelivered ones when now is None)."""
    sql = (
        "SELECT d.notification_id, d.channel, d.attempts, n.payload FROM deliveries d "
        "JOIN notifications n ON n.id = d.notification_id WHERE d.state != 'delivered'"
    )
    params: list = []
    if now is not None:
        sql += " AND d.next_attempt_at <= ?"
        params.append(now)
    sql += " ORDER BY d.next_attempt_at, d.notification_id LIMIT ?"
    params.append(limit)
    return conn.execute(sql, params).fetchall()


def _due(
    channels: list[str], now: int, ignore_backoff: bool, skip: dict[str, list[str]] | None
) -> tuple[str, list]:
    """The WHERE clause (over `deliveries d`) of what is due on `channels` at `now`, less
    the notification ids `skip` names per channel, and its parameters."""
    marks = ", ".join("?" for _ in channels)
    due = "d.next_attempt_at <= ?"
    if ignore_backoff:
        due = f"(d.state != 'sending' OR {due})"
    sql = f"d.state != 'delivered' AND d.channel IN ({marks}) AND {due}"
    params: list = [*channels, now]
    for channel, ids in (skip or {}).items():
        if ids and channel in channels:
            sql += (
                f" AND NOT (d.channel = ? AND d.notification_id IN ({', '.join('?' for _ in ids)}))"
            )
            params += [channel, *ids]
    return sql, params


def claim(
    conn: sqlite3.Connection,
    channels: list[str],
    now: int,
    lease_until: int,
    ignore_backoff: bool = False,
    lease: tuple[int, str] | None = None,
    skip: dict[str, list[str]] | None = None,
) -> tuple | None:
    """Take the next delivery that is due on one of `channels`: (notification_id, channel,
    attempts, payload), marked `sending` until `lease_until` so that a sweep running at
    the same time leaves it alone. Call inside a write transaction. A sender that dies
    mid-send loses its lease when `lease_until` passes and the delivery is due again.

    `ignore_backoff` (esc notify retry) also takes failed deliveries still waiting out
    their backoff, but never one another process holds a live lease on. `lease` is the
    claim's (real-time end, holder) that `stranded` reads back. `skip`: notification ids
    not to take, per channel (what this run tried already)."""
    if not channels:
        return None
    where, params = _due(channels, now, ignore_backoff, skip)
    row = conn.execute(
        "SELECT d.notification_id, d.channel, d.attempts, n.payload FROM deliveries d "
        f"JOIN notifications n ON n.id = d.notification_id WHERE {where} "
        "ORDER BY d.next_attempt_at, n.rowid, d.channel LIMIT 1"
        # PostgreSQL: a delivery another sweep is claiming is skipped, not waited for
        + (" FOR UPDATE OF d SKIP LOCKED" if getattr(conn, "claim", "") else ""),
        params,
    ).fetchone()
    if row is None:
        return None
    real_end, holder = lease if lease is not None else (None, None)
    conn.execute(
        "UPDATE deliveries SET state = 'sending', next_attempt_at = ?, lease_until = ?, "
        "leased_by = ? WHERE notification_id = ? AND channel = ?",
        (lease_until, real_end, holder, row[0], row[1]),
    )
    return row


def due_count(
    conn: sqlite3.Connection,
    channels: list[str],
    now: int,
    ignore_backoff: bool = False,
    skip: dict[str, list[str]] | None = None,
) -> int:
    """How many deliveries `claim` would still find on `channels`."""
    if not channels:
        return 0
    where, params = _due(channels, now, ignore_backoff, skip)
    return conn.execute(f"SELECT count(*) FROM deliveries d WHERE {where}", params).fetchone()[0]


def due_notifications(conn: sqlite3.Connection, channels: list[str], now: int) -> list[tuple]:
    """(id, case, kind, recipient) of each notification with a delivery due at `now` on
    one of `channels` (what a sweep would send again), in the order they were written."""
    if not channels:
        return []
    where, params = _due(channels, now, False, None)
    return conn.execute(
        "SELECT n.id, n.case_id, n.kind, n.recipient FROM notifications n WHERE n.id IN "
        f"(SELECT d.notification_id FROM deliveries d WHERE {where}) "
        "ORDER BY n.created_at, n.rowid",
        params,
    ).fetchall()


def stranded(conn: sqlite3.Connection, channels: list[str]) -> list[tuple]:
    """Claims in progress on `channels`: (notification_id, channel, lease_until,
    leased_by) for the caller to judge abandoned or not."""
    if not channels:
        return []
    marks = ", ".join("?" for _ in channels)
    return conn.execute(
        "SELECT notification_id, channel, lease_until, leased_by FROM deliveries "
        f"WHERE state != 'delivered' AND state = 'sending' AND channel IN ({marks})",
        channels,
    ).fetchall()


def take_back(conn: sqlite3.Connection, claims: list[tuple[str, str]], now: int) -> None:
    """Abandoned claims made due at `now` again, in the state they had before."""
    conn.executemany(
        "UPDATE deliveries SET state = CASE WHEN attempts = 0 THEN 'pending' ELSE 'failed' END, "
        "next_attempt_at = ?, lease_until = NULL, leased_by = NULL "
        "WHERE notification_id = ? AND channel = ? AND state = 'sending'",
        [(now, note_id, channel) for note_id, channel in claims],
    )


def record_attempt(
    conn: sqlite3.Connection,
    notification_id: str,
    channel: str,
    ok: bool,
    error: str | None,
    next_attempt_at: int | None,
) -> None:
    conn.execute(
        "UPDATE deliveries SET attempts = attempts + 1, state = ?, last_error = ?, "
        "next_attempt_at = ? WHERE notification_id = ? AND channel = ? AND state != 'delivered'",
        (
            "delivered" if ok else "failed",
            None if ok else error,
            None if ok else next_attempt_at,
            notification_id,
            channel,
        ),
    )


def listing(
    conn: sqlite3.Connection,
    limit: int | None = None,
    pending_only: bool = False,
    case_id: int | None = None,
) -> list[dict]:
    """The outbox in the order it was written (the newest `limit` of it), each
    notification with its deliveries; instants stay epoch seconds."""
    clauses, params = [], []
    if pending_only:
        clauses.append("id IN (SELECT notification_id FROM deliveries WHERE state != 'delivered')")
    if case_id is not None:
        clauses.append("case_id = ?")
        params.append(case_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    columns = "id, case_id, kind, recipient, created_at"
    if limit:
        # the newest `limit`, then in written order: the inner query carries the write
        # order out (as `seq`; PostgreSQL wants the subquery named)
        sql = (
            f"SELECT {columns} FROM (SELECT {columns}, rowid AS seq FROM notifications{where} "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?) AS newest ORDER BY created_at, seq"
        )
        params.append(int(limit))
    else:
        sql = f"SELECT {columns} FROM notifications{where} ORDER BY created_at, rowid"
    result: dict[str, dict] = {}
    for note_id, case, kind, recipient, created_at in conn.execute(sql, params):
        result[note_id] = {
            "id": note_id,
            "case": case,
            "kind": kind,
            "recipient": recipient,
            "created_at": created_at,
            "deliveries": [],
        }
    if not result:
        return []
    ids = list(result)
    for start in range(0, len(ids), 500):  # a few queries, not one per notification
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(
            "SELECT notification_id, channel, state, attempts, last_error, next_attempt_at "
            f"FROM deliveries WHERE notification_id IN ({marks}) ORDER BY notification_id, channel",
            chunk,
        ).fetchall()
        for note_id, channel, state, attempts, error, next_at in rows:
            result[note_id]["deliveries"].append(
                {
                    "channel": channel,
                    "state": state,
                    "attempts": attempts,
                    "last_error": error,
                    "next_attempt_at": next_at,
                }
            )
    return list(result.values())


def delivery_states(conn: sqlite3.Connection, ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Each notification's (channel, state) pairs, one per channel it was recorded for."""
    states: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for note_id, channel, state in conn.execute(
            "SELECT notification_id, channel, state FROM deliveries "
            f"WHERE notification_id IN ({marks})",
            chunk,
        ):
            states[note_id].append((channel, state))
    return states


def undelivered_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM deliveries WHERE state != 'delivered'").fetchone()[0]
