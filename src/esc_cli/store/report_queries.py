"""Every SQL statement behind `esc report`: set-based aggregates over indexed columns
and the event log. Nothing here loads cases into Python: counting queries return one
row per (priority, breakdown value) and are rolled up in Python (counts add up);
percentiles are ranked in SQL and come back as the ranked values only.

Breakdown values come from a fixed table of column expressions, never from user text,
and are the case's current values. "now" is always a parameter.
"""

from __future__ import annotations

import json
import sqlite3

from esc_cli.domain.report import AGING, PERCENTILES, Window, rank

GROUP_SQL = {
    None: "NULL",
    "tier": "c.tier",
    "priority": "c.priority",
    "category": "c.category",
    "owner": "NULLIF(c.owner, '')",
    "team": "NULLIF(c.team, '')",
    "customer": "c.customer",
}
UNRESOLVED_SQL = "('new', 'open', 'pending')"
# The report's event reads go through the partial indexes of migration 0004
# (events_resolved_*, events_feedback_*, events_escalated_at, events_state_at).

# The state moves that start or end a pause, bar resolutions: the WHERE of the partial
# index events_pause_moves (migration 0004), spelled the same so SQLite uses it.
_PAUSE_MOVE = ("{e}.field = 'state' AND ({e}.from_value IN ('pending', 'resolved') "
               "AND {e}.to_value IN ('new', 'open') OR {e}.from_value IN ('new', 'open') "
               "AND {e}.to_value = 'pending')")

# A resolution that is its case's latest: no later `resolved` event of the same case.
# Events are appended in time order, so "later" is a higher id (events_case index).
_IS_LATEST = """NOT EXISTS (SELECT 1 FROM events l WHERE l.case_id = e.case_id AND l.id > e.id
                      AND l.kind = 'resolved')"""
# Cases whose latest resolution falls in [s, u), read from the resolved events of the
# window only (events_resolved_at), each checked against its own case's later events.
_LATEST_RESOLUTION = f"""
latest AS (
    SELECT e.case_id, e.id AS stop_id, e.at AS stop FROM events e
    WHERE e.kind = 'resolved' AND e.at >= :s AND e.at < :u AND {_IS_LATEST}
)"""


def _keyed(rows, names: tuple[str, ...]) -> dict:
    """{(priority, value): {name: number}} from rows of (priority, value, numbers...)."""
    return {(row[0], row[1]): dict(zip(names, row[2:])) for row in rows}


def _params(window: Window, **more) -> dict:
    return {"s": window.since, "u": window.until, **more}


def opened(conn: sqlite3.Connection, window: Window, group: str) -> dict:
    rows = conn.execute(
        f"""SELECT c.priority, {group} AS val, count(*), sum(c.escalations > 0) FROM cases c
        WHERE c.opened_at >= :s AND c.opened_at < :u GROUP BY c.priority, val""",
        _params(window),
    )
    return _keyed(rows, ("opened", "opened_escalated"))


def resolved(conn: sqlite3.Connection, window: Window, group: str) -> dict:
    # FCR: resolved at tier 1, never escalated, never reopened. Without an escalation
    # the tier only ever went down, so "at tier 1 when resolved" is "tier 1 now and
    # no de-escalation since the resolution".
    rows = conn.execute(
        f"""WITH {_LATEST_RESOLUTION}
        SELECT c.priority, {group} AS val, count(*),
               sum(c.tier = 1 AND c.escalations = 0 AND c.reopened = 0 AND NOT EXISTS (
                   SELECT 1 FROM events d WHERE d.case_id = c.id AND d.kind = 'deescalated'
                   AND d.id > latest.stop_id)),
               sum(c.reopened > 0)
        FROM latest JOIN cases c ON c.id = latest.case_id
        GROUP BY c.priority, val""",
        _params(window),
    )
    return _keyed(rows, ("resolved", "resolved_fcr", "resolved_reopened"))


