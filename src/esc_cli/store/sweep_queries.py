"""The reads the sweep and `overdue` need, over the indexed instants of the cases table.

`cases.sweep_at` (partial index `cases_sweep_at`) is the next instant the sweep has
work on a case; every write recomputes it, so "what is due" never scans every case.
"""

from __future__ import annotations

import sqlite3

from esc_cli.domain.model import Case, Event
from esc_cli.store.cases import _SELECT_CASE, case_from_row


def due_cases(
    conn: sqlite3.Connection, now: int, after: tuple[int, int] | None, limit: int
) -> list[tuple[int, int]]:
    """(sweep_at, id) of cases the sweep has work on at `now`, in index order, the
    next `limit` after the keyset `after` (so a large backlog is read in batches)."""
    if after is None:
        sql = "SELECT sweep_at, id FROM cases WHERE sweep_at <= ? ORDER BY sweep_at, id LIMIT ?"
        params: tuple = (now, limit)
    else:
        sql = (
            "SELECT sweep_at, id FROM cases WHERE sweep_at <= ? AND (sweep_at, id) > (?, ?) "
            "ORDER BY sweep_at, id LIMIT ?"
        )
        params = (now, after[0], after[1], limit)
    return conn.execute(sql, params).fetchall()


def claim_due(
    conn: sqlite3.Connection, now: int, after: tuple[int, int] | None, limit: int
) -> list[Case]:
    """The next `limit` cases due at `now` after the keyset `after` (sweep_at, id),
    whole, in that order. In a PostgreSQL write they are claimed: locked `FOR UPDATE
    SKIP LOCKED` (conn.claim), so a case another sweep or a writer holds is left to it,
    never waited for, and each case is read as it is now (a case swept meanwhile is no
    longer due and is not returned). SQLite's write lock already covers the file."""
    where, params = "sweep_at <= ?", [now]
    if after is not None:
        where += " AND (sweep_at, id) > (?, ?)"
        params += [after[0], after[1]]
    # PostgreSQL walks its (sweep_at, id) index in this order only when NULLs go last
    # as the index keeps them (no due case has a NULL sweep_at); SQLite's index on
    # sweep_at holds the id and keeps its order as written
    nulls = " NULLS LAST" if getattr(conn, "dialect", "sqlite") == "postgres" else ""
    cases = list(
        map(
            case_from_row,
            conn.execute(
                f"{_SELECT_CASE} WHERE {where} ORDER BY sweep_at{nulls}, id{nulls} LIMIT ?"
                f"{getattr(conn, 'claim', '')}",
                [*params, limit],
            ),
        )
    )
    locked = getattr(conn, "last_hashes", None)
    if locked is not None:  # claimed: this transaction holds them (see events_by_case)
        for case in cases:
            locked.setdefault(case.id, None)
    return cases


