"""Trigger rules of SPEC §3: escalate on what a case is and how the customer feels.

Rules run in one pass, in file order; each sees the changes of the rules before it.
A rule has fired on a case exactly when the case has an event by `rule:NAME`, so it
never fires twice; a match that would change nothing writes nothing.
"""

from __future__ import annotations

from typing import Callable

from esc_cli.domain.model import Case, Event, Owner
from esc_cli.domain.values import replace

OwnerLookup = Callable[[str], tuple[Owner | None, int]]


def _values(value) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).lower() for v in value)
    return (str(value).lower(),)


def matches(rule, case: Case) -> bool:
    for key, wanted in rule.when.items():
        if key in ("category", "customer", "priority", "channel"):
            actual = getattr(case, key)
            if actual is None or actual.lower() not in _values(wanted):
                return False
        elif key == "tag":
            tags = {t.lower() for t in case.tags}
            if not tags.intersection(_values(wanted)):
                return False
        elif key == "csat_at_most":
            if case.csat is None or case.csat > int(wanted):
                return False
        elif key == "reopened_at_least":
            if case.reopened < int(wanted):
                return False
        else:
            return False
    return True


def _fire(
    rule, case: Case, policy, now: int, owner_lookup: OwnerLookup
) -> tuple[Case, list[Event]]:
    from esc_cli.domain.policy import PRIORITIES

    actor = f"rule:{rule.name}"
    reason = rule.name
    events: list[Event] = []
    then = rule.then
    if then.get("reopen") and case.state == "resolved":
        events.append(Event(now, actor, "reopened", "state", "resolved", "open", reason))
        case = replace(case, state="open", reopened=case.reopened + 1)
    if case.state == "closed":
        return case, events
    priority = then.get("priority")
    if priority and PRIORITIES.index(priority) < PRIORITIES.index(case.priority):
        events.append(Event(now, actor, "changed", "priority", case.priority, priority, reason))
        case = replace(case, priority=priority)
    team = then.get("team")
    if team and team != case.team:
        events.append(Event(now, actor, "changed", "team", case.team, team, reason))
        case = replace(case, team=team)
    tier = then.get("tier")
    new_owner = case.owner
    if tier is not None and case.tier < int(tier):
        tier = int(tier)
        events.append(Event(now, actor, "escalated", "tier", str(case.tier), str(tier), reason))
        current_owner = owner_lookup(case.owner)[0] if case.owner else None
        if current_owner is None or current_owner.tier < tier:
            new_owner = None
        case = replace(case, tier=tier)
    handle = then.get("owner")
    if handle and handle != new_owner:
        owner, load = owner_lookup(handle)
        usable = (
            owner is not None and owner.active and (owner.capacity is None or load < owner.capacity)
        )
        if usable:
            new_owner = handle
    if new_owner != case.owner:
        events.append(Event(now, actor, "assigned", "owner", case.owner, new_owner, reason))
        case = replace(case, owner=new_owner)
    return case, events


def apply_rules(
    case: Case, events: list[Event], policy, now: int, owner_lookup: OwnerLookup
) -> tuple[Case, list[Event]]:
    """Run every rule that has not fired on this case; returns the case and new events."""
    fired = {e.actor for e in events if e.actor.startswith("rule:")}
    # the count is derived from the history, and the move being saved may be a reopen
    # the case row does not know of yet
    case = replace(case, reopened=sum(1 for e in events if e.kind == "reopened"))
    new_events: list[Event] = []
    for rule in policy.rules:
        if f"rule:{rule.name}" in fired or not matches(rule, case):
            continue
        case, produced = _fire(rule, case, policy, now, owner_lookup)
        new_events.extend(produced)
    return case, new_events