def sla(conn: sqlite3.Connection, window: Window, now: int, group: str) -> dict:
    """Of the response and resolution clocks that stopped, or fell due while running,
    in the window: how many, and how many stopped by their due time.

    A clock falls due when its due time passes while it runs (due <= now). A late
    stop counts both where the clock fell due and where it stopped: a miss is
    reported in the window it happened and in the window the work was finally done.
    A pending case's resolution clock is frozen: it falls due only if it was already
    past due when the case was paused."""
    params = _params(window, now=now)
    response = conn.execute(
        f"""SELECT c.priority, {group} AS val, count(*),
               sum(c.acknowledged_at IS NOT NULL AND c.acknowledged_at <= c.respond_by)
        FROM cases c
        WHERE (c.acknowledged_at >= :s AND c.acknowledged_at < :u)
           OR (c.respond_by >= :s AND c.respond_by < :u AND c.respond_by <= :now
               AND (c.acknowledged_at IS NULL OR c.acknowledged_at > c.respond_by))
        GROUP BY c.priority, val""",
        params,
    )
    result = _keyed(response, ("response_clocks", "response_met"))
    resolution = conn.execute(
        f"""SELECT c.priority, {group} AS val, count(*),
               sum(c.resolved_at IS NOT NULL AND c.resolved_at <= c.resolve_by)
        FROM cases c
        WHERE (c.resolved_at >= :s AND c.resolved_at < :u)
           OR (c.resolve_by >= :s AND c.resolve_by < :u AND c.resolve_by <= :now
               AND (c.resolved_at IS NULL OR c.resolved_at > c.resolve_by)
               AND NOT (c.state = 'pending' AND c.paused_since < c.resolve_by))
        GROUP BY c.priority, val""",
        params,
    )
    for key, figures in _keyed(resolution, ("resolution_clocks", "resolution_met")).items():
        result.setdefault(key, {}).update(figures)
    return result


def csat(conn: sqlite3.Connection, window: Window, group: str) -> dict:
    """Each case's latest feedback, counted in the window it was given: a revised score
    replaces the earlier one and every case counts once."""
    rows = conn.execute(
        f"""SELECT c.priority, {group} AS val, count(*), sum(CAST(e.to_value AS INTEGER))
        FROM events e JOIN cases c ON c.id = e.case_id
        WHERE e.kind = 'feedback' AND e.at >= :s AND e.at < :u
          AND NOT EXISTS (SELECT 1 FROM events l WHERE l.case_id = e.case_id AND l.id > e.id
                          AND l.kind = 'feedback')
        GROUP BY c.priority, val""",
        _params(window),
    )
    return _keyed(rows, ("csat_count", "csat_sum"))


def backlog(conn: sqlite3.Connection, before: int, age_at: int, group: str) -> dict:
    """Cases in new/open/pending just before `before` (events at or after it have not
    happened yet), with their wall-clock age at `age_at` in the AGING buckets.

    A case whose state did not move since `before` is in its current state: those come
    from the unresolved-cases index. A case whose state moved since then was in the
    `from` state of its first such move."""
    buckets = ", ".join(
        f"sum(:age_at - c.opened_at >= {low}"
        + (f" AND :age_at - c.opened_at < {high})" if high is not None else ")")
        for _, low, high in AGING
    )
    rows = conn.execute(
        f"""WITH moved AS (
            SELECT case_id, min(id) AS first FROM events INDEXED BY events_state_at
            WHERE field = 'state' AND at >= :t
            GROUP BY case_id
        ),
        open_then(id) AS (
            SELECT c.id FROM cases c
            WHERE c.state IN {UNRESOLVED_SQL} AND c.opened_at < :t
              AND c.id NOT IN (SELECT case_id FROM moved)
            UNION ALL
            SELECT moved.case_id FROM moved JOIN events e ON e.id = moved.first
            WHERE e.from_value IN {UNRESOLVED_SQL}
        )
        SELECT c.priority, {group} AS val, count(*), {buckets}
        FROM open_then JOIN cases c ON c.id = open_then.id
        GROUP BY c.priority, val""",
        {"t": before, "age_at": age_at},
    )
    return _keyed(rows, ("backlog",) + tuple(f"aging_{i}" for i in range(len(AGING))))


