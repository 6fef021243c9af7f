"""`esc report`: the window, one read snapshot, the SPEC §4 document."""

from __future__ import annotations

from esc_cli.domain import report as rules
from esc_cli.domain.model import iso
from esc_cli.errors import UsageError


def check_dimension(by: str | None) -> str | None:
    if by is None:
        return None
    value = by.lower()
    if value not in rules.DIMENSIONS:
        raise UsageError(f"unknown --by '{by}' (use {', '.join(rules.DIMENSIONS)})")
    return value


def report(env, since: str | None = None, until: str | None = None, by: str | None = None) -> dict:
    from esc_cli.domain.policy import PRIORITIES
    from esc_cli.store import report_queries as q

    dimension = check_dimension(by)
    window = rules.parse_window(since, until, env.now, env.tz)
    days = rules.days(window, env.tz)
    store = env.store()
    with store.read_pair() as (conn, second):
        current, previous, trend = q.figures(conn, window, env.now, dimension, second, days)

    document: dict = {"since": iso(window.since), "until": iso(window.until)}
    document.update(rules.headline(current["all"]))
    document["aging"] = rules.aging(current["all"])
    document["trend"] = trend
    document["by_priority"] = {
        p: rules.headline(current["priority"].get(p, {})) for p in PRIORITIES
    }
    document["previous"] = rules.headline(previous)
    if dimension is None:
        document["by"] = None
    else:
        # owner and team are grouped as NULLIF(x, ''), so "(none)" is one group
        values = {
            rules.group_value(dimension, raw_value): raw
            for raw_value, raw in current["value"].items()
        }
        document["by"] = [
            {"value": value, **rules.headline(values[value])}
            for value in rules.order_groups(dimension, list(values))
        ]
    return document
