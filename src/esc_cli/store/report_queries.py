"""The SQL of `esc report`'s figures for a window and its backlog (the per-day trend
is report_trend.py's). The figures that need a case's history (latest resolution,
time to resolve net of pauses, first-contact resolution, latest feedback) are settled
per case into columns (domain/summary.py, migration 0008), so a window is a range scan
of the covering index cases_report (per priority, the resolved cases' range and the
unresolved cases' range: _RANGES): every case that can count in it, aggregated in SQL.
Percentiles of a short window come back as its values and are ranked in Python
(store/report_ranks.py); a long window's are read by walking the value-ordered indexes
of migration 0009 (see _strategy).

Breakdown values come from a fixed table of column expressions, never from user text,
and are the case's current values. "now" is always a parameter.
"""

from __future__ import annotations

import sqlite3

from esc_cli.domain.report import AGING, PERCENTILES, Window, rank
from esc_cli.store.migrations_report import HORIZON
from esc_cli.store.report_ranks import _ranks, _run
from esc_cli.store.report_trend import trend
from esc_cli.store.two_readers import both

# Unqualified column names: SQLite matches HORIZON to the index expression only when it
# is spelled as in the index.
GROUP_SQL = {
    None: "NULL",
    "tier": "tier",
    "priority": "priority",
    "category": "category",
    "owner": "NULLIF(owner, '')",
    "team": "NULLIF(team, '')",
    "customer": "customer",
}
UNRESOLVED_SQL = "('new', 'open', 'pending')"
# The priorities in the store, one index seek each (a skip scan of cases_report).
_PRIORITIES = """WITH RECURSIVE stored(priority) AS (
    SELECT min(priority) FROM cases INDEXED BY cases_report
    UNION ALL
    SELECT (SELECT min(priority) FROM cases INDEXED BY cases_report WHERE priority > stored.priority)
    FROM stored WHERE stored.priority IS NOT NULL)"""
# Every case with anything in [:lo, :u): per priority, a range of cases_report, no table
# rows read (unless a --by column is not in the index).
_CANDIDATES = (
    f"FROM cases INDEXED BY cases_report WHERE priority IN (SELECT priority FROM stored) "
    f"AND {HORIZON} >= :lo AND opened_at < :u"
)
# The same cases as two ranges. Every unresolved case has the one horizon (year 10000),
# so within it the index orders them by opening and `opened_at < :u` bounds the range
# instead of filtering it: a window or backlog before the latest cases does not step
# over every unresolved case opened after it.
_FOREVER = 253402300800
_RANGES = (
    f"{_CANDIDATES} AND {HORIZON} < {_FOREVER}",
    f"FROM cases INDEXED BY cases_report WHERE priority IN (SELECT priority FROM stored) "
    f"AND {HORIZON} = {_FOREVER} AND opened_at < :u",
)


def _in(column: str, w: str) -> str:
    # Instants are integers, so [s, u) is BETWEEN s AND u - 1: SQLite reads the column
    # once for both bounds (a window's pass tests a dozen of these per case).
    return f"({column} BETWEEN :{w}s AND :{w}u - 1)"


def _in_backlog(w: str) -> str:
    """Whether a case was in new/open/pending just before :{w}t (events at or after it
    have not happened yet). A case with no event since then is in its current state; one
    never reopened was unresolved from its opening to its only resolution; only a
    reopened case with events since then reads its state history."""
    t = f":{w}t"
    return f"""(opened_at < {t} AND CASE
        WHEN last_event_at < {t} THEN state IN {UNRESOLVED_SQL}
        WHEN reopened = 0 THEN resolution_at IS NULL OR resolution_at >= {t}
        ELSE (SELECT coalesce(x.to_value, '') IN {UNRESOLVED_SQL} FROM events x
              WHERE x.case_id = cases.id AND x.field = 'state' AND x.at < {t}
              ORDER BY x.id DESC LIMIT 1) END)"""


# Two counts in one aggregate: sum(1 + b * 2^32) FILTER (WHERE a) holds how many
# rows had a (low 32 bits) and how many of those had b (the rest). SQLite then runs
# half the aggregate steps and tests each window bound once per pair. A FILTER (not a
# CASE yielding NULL) skips the aggregate's step on a row that does not count: most
# rows count in few of a window's sums, and the steps were a fifth of its pass.
_PAIR = 1 << 32


