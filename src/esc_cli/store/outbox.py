"""The notification outbox: every notification, and its delivery state per channel."""

from __future__ import annotations

import json
import sqlite3


def add(conn: sqlite3.Connection, payload: dict, channels: list[str], created_at: int) -> bool:
    """Record a notification and one pending delivery per configured channel. Returns
    False when it already exists (the same event seen twice)."""
    stored = {k: v for k, v in payload.items() if k != "recipient_label"}
    cursor = conn.execute(
        "INSERT OR IGNORE INTO notifications (id, case_id, kind, recipient, created_at, payload) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (payload["id"], payload["case"], payload["kind"], payload["recipient_label"], created_at,
         json.dumps(stored, ensure_ascii=False)),
    )
    if cursor.rowcount == 0:
        return False
    conn.executemany(
        "INSERT OR IGNORE INTO deliveries (notification_id, channel, state, attempts, next_attempt_at) "
        "VALUES (?, ?, 'pending', 0, ?)",
        [(payload["id"], channel, created_at) for channel in channels],
    )
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


def record_attempt(conn: sqlite3.Connection, notification_id: str, channel: str, ok: bool,
                   error: str | None, next_attempt_at: int | None) -> None:
    conn.execute(
        "UPDATE deliveries SET attempts = attempts + 1, state = ?, last_error = ?, "
        "next_attempt_at = ? WHERE notification_id = ? AND channel = ? AND state != 'delivered'",
        ("delivered" if ok else "failed", None if ok else error, None if ok else next_attempt_at,
         notification_id, channel),
    )


def listing(conn: sqlite3.Connection, limit: int | None = None, pending_only: bool = False) -> list[dict]:
    sql = "SELECT id, case_id, kind, recipient, created_at FROM notifications"
    if pending_only:
        sql += (" WHERE id IN (SELECT notification_id FROM deliveries "
                "WHERE state != 'delivered')")
    sql += " ORDER BY created_at DESC, id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    notes = conn.execute(sql).fetchall()
    result = []
    for note_id, case_id, kind, recipient, created_at in notes:
        deliveries = conn.execute(
            "SELECT channel, state, attempts, last_error, next_attempt_at FROM deliveries "
            "WHERE notification_id = ? ORDER BY channel",
            (note_id,),
        ).fetchall()
        result.append({
            "id": note_id, "case": case_id, "kind": kind, "recipient": recipient,
            "created_at": created_at,
            "deliveries": [
                {"channel": c, "state": s, "attempts": a, "last_error": e, "next_attempt_at": n}
                for c, s, a, e, n in deliveries
            ],
        })
    return result


def undelivered_count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM deliveries WHERE state != 'delivered'").fetchone()[0]
