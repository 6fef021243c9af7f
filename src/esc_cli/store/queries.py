"""Set-based reads that serve screens. "now" is always passed in, never computed in SQL."""

from __future__ import annotations

import sqlite3

from esc_cli.domain.model import STATES, UNRESOLVED
from esc_cli.errors import UsageError
from esc_cli.store.cases import _SELECT_CASE, case_from_row

PRIORITY_RANK = "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
URGENCY_BAND = (
    "CASE WHEN due_at IS NULL THEN 3 WHEN due_at <= :now THEN 0 "
    "WHEN warn_at <= :now THEN 1 ELSE 2 END"
)
SORTS = {
    # breached first (most overdue first), then at risk, then earliest due; pending last
    "urgency": f"state = 'pending', {URGENCY_BAND}, due_at, {PRIORITY_RANK}, id",
    "due": f"due_at IS NULL, due_at, {PRIORITY_RANK}, id",
    "age": "opened_at, id",
    "id": "id",
}


def case_filters(filters: dict, now: int) -> tuple[list[str], dict]:
    """WHERE clauses for the queue filters of SPEC §4, shared by queue, overdue and search."""
    clauses: list[str] = []
    params: dict = {"now": now}
    states = filters.get("state") or list(UNRESOLVED)
    for state in states:
        if state not in STATES:
            raise UsageError(f"unknown state '{state}' (use {', '.join(STATES)})")
    if tuple(states) == UNRESOLVED:
        # spelled exactly as the partial indexes are, so the planner can use them
        clauses.append("state IN ('new', 'open', 'pending')")
    else:
        keys = []
        for index, state in enumerate(states):
            params[f"state{index}"] = state
            keys.append(f":state{index}")
        clauses.append(f"state IN ({', '.join(keys)})")
    for name in ("tier", "owner", "team", "priority", "category"):
        value = filters.get(name)
        if value is not None:
            clauses.append(f"{name} = :{name}")
            params[name] = value
    if filters.get("unassigned"):
        clauses.append("owner IS NULL")
    if filters.get("breached"):
        clauses.append("state IN ('new', 'open') AND due_at <= :now")
    if filters.get("at_risk"):
        clauses.append("state IN ('new', 'open') AND warn_at <= :now AND due_at > :now")
    return clauses, params


def queue(conn: sqlite3.Connection, filters: dict, sort: str, limit: int, now: int):
    if sort not in SORTS:
        raise UsageError(f"unknown sort '{sort}' (use {', '.join(SORTS)})")
    if limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    if limit > 2**62:  # past SQLite's integers; no store holds that many anyway
        raise UsageError(f"--limit {limit} is too large (0 means all)")
    clauses, params = case_filters(filters, now)
    sql = f"{_SELECT_CASE} WHERE {' AND '.join(clauses)} ORDER BY {SORTS[sort]}"
    if limit:
        sql += " LIMIT :limit"
        params["limit"] = limit
    return [case_from_row(row) for row in conn.execute(sql, params)]