def _window_sums(w: str) -> list[tuple[tuple[str, str | None], str]]:
    """((name, paired name or None), SQL aggregate) of one window's counts; its bounds
    are :{w}s, :{w}u."""
    # Each clock counts once, at the instant its outcome was decided (docs/sla.md): a
    # response when it came in time, else when it fell due; a resolution clock when it
    # was resolved in time, else when it was breached while it ran
    # (resolution_decided_at, domain/sla.decided_at), never inside a pause.
    response = (
        f"(CASE WHEN acknowledged_at <= respond_by THEN {_in('acknowledged_at', w)} "
        f"ELSE {_in('respond_by', w)} AND respond_by <= :now END)"
    )
    resolution = f"({_in('resolution_decided_at', w)} AND resolution_decided_at <= :now)"
    resolved = _in("resolution_at", w)

    def pair(when: str, also: str) -> str:
        # CAST: a comparison is an integer on SQLite, a boolean on PostgreSQL
        return f"sum(1 + coalesce(CAST(({also}) AS INTEGER), 0) * {_PAIR}) FILTER (WHERE {when})"

    return [
        (("opened", "opened_escalated"), pair(_in("opened_at", w), "escalations > 0")),
        # FCR: resolved at tier 1, never escalated, never reopened (the fcr column)
        (("resolved", "resolved_fcr"), pair(resolved, "fcr")),
        (("resolved_reopened", None), f"count(*) FILTER (WHERE reopened > 0 AND {resolved})"),
        (
            ("response_clocks", "response_met"),
            pair(response, "acknowledged_at IS NOT NULL AND acknowledged_at <= respond_by"),
        ),
        # met: decided by its resolution (a breach is decided before it)
        (
            ("resolution_clocks", "resolution_met"),
            pair(resolution, "resolved_at IS NOT NULL AND resolution_decided_at = resolved_at"),
        ),
        # each case's latest feedback, counted in the window it was given
        (("csat_count", "csat_sum"), pair(_in("feedback_at", w), "feedback_score")),
    ]


