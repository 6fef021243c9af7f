"""`esc policy try FILE`: every case with activity in a window replayed under the current
policy and under FILE (domain/whatif.py), side by side. Reads only: nothing is written."""

from __future__ import annotations

from esc_cli.domain.model import iso
from esc_cli.errors import UsageError

DIMENSIONS = ("priority", "tier", "team", "category")
_ORDER = {"priority": ("urgent", "high", "medium", "low")}


def check_dimension(by: str | None) -> str:
    value = (by or "priority").strip().lower()
    if value not in DIMENSIONS:
        raise UsageError(f"unknown --by '{by}' (use {', '.join(DIMENSIONS)})")
    return value


def _group(outcome, dimension: str):
    return getattr(outcome, dimension)


def _lateness(outcome, clock: str, end: int) -> int:
    """How late a breached clock stopped (or is, at the window's end, if it runs on)."""
    _, met, due, stopped = getattr(outcome, clock)
    return 0 if met or due is None else (stopped if stopped is not None else end) - due


def _unchanged(current, candidate) -> frozenset[str] | None:
    """The priorities whose cases replay the same under both policies: the same targets
    and calendar, with the same warn fraction, ladder and rules (None: no priority)."""
    if (current.warn_at != candidate.warn_at or current.tiers != candidate.tiers
            or current.rules != candidate.rules):
        return None
    same = set()
    for name, target in current.priorities.items():
        other = candidate.priorities.get(name)
        if other == target and (current.calendar_specs.get(target.calendar)
                                == candidate.calendar_specs.get(target.calendar)):
            same.add(name)
    for rule in current.rules:  # a rule may raise a case to its priority
        wanted = rule.then.get("priority")
        if wanted and wanted not in same:
            return None
    return frozenset(same)


def _priorities(case, events) -> set[str]:
    seen = {case.priority}
    for event in events:
        if event.kind == "changed" and event.field == "priority":
            seen.update(v for v in (event.from_value, event.to_value) if v)
    return seen


def try_policy(env, file_label: str, text: str, since: str | None, until: str | None,
               by: str | None, progress=None) -> dict:
    from esc_cli.domain import report as windows
    from esc_cli.domain import whatif
    from esc_cli.domain.policy import PolicyError, parse_policy
    from esc_cli.services import Policies
    from esc_cli.store import replay_queries

    dimension = check_dimension(by)
    try:
        candidate = parse_policy(text)
    except PolicyError as err:
        raise UsageError(f"policy: {err}") from None  # the words of `policy load`
    window = windows.parse_window(since, until, env.now, env.tz)
    start, end, now = window.since, window.until, env.now
    horizon = min(end, now + 1)  # the sweep runs up to the window's end, never past now
    totals = {"current": whatif.empty_figures(), "candidate": whatif.empty_figures()}
    groups: dict[str, dict] = {"current": {}, "candidate": {}}
    changed: list[tuple] = []
    replayed = 0
    with env.store().read() as conn:
        pols = Policies(conn)
        current = pols.for_version(pols.current_id)
        version = pols.current_id
        total = replay_queries.count(conn, start, end) if progress else 0
        # a case that only ever had priorities both policies treat alike replays the
        # same under both: replayed once (most of a window, when FILE changes a target)
        same = _unchanged(current, candidate)
        for case, events in replay_queries.histories(conn, start, end):
            replayed += 1
            if progress and replayed % 1000 == 0:
                progress(replayed, total)
            now_outcome = whatif.replay(case, events, current, horizon)
            if same is not None and _priorities(case, events) <= same:
                then_outcome = now_outcome
            else:
                then_outcome = whatif.replay(case, events, candidate, horizon)
            pair = {"current": now_outcome, "candidate": then_outcome}
            for side, outcome in pair.items():
                whatif.count(totals[side], outcome, start, end, now)
                value = _group(outcome, dimension)
                figures = groups[side].get(value)
                if figures is None:
                    figures = groups[side][value] = whatif.empty_figures()
                whatif.count(figures, outcome, start, end, now)
            for clock in ("response", "resolution"):
                old = whatif.verdict(pair["current"], clock, start, end, now)
                new = whatif.verdict(pair["candidate"], clock, start, end, now)
                if old is not None and new is not None and old != new:
                    changed.append((case, clock, old, new, pair))
    if progress:
        progress(replayed, replayed)

    def side_by_side(old: dict, new: dict) -> dict:
        old, new = whatif.headline(old), whatif.headline(new)
        return {"current": old, "candidate": new, "difference": whatif.difference(old, new)}

    values = set(groups["current"]) | set(groups["candidate"])
    order = _ORDER.get(dimension)

    def key(value):
        if value is None:
            return (2, "")
        if order and value in order:
            return (0, order.index(value))
        return (1, value if isinstance(value, int) else str(value).lower())

    # worst first: what the candidate breaches, latest first; then what it rescues
    changed.sort(key=lambda item: (item[3] != "breached",
                                   -_lateness(item[4]["candidate" if item[3] == "breached"
                                                      else "current"], item[1], horizon),
                                   item[0].id))
    return {
        "since": iso(start),
        "until": iso(end),
        "file": file_label,
        "current_policy_version": version,
        "by": dimension,
        "cases": replayed,
        "all": side_by_side(totals["current"], totals["candidate"]),
        "groups": [{"value": "(none)" if value is None else value,
                    **side_by_side(groups["current"].get(value, whatif.empty_figures()),
                                   groups["candidate"].get(value, whatif.empty_figures()))}
                   for value in sorted(values, key=key)],
        "changed": [{
            "case": case.id, "title": case.title, "clock": clock,
            "current": old, "candidate": new,
            "current_due": iso(getattr(pair["current"], clock)[2]),
            "candidate_due": iso(getattr(pair["candidate"], clock)[2]),
            "decided_at": iso(getattr(pair["candidate" if new == "breached" else "current"],
                                      clock)[0]),
        } for case, clock, old, new, pair in changed],
    }