def backlog_total(conn: sqlite3.Connection, before: int) -> int:
    """How many cases were in new/open/pending just before `before`: the number
    unresolved now, less the net moves into those states since. A case's state events
    form a chain (each leaves the state the previous one entered, the first, `opened`,
    leaves none), so over its moves at or after `before` the net count telescopes to
    "unresolved now" minus "unresolved then"; a case opened since then nets to zero.
    One walk of events_state_at, no per-case grouping."""
    first = conn.execute("SELECT min(opened_at) FROM cases").fetchone()[0]
    if first is None or before <= first:
        return 0  # nothing was open yet: skip walking every state event
    return conn.execute(
        f"""SELECT (SELECT count(*) FROM cases WHERE state IN {UNRESOLVED_SQL})
                 - (SELECT coalesce(sum((coalesce(to_value, '') IN {UNRESOLVED_SQL})
                                        - (coalesce(from_value, '') IN {UNRESOLVED_SQL})), 0)
                    FROM events INDEXED BY events_state_at
                    WHERE field = 'state' AND at >= :t)""",
        {"t": before},
    ).fetchone()[0]


# -- percentiles -------------------------------------------------------------------

def time_to_respond(conn: sqlite3.Connection, window: Window, group: str | None) -> dict:
    # A case cannot be pending before its first response, so there is no pause to subtract.
    durations = (f"SELECT c.priority, {group or 'NULL'}, c.acknowledged_at - c.opened_at "
                 "FROM cases c WHERE c.acknowledged_at >= :s AND c.acknowledged_at < :u")
    return percentiles(conn, durations, _params(window), by_value=group is not None,
                       prefix="respond")


def time_to_resolve(conn: sqlite3.Connection, window: Window, group: str | None) -> dict:
    # Wall-clock from opened_at to the latest resolution, less the time spent pending
    # or resolved before it (a reopened case does not count the days it sat resolved).
    # Paused time is one aggregate over the case's earlier state events (an index
    # search per case): every pause is entered at one instant and left at another,
    # so it is the sum of the instants pauses were left minus the sum of the instants
    # they were entered, plus the final stretch when the case went from pending
    # straight to its resolution.
    # Only a case resolved before (hence reopened: a resolution is left only by a
    # reopen) has earlier resolutions to count; every other case's pauses are its
    # _PAUSE_MOVE events, read from their small partial index (events_pause_moves).
    def paused(which: str) -> str:
        return f"""SELECT sum(CASE WHEN p.from_value IN ('pending', 'resolved')
                                  AND p.to_value IN ('new', 'open') THEN p.at
                             WHEN p.from_value IN ('new', 'open')
                                  AND p.to_value IN ('pending', 'resolved') THEN -p.at
                             ELSE 0 END)
                   FROM events p
                   WHERE p.case_id = final.case_id AND p.id < final.event_id AND {which}"""

    ctes = f"""
    final AS (
        SELECT e.case_id, e.id AS event_id, e.at AS stop, e.from_value = 'pending' AS from_pending
        FROM events e
        WHERE e.kind = 'resolved' AND e.at >= :s AND e.at < :u AND {_IS_LATEST}
    )"""
    durations = f"""
        SELECT c.priority, {group or 'NULL'},
               final.stop - c.opened_at
               - CASE WHEN final.from_pending THEN final.stop ELSE 0 END
               - coalesce(CASE WHEN EXISTS (
                   SELECT 1 FROM events x
                   WHERE x.case_id = final.case_id AND x.id < final.event_id
                     AND {_PAUSE_MOVE.format(e='x')} AND x.from_value = 'resolved')
                 THEN ({paused("p.field = 'state'")})
                 ELSE ({paused(_PAUSE_MOVE.format(e='p'))}) END, 0)
        FROM final JOIN cases c ON c.id = final.case_id"""
    return percentiles(conn, durations, _params(window), ctes, by_value=group is not None,
                       prefix="resolve")


