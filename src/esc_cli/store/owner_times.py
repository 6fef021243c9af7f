"""The report's time to owner (issue 21): for each escalation in the window, how long
until the case had an owner at its new tier, and how many escalations still had none
at the window's end. One statement over the escalation events of the window (the
partial index events_escalated_at), each looking at its own case's few neighbouring
events through events_case; grouped like the rest of the report.

An escalation's delay is 0 when the case has an owner once its write is done (kept,
named with --owner, or given by routing), else the time to the first later `assigned`
to someone. An escalation followed by another tier move, a resolution or a close before
any owner came is neither timed nor unowned: the case left that tier's queue.
"""

from __future__ import annotations

from esc_cli.domain.report import Window

# MATERIALIZED: each escalation's delay is worked out once, not once per aggregate
# that reads it (SQLite would otherwise inline the CTE three times)
_DELAYS = """WITH x AS MATERIALIZED (
    SELECT e.case_id AS cid,
        CASE WHEN (SELECT a.to_value FROM events a WHERE a.case_id = e.case_id
                   AND a.kind = 'assigned' AND a.at <= e.at ORDER BY a.id DESC LIMIT 1) IS NOT NULL
        THEN 0
        ELSE (SELECT CASE WHEN n.kind = 'assigned' THEN n.at - e.at ELSE -1 END FROM events n
              WHERE n.case_id = e.case_id AND n.id > e.id AND n.at > e.at AND n.at < :end
              AND ((n.kind = 'assigned' AND n.to_value IS NOT NULL)
                   OR n.kind IN ('escalated', 'deescalated', 'resolved', 'closed'))
              ORDER BY n.id LIMIT 1) END AS delay
    FROM events e WHERE e.kind = 'escalated' AND e.at >= :s AND e.at < :u
)
SELECT c.priority, {group} AS val, count(*) FILTER (WHERE x.delay IS NULL),
    group_concat(x.delay) FILTER (WHERE x.delay >= 0)
{join} GROUP BY c.priority, val"""
_JOIN = {
    "sqlite": "FROM x JOIN cases c ON c.id = x.cid",
    # one lookup by key per escalation (OFFSET 0 keeps the subquery from being merged
    # back into a join): as a join, PostgreSQL merged a few thousand escalations with a
    # walk of every case's primary key (500 -> 300 ms at a million cases)
    "postgres": "FROM x CROSS JOIN LATERAL (SELECT * FROM cases c WHERE c.id = x.cid OFFSET 0) c",
}


def owner_times(conn, window: Window, now: int, group: str, dimension: str | None) -> dict:
    """{"all", "priority": {p}, "value": {v}} of {unowned, owner_p50, owner_p90}; the
    window's end is `until`, or just after now when that is earlier."""
    from esc_cli.store.report_ranks import _ranks, _run

    end = window.until if window.until <= now else now + 1
    result: dict = {"all": {"unowned": 0}, "priority": {}, "value": {}}
    runs: dict = {}
    for priority, value, unowned, delays in conn.execute(
        _DELAYS.format(group=group, join=_JOIN[getattr(conn, "dialect", "sqlite")]),
        {"s": window.since, "u": window.until, "end": end},
    ):
        targets = [result["all"], result["priority"].setdefault(priority, {})]
        if dimension is not None:
            targets.append(result["value"].setdefault(value, {}))
        for target in targets:
            target["unowned"] = target.get("unowned", 0) + (unowned or 0)
        if delays is not None:
            runs.setdefault((priority, value), []).append(_run(delays))
    for (kind, key), ranks in _ranks({"owner": runs}, dimension is not None).items():
        target = result["all"] if kind == "all" else result[kind].setdefault(key, {})
        target.update(ranks)
    return result
