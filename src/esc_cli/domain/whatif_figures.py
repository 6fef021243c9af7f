"""`esc policy try`'s figures: replayed outcomes (`whatif.Outcome`) added up over a
window, and the side-by-side a person reads.

Apart from the replay (`whatif.py`): counting reads only an outcome's fields, never
the policy or the history, and the figures are plain dicts that the processes of one
`policy try` add together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from esc_cli.domain.whatif import Outcome

CLOCKS = ("response", "update", "resolution")
# the sweep also warns of an escalation left without an owner past its tier's
# own_within (issue 21): a warning of the `owner` clock, which never breaches
WARNED = (*CLOCKS, "owner")


def empty_figures() -> dict:
    return {
        "cases": 0,
        "response_clocks": 0,
        "response_met": 0,
        "resolution_clocks": 0,
        "resolution_met": 0,
        "breaches": dict.fromkeys(CLOCKS, 0),
        "warnings": dict.fromkeys(WARNED, 0),
        "escalations": {"breach": 0, "stale": 0},
        "rule_firings": {},
    }


def count(figures: dict, outcome: Outcome, since: int, until: int, now: int) -> None:
    """Add what of `outcome` falls in [since, until) (and not after now) to `figures`."""
    figures["cases"] += 1
    end = min(until, now + 1)
    decided, met = outcome.response[0], outcome.response[1]
    if decided is not None and since <= decided < end:
        figures["response_clocks"] += 1
        figures["response_met"] += int(met)
    decided, met = outcome.resolution[0], outcome.resolution[1]
    if decided is not None and since <= decided < end:
        figures["resolution_clocks"] += 1
        figures["resolution_met"] += int(met)
    for decided, met in outcome.earlier:
        if since <= decided < end:
            figures["resolution_clocks"] += 1
            figures["resolution_met"] += int(met)
    for clock, at in outcome.breached:
        if since <= at < end:
            figures["breaches"][clock] += 1
    for clock, at in outcome.warned:
        if since <= at < end:
            figures["warnings"][clock] += 1
    for cause, at in outcome.escalated:
        if since <= at < end:
            figures["escalations"][cause] += 1
    for name, at in outcome.fired:
        if since <= at < end:
            figures["rule_firings"][name] = figures["rule_firings"].get(name, 0) + 1


def add_figures(figures: dict, other: dict) -> None:
    """Add `other` (figures of other cases) to `figures`, key by key."""
    for key, part in other.items():
        if isinstance(part, dict):
            into = figures[key]
            for name, number in part.items():
                into[name] = into.get(name, 0) + number
        else:
            figures[key] += part


def verdict(outcome: Outcome, clock: str, since: int, until: int, now: int) -> str | None:
    """ "met" or "breached" when the clock was decided in the window, else None."""
    decided, met, _, _ = getattr(outcome, clock)
    if decided is None or not since <= decided < min(until, now + 1):
        return None
    return "met" if met else "breached"


def cycle_verdicts(outcome: Outcome, since: int, until: int, now: int) -> list[str | None]:
    """`verdict` of each cycle of the resolution clock, the first first (one entry for a
    case never reopened)."""
    end = min(until, now + 1)
    verdicts: list[str | None] = [
        ("met" if met else "breached") if since <= decided < end else None
        for decided, met in outcome.earlier
    ]
    verdicts.append(verdict(outcome, "resolution", since, until, now))
    return verdicts


def headline(figures: dict) -> dict:
    """The figures a person reads: met shares as fractions (None: nothing decided)."""

    def share(part: int, whole: int):
        return part / whole if whole else None

    return {
        "cases": figures["cases"],
        "response_sla_met": share(figures["response_met"], figures["response_clocks"]),
        "resolution_sla_met": share(figures["resolution_met"], figures["resolution_clocks"]),
        "response_clocks": figures["response_clocks"],
        "resolution_clocks": figures["resolution_clocks"],
        "breaches": dict(figures["breaches"]),
        "warnings": dict(figures["warnings"]),
        "escalations": dict(figures["escalations"]),
        "rule_firings": dict(sorted(figures["rule_firings"].items())),
    }


def difference(old: dict, new: dict) -> dict:
    """new - old, key by key (a share's difference is None when either side is None)."""
    result: dict = {}
    for key, before in old.items():
        after = new[key]
        if isinstance(before, dict):
            names = list(before) + [k for k in after if k not in before]
            result[key] = {k: after.get(k, 0) - before.get(k, 0) for k in names}
        elif before is None or after is None:
            result[key] = None
        else:
            result[key] = after - before
    return result