def cases_by_id(conn: sqlite3.Connection, ids: list[int]) -> dict[int, Case]:
    """The cases `ids` (one query; a few hundred ids at most), by id."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    # a PostgreSQL sweep claims the cases it changes (FOR UPDATE SKIP LOCKED, in id
    # order): a case another sweep or a writer holds is left to it, never waited for
    claim = getattr(conn, "claim", "")
    claim = f" ORDER BY id{claim}" if claim else ""
    return {
        case.id: case  # type: ignore[misc]  # stored cases have ids
        for case in map(
            case_from_row, conn.execute(f"{_SELECT_CASE} WHERE id IN ({marks}){claim}", ids)
        )
    }


def events_by_case(conn: sqlite3.Connection, ids: list[int]) -> dict[int, list[Event]]:
    """The histories of the cases `ids`, each in order, in one walk of `events_case`."""
    if not ids:
        return {}
    marks = ", ".join("?" for _ in ids)
    found: dict[int, list[Event]] = {case_id: [] for case_id in ids}
    # in a PostgreSQL write, the last hash of each case this transaction holds locked
    # (claim_due) is noted for cases.append_events, which then needs no query
    last = getattr(conn, "last_hashes", None)
    if not last:
        for row in conn.execute(
            "SELECT case_id, at, actor, kind, field, from_value, to_value, reason FROM events "
            f"WHERE case_id IN ({marks}) ORDER BY case_id, id",
            ids,
        ):
            found[row[0]].append(Event(*row[1:]))
        return found
    for row in conn.execute(
        "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash FROM events "
        f"WHERE case_id IN ({marks}) ORDER BY case_id, id",
        ids,
    ):
        found[row[0]].append(Event(*row[1:-1]))
        if row[0] in last:
            last[row[0]] = row[-1]
    return found


def count_due(conn: sqlite3.Connection, now: int) -> int:
    return conn.execute("SELECT count(*) FROM cases WHERE sweep_at <= ?", (now,)).fetchone()[0]


def set_sweep_at(conn: sqlite3.Connection, case_id: int, sweep_at: int | None) -> None:
    """Reschedule a case the sweep looked at and found nothing to do on (its schedule
    was moved up by a policy or ladder change)."""
    conn.execute("UPDATE cases SET sweep_at = ? WHERE id = ?", (sweep_at, case_id))


def overdue(
    conn: sqlite3.Connection,
    now: int,
    horizon: int,
    tier: int | None,
    team: str | None,
    columns: tuple[str, ...] | None = None,
) -> list:
    """Unresolved cases with a running clock at risk or breached at `now`, or falling due
    by `horizon`. Pending cases have no running clock (due_at and warn_at are NULL), so
    they never match. A case's earliest warn instant is never later than its earliest
    due instant, hence the two conditions. With `columns`, only those columns, each row
    a named tuple (a listing of thousands that needs no whole Case)."""
    clauses = [
        # spelled as the partial index is, so only unresolved cases are looked at
        "state IN ('new', 'open', 'pending')",
        "due_at IS NOT NULL",
        "(warn_at <= :now OR due_at <= :horizon)",
    ]
    params: dict = {"now": now, "horizon": horizon}
    _narrow(clauses, params, tier, team)
    # The OR above defeats both partial indexes (the planner walks every unresolved
    # case); the candidates come from each index on its own. Without a horizon past
    # now, `due_at <= now` implies `warn_at <= now`, so one index is enough.
    candidates = f"SELECT id FROM cases WHERE {clauses[0]} AND warn_at <= :now"
    if horizon > now:
        candidates += f" UNION ALL SELECT id FROM cases WHERE {clauses[0]} AND due_at <= :horizon"
    where = f"WHERE id IN ({candidates}) AND {' AND '.join(clauses)} ORDER BY due_at, id"
    return _cases(conn, where, params, columns)


def _narrow(clauses: list[str], params: dict, tier: int | None, team: str | None) -> None:
    """`overdue`'s --tier and --team, as clauses."""
    if tier is not None:
        clauses.append("tier = :tier")
        params["tier"] = tier
    if team is not None:
        clauses.append("team = :team")
        params["team"] = team


def _cases(conn, where: str, params: dict, columns: tuple[str, ...] | None) -> list:
    """Whole Cases, or with `columns` only those, each row a named tuple (a listing of
    thousands that needs no whole Case)."""
    if columns is None:
        return [case_from_row(row) for row in conn.execute(f"{_SELECT_CASE} {where}", params)]
    from collections import namedtuple

    row = namedtuple("CaseRow", columns)  # type: ignore[misc]  # the caller's columns
    return list(
        map(row._make, conn.execute(f"SELECT {', '.join(columns)} FROM cases {where}", params))
    )


def unowned_waiting(
    conn: sqlite3.Connection,
    since: int,
    tier: int | None,
    team: str | None,
    columns: tuple[str, ...] | None = None,
) -> list:
    """Unowned cases being worked (new, open) that arrived at their tier by `since`:
    the candidates for an owner past own_within (routing.owner_deadline decides), for
    `overdue` (issue 21). Read from the unresolved-by-owner index's NULL range."""
    clauses = ["state IN ('new', 'open')", "owner IS NULL", "tier_since <= :since"]
    params: dict = {"since": since}
    _narrow(clauses, params, tier, team)
    return _cases(conn, f"WHERE {' AND '.join(clauses)} ORDER BY tier_since, id", params, columns)
