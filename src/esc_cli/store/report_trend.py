"""The trend of `esc report`: per local day, the cases opened, resolved and escalated.
It shares no SQL with the window's figures (report_queries.py): no range of
cases_report, only a range per day of three small indexes of its own."""

from __future__ import annotations

import json
import sqlite3


def trend(
    conn: sqlite3.Connection, days: list[tuple[str, int, int]], first: int | None
) -> list[dict]:
    """Per local day: cases opened, cases whose latest resolution fell that day, and
    distinct cases escalated that day. Days are passed in (the zone is not SQL's); each
    day is an index range on cases(opened_at), cases(resolution_at) and the escalation
    events.

    Nothing happens to a case before it is opened, so the days that end before `first`,
    the store's first opening (None: no cases), are zero without a query: an all-time
    report from 2000 over two years of cases would otherwise run ten thousand days of
    index seeks."""
    empty = len(days) if first is None else sum(1 for _, _, finish in days if finish <= first)
    zeros = [
        {"date": date, "opened": 0, "resolved": 0, "escalated": 0} for date, _, _ in days[:empty]
    ]
    days = days[empty:]
    if not days:
        return zeros
    days_sql = (
        """SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'),
                   json_extract(value, '$[2]')
            FROM json_each(:days)"""
        if getattr(conn, "dialect", "sqlite") == "sqlite"
        else """SELECT v->>0, CAST(v->>1 AS BIGINT), CAST(v->>2 AS BIGINT)
            FROM json_array_elements(CAST(:days AS json)) AS t(v)"""
    )
    rows = conn.execute(
        f"""WITH days(date, start, finish) AS (
            {days_sql}
        )
        SELECT d.date,
            (SELECT count(*) FROM cases c INDEXED BY cases_opened_at
             WHERE c.opened_at >= d.start AND c.opened_at < d.finish),
            (SELECT count(*) FROM cases c INDEXED BY cases_resolution_at
             WHERE c.resolution_at >= d.start AND c.resolution_at < d.finish),
            (SELECT count(DISTINCT e.case_id) FROM events e INDEXED BY events_escalated_at
             WHERE e.kind = 'escalated' AND e.at >= d.start AND e.at < d.finish)
        FROM days d ORDER BY d.start""",
        {"days": json.dumps(days)},
    )
    return zeros + [
        {"date": date, "opened": o, "resolved": r, "escalated": e} for date, o, r, e in rows
    ]
