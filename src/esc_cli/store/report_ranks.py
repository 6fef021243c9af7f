"""The report's percentiles, nearest rank (domain.report.rank): over sorted runs of
durations (each a group_concat text parsed and sorted in C) merged by bisection, or
over the rows of any `(priority, value, seconds)` query."""

from __future__ import annotations

import json
import sqlite3
from array import array

from esc_cli.domain.report import PERCENTILES, rank


def _run(text: str) -> array:
    """A group_concat of integers as an ascending array of machine integers: all time
    holds two million durations, which as Python ints would take 70 MB."""
    values = json.loads(f"[{text}]")
    values.sort()
    narrow = -(1 << 31) <= values[0] and values[-1] < (1 << 31)
    return array("i" if narrow else "q", values)


def _ranks(durations: dict, by_value: bool, only: tuple | None = None) -> dict:
    """Nearest-rank percentiles overall, per priority and (by_value) per value, from
    sorted runs per (priority, value): each group's ranks by bisection across its runs.
    Returns {("all", None) | ("priority", p) | ("value", v): {prefix_pNN: seconds}}, or
    with `only` that one key's ranks over every run given."""
    result: dict = {}
    for prefix, runs in durations.items():
        groups: dict = {}
        for (priority, value), pieces in runs.items():
            if only is not None:
                groups.setdefault(only, []).extend(pieces)
                continue
            groups.setdefault(("all", None), []).extend(pieces)
            groups.setdefault(("priority", priority), []).extend(pieces)
            if by_value:
                groups.setdefault(("value", value), []).extend(pieces)
        for key, members in groups.items():
            n = sum(len(run) for run in members)
            result.setdefault(key, {}).update(
                {
                    f"{prefix}_p{p}": members[0][rank(p, n) - 1]
                    if len(members) == 1
                    else _kth(members, rank(p, n))
                    for p in PERCENTILES
                }
            )
    return result


def _kth(runs: list[list], k: int) -> int:
    """The k-th smallest (1-based) of the union of ascending lists of integers: the
    least v with at least k values <= v."""
    from bisect import bisect_right

    low = min(run[0] for run in runs)
    high = max(run[-1] for run in runs)
    while low < high:
        middle = (low + high) // 2
        if sum(bisect_right(run, middle) for run in runs) >= k:
            high = middle
        else:
            low = middle + 1
    return low


def _ranked(rows, measures: tuple[tuple[str, int], ...], by_value: bool) -> dict:
    """Nearest-rank percentiles of rows (priority, value, measures...): rank
    ceil(p/100 * n) of the ascending values (`domain.report.rank`), overall, per
    priority and (with by_value) per value; a None is not a value.

    Returns {("all", None) | ("priority", p) | ("value", v): {prefix_pNN: seconds}}."""
    groups: dict = {}
    for row in rows:
        keys = [("all", None), ("priority", row[0])]
        if by_value:
            keys.append(("value", row[1]))
        for prefix, column in measures:
            d = row[column]
            if d is None:
                continue
            for key in keys:
                groups.setdefault((key, prefix), []).append(d)
    result: dict = {}
    for (key, prefix), values in groups.items():
        values.sort()
        result.setdefault(key, {}).update(_pick(prefix, values))
    return result


def _pick(prefix: str, values: list) -> dict:
    """values sorted ascending."""
    if not values:
        return {}
    return {f"{prefix}_p{p}": values[rank(p, len(values)) - 1] for p in PERCENTILES}


def percentiles(
    conn: sqlite3.Connection,
    durations_sql: str,
    params: dict,
    ctes: str | None = None,
    by_value: bool = False,
    prefix: str = "p",
) -> dict:
    """Nearest-rank percentiles of any `(priority, value, seconds)` query (see _ranked)."""
    sql = f"WITH {ctes} {durations_sql}" if ctes else durations_sql
    return _ranked(conn.execute(sql, params), ((prefix, 2),), by_value)
