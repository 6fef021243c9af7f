"""Set-based reads that serve screens. "now" is always passed in, never computed in SQL."""

from __future__ import annotations

import sqlite3

from esc_cli.domain.model import STATES, UNRESOLVED
from esc_cli.errors import UsageError
from esc_cli.store.cases import _SELECT_CASE, case_from_row

PRIORITY_RANK = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
)
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


# With a --limit, a sort whose first keys only rank cases into bands reads band by band,
# each query ordered by the keys that still vary inside its band (the others are
# constant there), so SQLite walks an index in order and stops after `limit` rows
# instead of sorting every match. Each band's rows come out exactly as the full sort
# would order them, and the bands partition the matches in that sort's order.
BANDS = {
    "urgency": (
        ("state != 'pending' AND due_at <= :now", f"due_at, {PRIORITY_RANK}, id"),
        (
            "state != 'pending' AND due_at > :now AND warn_at <= :now",
            f"due_at, {PRIORITY_RANK}, id",
        ),
        (
            "state != 'pending' AND due_at > :now AND (warn_at > :now OR warn_at IS NULL)",
            f"due_at, {PRIORITY_RANK}, id",
        ),
        ("state != 'pending' AND due_at IS NULL", f"{PRIORITY_RANK}, id"),
        ("state = 'pending'", f"{URGENCY_BAND}, due_at, {PRIORITY_RANK}, id"),
    ),
    "due": (
        ("due_at IS NOT NULL", f"due_at, {PRIORITY_RANK}, id"),
        ("due_at IS NULL", f"{PRIORITY_RANK}, id"),
    ),
}


def queue(
    conn: sqlite3.Connection, filters: dict, sort: str, limit: int, now: int, banded: bool = True
):
    """The queue's cases in `sort` order, at most `limit` (0: all). `banded=False` runs
    the one full query (tests compare the two)."""
    if sort not in SORTS:
        raise UsageError(f"unknown sort '{sort}' (use {', '.join(SORTS)})")
    if limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    if limit > 2**62:  # past SQLite's integers; no store holds that many anyway
        raise UsageError(f"--limit {limit} is too large (0 means all)")
    clauses, params = case_filters(filters, now)
    where = " AND ".join(clauses)
    if not limit:
        sql = f"{_SELECT_CASE} WHERE {where} ORDER BY {SORTS[sort]}"
        return [case_from_row(row) for row in conn.execute(sql, params)]
    bands = BANDS.get(sort) if banded else None
    if bands is None:
        bands = (("1 = 1", SORTS[sort]),)
    found: list = []
    for band, order in bands:
        params["limit"] = limit - len(found)
        sql = f"{_SELECT_CASE} WHERE {where} AND ({band}) ORDER BY {order} LIMIT :limit"
        found.extend(case_from_row(row) for row in conn.execute(sql, params))
        if len(found) >= limit:
            break
    return found


def counts(conn: sqlite3.Connection, filters: dict, now: int) -> dict:
    """How many of the filtered cases are breached, at risk and unassigned, and how many
    there are: the wallboard's headline, in one pass over the unresolved cases' partial
    index rather than one query per figure. Bands as the queue's: a case counts by its
    earliest running clock."""
    clauses, params = case_filters(filters, now)
    sql = (
        "SELECT count(*),"
        " coalesce(sum(CASE WHEN state IN ('new', 'open') AND due_at <= :now THEN 1 ELSE 0 END), 0),"
        " coalesce(sum(CASE WHEN state IN ('new', 'open') AND due_at > :now AND warn_at <= :now"
        " THEN 1 ELSE 0 END), 0),"
        " coalesce(sum(CASE WHEN owner IS NULL THEN 1 ELSE 0 END), 0)"
        f" FROM cases WHERE {' AND '.join(clauses)}"
    )
    total, breached, at_risk, unassigned = conn.execute(sql, params).fetchone()
    return {"cases": total, "breached": breached, "at_risk": at_risk, "unassigned": unassigned}