def _unpair(rows, sums) -> tuple[list, list[str]]:
    """Rows of (priority, value, aggregates...) as (priority, value, counts...)."""
    names = []
    for (name, paired), _ in sums:
        names.append(name)
        if paired is not None:
            names.append(paired)
    out = []
    for row in rows:
        values = list(row[:2])
        for ((_, paired), _), total in zip(sums, row[2:]):
            if paired is None:
                values.append(total)
            else:
                count = (total or 0) % _PAIR  # a negative paired sum still leaves count >= 0
                values.extend((count, ((total or 0) - count) // _PAIR))
        out.append(values)
    return out, names


def _backlog_instants(window: Window, now: int) -> tuple[int, int]:
    # Backlog is the state at `until`, or now if that is earlier; "now" includes what
    # happened at this very second, `until` (half-open) does not.
    before = window.until if window.until <= now else now + 1
    return before, min(window.until, now)


def _roll_up(rows, names, dimension) -> dict:
    """{"all", "priority": {p}, "value": {v}} from rows of (priority, value, numbers...)."""
    result: dict = {"all": {}, "priority": {}, "value": {}}
    for row in rows:
        priority, value = row[0], row[1]
        targets = [result["all"], result["priority"].setdefault(priority, {})]
        if dimension is not None:
            targets.append(result["value"].setdefault(value, {}))
        for target in targets:
            for key, number in zip(names, row[2:]):
                target[key] = target.get(key, 0) + (number or 0)
    return result


def _merge(into: dict, part: dict) -> None:
    for level in ("all", "priority", "value"):
        if level == "all":
            into["all"].update(part["all"])
            continue
        for key, numbers in part[level].items():
            into[level].setdefault(key, {}).update(numbers)


def _group_by(group: str) -> str:
    # a constant `val` in the GROUP BY would still cost SQLite a sort
    return "priority" if group == "NULL" else "priority, val"


# The durations whose percentiles the report shows, each with the instant its clock
# stopped (a case cannot be pending before its first response: no pause to subtract;
# resolve_secs is net of pauses already) and the index holding each priority's values
# in value order (migration 0009, the expressions spelled as there).
DURATIONS = (
    ("respond", "acknowledged_at - opened_at", "acknowledged_at", "cases_respond_secs"),
    ("resolve", "resolve_secs", "resolution_at", "cases_resolve_secs"),
)

# How a window's durations are ranked. A short window's are collected in its pass and
# sorted in Python (few, and walking a value index would read the whole priority to
# find them). A window covering at least 1/_WALK_SHARE of the store's history ranks
# them by walking the value indexes: no list of every duration (all time: two million).
# With a --by other than priority ("split") the value groups need their values: the
# pass then comes value by value, each value's durations held only until the next
# value starts, in _SPLIT pieces by case id (each small to parse), and the priorities
# and overall still walk.
_WALK_SHARE = 4
_SPLIT = 8


def _strategy(window: Window, now: int, first: int | None, dimension: str | None) -> str:
    """ "walk", "split" or "collect" (see _WALK_SHARE)."""
    if first is None:
        return "collect"
    whole = now + 1 - first
    span = min(window.until, now + 1) - max(window.since, first)
    if whole <= 0 or span * _WALK_SHARE < whole:
        return "collect"
    return "walk" if dimension in (None, "priority") else "split"


def _pass(conn, sums, group: str, params: dict, strategy: str) -> tuple[list, dict, dict]:
    """The ranges of cases_report per priority (:lo, :u), grouped by priority and value:
    the index yields rows in priority order, so only a --by value needs sorting.

    Returns the rows of counts, {prefix: {(priority, value): durations}}, and (split)
    the value groups' ranks as _ranks gives them. The durations are sorted runs
    ("collect"), or ("walk", "split") how many there are. They come back as one text
    per group (group_concat: no row objects for Python to build), parsed and sorted
    in C."""
    if strategy == "walk":
        extra = [
            f"count({duration}) FILTER (WHERE {_in(stop, '')})"
            for _, duration, stop, _ in DURATIONS
        ]
    else:
        extra = [
            f"group_concat({duration}) FILTER (WHERE {_in(stop, '')})"
            for _, duration, stop, _ in DURATIONS
        ]
    tail = f"GROUP BY {_group_by(group)}"
    ranges: tuple[str, ...] = _RANGES
    if strategy == "split":
        # one statement: a value's pieces must come together
        tail = f"GROUP BY val, priority, id % {_SPLIT} ORDER BY val"
        ranges = (_CANDIDATES,)
    # a group's rows from either range are summed as they come, its durations kept as
    # separate runs
    cursor = (
        row
        for candidates in ranges
        for row in conn.execute(
            f"""{_PRIORITIES} SELECT priority, {group} AS val, {", ".join(sql for _, sql in sums)},
            {", ".join(extra)}
        {candidates} {tail}""",
            params,
        )
    )
    durations: dict = {prefix: {} for prefix, _, _, _ in DURATIONS}
    width = 2 + len(sums)
    totals: dict = {}
    by_value: dict = {}
    value = None
    pieces: dict[str, list] | None = None

    def finish() -> None:
        if pieces is not None:
            ranked = _ranks(
                {prefix: {(None, value): runs} for prefix, runs in pieces.items() if runs},
                False,
                ("value", value),
            )
            by_value.setdefault(("value", value), {}).update(ranked.get(("value", value), {}))

    # Split rows of one group are summed as they come (a paired sum of sums is the
    # pair of the sums).
    for row in cursor:
        key = (row[0], row[1])
        if strategy == "split" and (pieces is None or row[1] != value):
            finish()
            value, pieces = row[1], {prefix: [] for prefix, _, _, _ in DURATIONS}
        for (prefix, _, _, _), found in zip(DURATIONS, row[width:]):
            if strategy == "collect":
                if found is not None:
                    durations[prefix].setdefault(key, []).append(_run(found))
            elif strategy == "walk":
                durations[prefix][key] = durations[prefix].get(key, 0) + found
            elif found is not None:
                run = _run(found)
                pieces[prefix].append(run)  # type: ignore[index]  # split: set above
                counts = durations[prefix]
                counts[(row[0], None)] = counts.get((row[0], None), 0) + len(run)
        held = totals.get(key)
        if held is None:
            totals[key] = list(row[:width])
        else:
            for index in range(2, width):
                if row[index] is not None:
                    held[index] = (held[index] or 0) + row[index]
    finish()
    return list(totals.values()), durations, by_value


def _walked(conn, counts: dict, since: int, until: int, by_value: bool) -> dict:
    """_ranks from how many durations each priority has in [since, until): each rank
    is read from the value index, overall by merging the priorities' walks (SQLite
    merges UNION ALL arms that each come in order: no sort, no temp table). A walk
    goes from whichever end of the values is nearer the rank.

    The walks do not repeat the pass's candidate range: a duration's stop instant in
    the window puts its case there (the horizon is at least that instant, and no clock
    stops before the case is opened: import refuses it, events come after opening)."""
    result: dict = {}
    for prefix, duration, stop, index in DURATIONS:
        arm = (
            f"SELECT {duration} AS v FROM cases INDEXED BY {index} WHERE priority = ? "
            f"AND {stop} >= ? AND {stop} < ? AND {duration} IS NOT NULL"
        )
        present = {priority: n for (priority, _), n in counts[prefix].items() if n}
        groups = [(("priority", p), [p], n) for p, n in present.items()]
        if len(present) > 1:
            groups.append((("all", None), list(present), sum(present.values())))
        for key, members, n in groups:
            sql = " UNION ALL ".join([arm] * len(members))
            params = [x for member in members for x in (member, since, until)]
            found = {}
            for p in PERCENTILES:
                k = rank(p, n)
                order, offset = ("", k - 1) if k - 1 <= n - k else (" DESC", n - k)
                found[f"{prefix}_p{p}"] = conn.execute(
                    f"{sql} ORDER BY 1{order} LIMIT 1 OFFSET {offset}", params
                ).fetchone()[0]
            targets = [key]
            if len(present) == 1:
                targets.append(("all", None))
            if by_value and key[0] == "priority":  # the only by_value here is --by priority
                targets.append(("value", key[1]))
            for target in targets:
                result.setdefault(target, {}).update(found)
    return result


def _backlog(conn, t: int, age_at: int, group: str, dimension: str | None) -> dict:
    """Cases in the backlog just before t, with their wall-clock age at age_at in the
    AGING buckets. A case in it is unresolved now or resolved at or after t, so its
    horizon is at least t: the range read is the backlog's own, not the window's."""
    age = ":age - opened_at"
    buckets = [
        (
            f"aging_{index}",
            f"count(*) FILTER (WHERE {age} >= {low}" + (f" AND {age} < {high})" if high else ")"),
        )
        for index, (_, low, high) in enumerate(AGING)
    ]
    rows = [
        row
        for candidates in _RANGES
        for row in conn.execute(
            f"""{_PRIORITIES} SELECT priority, {group} AS val, count(*),
            {", ".join(sql for _, sql in buckets)}
        {candidates} AND {_in_backlog("")} GROUP BY {_group_by(group)}""",
            {"lo": t, "u": t, "t": t, "age": age_at},
        )
    ]
    return _roll_up(rows, ["backlog"] + [name for name, _ in buckets], dimension)


def _earlier_cycles(conn, group: str, window: Window, now: int) -> list:
    """(priority, value, clocks, met) of the resolution cycles decided in the window
    before their case's latest cycle (store/cycles.py; the latest is in the pass's
    resolution_decided_at): each cycle counts once, where it was decided. Only reopened
    cases have them: a range of the index on decided_at, each joined to its case for
    the priority and the --by value (the case's current one, as everywhere)."""
    return conn.execute(
        f"""SELECT priority, {group} AS val, count(*), sum(met)
        FROM resolution_cycles JOIN cases ON cases.id = resolution_cycles.case_id
        WHERE decided_at >= :s AND decided_at < :u AND decided_at <= :now
        GROUP BY {_group_by(group)}""",
        {"s": window.since, "u": window.until, "now": now},
    ).fetchall()


def _add(into: dict, part: dict) -> None:
    """Add part's counts into `into` (both as _roll_up makes them)."""
    for level in ("all", "priority", "value"):
        pairs = [(None, part["all"])] if level == "all" else list(part[level].items())
        for key, numbers in pairs:
            target = into["all"] if level == "all" else into[level].setdefault(key, {})
            for name, number in numbers.items():
                target[name] = target.get(name, 0) + (number or 0)


def _window(
    conn, sums, group: str, window: Window, now: int, first: int | None, dimension: str | None
) -> dict:
    """A window's counts and percentiles (figures' first half, no backlog)."""
    strategy = _strategy(window, now, first, dimension)
    rows, durations, ranks = _pass(
        conn,
        sums,
        group,
        {"lo": window.since, "u": window.until, "s": window.since, "now": now},
        strategy,
    )
    result = _roll_up(*_unpair(rows, sums), dimension)
    _add(
        result,
        _roll_up(
            _earlier_cycles(conn, group, window, now),
            ["resolution_clocks", "resolution_met"],
            dimension,
        ),
    )
    if strategy == "collect":
        ranks = _ranks(durations, dimension is not None)
    else:
        ranks.update(
            _walked(
                conn,
                durations,
                window.since,
                window.until,
                strategy == "walk" and dimension is not None,
            )
        )
    del durations
    for (kind, key), values in ranks.items():
        target = result["all"] if kind == "all" else result[kind].setdefault(key, {})
        target.update(values)
    return result


def figures(
    conn: sqlite3.Connection,
    window: Window,
    now: int,
    dimension: str | None = None,
    second: sqlite3.Connection | None = None,
    # an empty tuple: days is only read
    days: list[tuple[str, int, int]] = (),  # type: ignore[assignment]
) -> tuple[dict, dict, list[dict]]:
    """Raw counts of the window, {"all": {...}, "priority": {p: {...}}, "value": {v: {...}}}
    ("value" only with a dimension; its keys are the raw column values), the headline
    counts of the previous window of equal length ({...}, no aging), and the trend over
    `days`.

    Each figure reads only the cases that can count in it: the window's sums the cases
    whose horizon reaches the window, the backlog those whose horizon reaches its
    instant. SQLite evaluates every aggregate of every row it reads, so a narrower
    range beats folding more sums into one pass.

    With `second`, a connection on the same snapshot (Store.read_pair), the window and
    the trend run on conn while the backlog and the previous window run on `second` in
    another thread, both halves at once on two cores."""
    group = GROUP_SQL[dimension]
    previous = window.previous()
    sums = _window_sums("")
    first = conn.execute("SELECT min(opened_at) FROM cases").fetchone()[0]

    def the_rest(other: sqlite3.Connection) -> tuple[dict, dict]:
        t, age_at = _backlog_instants(window, now)
        backlog = _backlog(other, t, age_at, group, dimension)
        # Nothing happens to a case before it is opened: a window before the first case
        # is empty, and reading it would walk every case (all time's previous window).
        prior: dict = {}
        if first is not None and previous.until > first:
            prior = _window(other, sums, "NULL", previous, now, first, None)["all"]
            t, age_at = _backlog_instants(previous, now)
            prior["backlog"] = _backlog(other, t, age_at, "NULL", None)["all"].get("backlog", 0)
            prior.update(owner_times(other, previous, now, "NULL", None)["all"])
        return backlog, prior

    # time to owner and unowned escalations (issue 21) read their own table, not the
    # cases' index: each window's on the connection that reads that window, at once.
    # The trend goes with this window: the backlog (every unresolved case) and the
    # previous window weigh as much as the window and the trend together.
    from esc_cli.store.owner_times import owner_times

    def mine(own: sqlite3.Connection) -> tuple[dict, list[dict]]:
        found = _window(own, sums, group, window, now, first, dimension)
        _merge(found, owner_times(own, window, now, group, dimension))
        return found, trend(own, days, first)

    (result, daily), (backlog, prior) = both(conn, second, mine, the_rest)
    _merge(result, backlog)
    return result, prior, daily