def percentiles(conn: sqlite3.Connection, durations_sql: str, params: dict,
                ctes: str | None = None, by_value: bool = False, prefix: str = "p") -> dict:
    """Nearest-rank percentiles of a `(priority, value, seconds)` query, overall, per
    priority and (with by_value) per value: rank ceil(p/100 * n) of the ascending
    values. `domain.report.rank` is the same formula.

    The durations go into a temporary table with one index per grouping; each
    percentile is then the row at its rank in that index (ORDER BY d LIMIT 1 OFFSET
    rank - 1), a walk of one index in C. Ranking every row with window functions
    instead cost seconds at a million cases.

    Returns {("all", None) | ("priority", p) | ("value", v): {prefix_pNN: seconds}}."""
    table = "temp.report_durations"
    conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute(
        f"""CREATE TABLE {table} AS WITH {ctes + ',' if ctes else ''}
        base(pri, val, d) AS ({durations_sql})
        SELECT pri, val, d FROM base WHERE d IS NOT NULL""",
        params,
    )
    try:
        conn.execute("CREATE INDEX temp.report_durations_d ON report_durations(d)")
        conn.execute("CREATE INDEX temp.report_durations_pri ON report_durations(pri, d)")
        groups = ["SELECT 'all' AS kind, NULL AS grp, count(*) AS n FROM report_durations "
                  "HAVING count(*) > 0",
                  "SELECT 'priority', pri, count(*) FROM report_durations GROUP BY pri"]
        if by_value:
            conn.execute("CREATE INDEX temp.report_durations_val ON report_durations(val, d)")
            groups.append("SELECT 'value', val, count(*) FROM report_durations GROUP BY val")

        # One row per group (a few hundred at most), then one index walk per percentile.
        where = {"all": "1", "priority": "pri IS ?", "value": "val IS ?"}
        result = {}
        for kind, grp, n in conn.execute(" UNION ALL ".join(groups)).fetchall():
            args = () if kind == "all" else (grp,)
            result[(kind, grp)] = {
                f"{prefix}_p{p}": conn.execute(
                    f"SELECT d FROM report_durations WHERE {where[kind]} ORDER BY d "
                    "LIMIT 1 OFFSET ?", args + (rank(p, n) - 1,)).fetchone()[0]
                for p in PERCENTILES}
        return result
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


# -- trend -------------------------------------------------------------------------

def trend(conn: sqlite3.Connection, days: list[tuple[str, int, int]]) -> list[dict]:
    """Per local day: cases opened, cases whose latest resolution fell that day, and
    distinct cases escalated that day. Days are passed in (the zone is not SQL's); each
    day is an index range on cases(opened_at) and the partial event indexes."""
    if not days:
        return []
    rows = conn.execute(
        f"""WITH days(date, start, finish) AS (
            SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
                   json_extract(value, '$[2]')
            FROM json_each(:days)
        )
        SELECT d.date,
            (SELECT count(*) FROM cases c WHERE c.opened_at >= d.start AND c.opened_at < d.finish),
            (SELECT count(*) FROM events e WHERE e.kind = 'resolved' AND e.at >= d.start
             AND e.at < d.finish AND {_IS_LATEST}),
            (SELECT count(DISTINCT e.case_id) FROM events e
             WHERE e.kind = 'escalated' AND e.at >= d.start AND e.at < d.finish)
        FROM days d ORDER BY d.start""",
        {"days": json.dumps(days)},
    )
    return [{"date": date, "opened": o, "resolved": r, "escalated": e} for date, o, r, e in rows]


# -- one window --------------------------------------------------------------------

def figures(conn: sqlite3.Connection, window: Window, now: int,
            dimension: str | None = None, backlog_total_only: bool = False) -> dict:
    """Raw counts of one window: {"all": {...}, "priority": {p: {...}}, "value": {v: {...}}}
    ("value" only with a dimension; its keys are the raw column values).

    backlog_total_only (the `previous` window): the backlog only in "all", without
    aging, counted without finding each case's state (backlog_total)."""
    group = GROUP_SQL[dimension]
    # Backlog is the state at `until`, or now if that is earlier; "now" includes what
    # happened at this very second, `until` (half-open) does not.
    before = window.until if window.until <= now else now + 1
    age_at = min(window.until, now)
    result: dict = {"all": {}, "priority": {}, "value": {}}
    for part in (opened(conn, window, group), resolved(conn, window, group),
                 sla(conn, window, now, group), csat(conn, window, group),
                 {} if backlog_total_only else backlog(conn, before, age_at, group)):
        for (priority, value), counts in part.items():
            targets = [result["all"], result["priority"].setdefault(priority, {})]
            if dimension is not None:
                targets.append(result["value"].setdefault(value, {}))
            for target in targets:
                for key, number in counts.items():
                    target[key] = target.get(key, 0) + (number or 0)
    if backlog_total_only:
        result["all"]["backlog"] = backlog_total(conn, before)
    by_value = dimension is not None
    for part in (time_to_respond(conn, window, group if by_value else None),
                 time_to_resolve(conn, window, group if by_value else None)):
        for (kind, key), values in part.items():
            target = result["all"] if kind == "all" else result[kind].setdefault(key, {})
            target.update(values)
    return result
