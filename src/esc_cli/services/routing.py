"""Routing inside a write (issue 21): the write that escalates or opens a case asks
domain/routing.py for an owner and appends its `assigned` event, in the same
transaction; owners away and back; who is on call."""

from __future__ import annotations

from esc_cli.domain import routing
from esc_cli.domain.model import Case, Event
from esc_cli.domain.values import replace
from esc_cli.store import people
from esc_cli.store import routing as routing_rows


def might_route(case: Case, new_events: list[Event]) -> bool:
    """A cheap look before importing anything: no owner, and an event that asks."""
    return case.owner is None and any(
        e.kind in ("escalated", "opened") or (e.kind == "changed" and e.field == "team")
        for e in new_events
    )


def route(conn, case: Case, new_events: list[Event], policy, now: int):
    """(case, routing's events, the decision or None when routing was not asked)."""
    asked = routing.trigger(case, new_events)
    if asked is None:
        return case, [], None
    settings = routing.settings_for(policy, case, asked[1])
    if not settings.routes:
        return case, [], None
    last = routing_rows.claim(conn, settings.scope, now)
    owners = people.list_owners(conn)
    loads = people.loads_of(conn, [o.handle for o in owners if o.active])
    decision = routing.choose(case, settings, owners, loads, now, last, policy.top_tier)
    if decision.handle is None:
        return case, [], decision
    routing_rows.record(conn, settings.scope, decision.handle, now)
    event = routing.assigned_event(case, decision, now)
    return replace(case, owner=decision.handle), [event], decision


class Preview:
    """`route` without writing, for `sweep --dry-run`: the same domain decisions over the
    owners, their loads and round-robin's memory as first read, each pick remembered in
    memory only (the next escalation in the same scope goes to the next person, and the
    picked owner's load grows by one), as a real sweep would have them in turn. The
    store's round-robin state never moves."""

    def __init__(self, conn):
        self.owners = people.list_owners(conn)
        self.loads = people.loads_of(conn, [o.handle for o in self.owners if o.active])
        self.last = dict(conn.execute("SELECT scope, last_handle FROM routing_state").fetchall())

    def route(self, case: Case, new_events: list[Event], policy, now: int):
        """(case, routing's events, the decision or None), as `route` gives them."""
        asked = routing.trigger(case, new_events)
        if asked is None:
            return case, [], None
        settings = routing.settings_for(policy, case, asked[1])
        if not settings.routes:
            return case, [], None
        decision = routing.choose(
            case,
            settings,
            self.owners,
            self.loads,
            now,
            self.last.get(settings.scope),
            policy.top_tier,
        )
        if decision.handle is None:
            return case, [], decision
        self.last[settings.scope] = decision.handle
        self.loads[decision.handle] = self.loads.get(decision.handle, 0) + 1
        event = routing.assigned_event(case, decision, now)
        return replace(case, owner=decision.handle), [event], decision


def landing(case_id: int, before: Case, after: Case, decision) -> dict:
    """Where an escalation left its case, for the sweep's result: `{case, tier, team,
    owner, reason}` (owner None: unassigned, in the tier's or team's queue)."""
    if decision is not None:
        reason = decision.reason
    elif after.owner is not None and after.owner == before.owner:
        reason = f"kept: {after.owner} works at tier {after.tier} or above"
    else:
        reason = f"{'team ' + after.team if after.team else f'tier {after.tier}'} assigns by hand"
    return {
        "case": case_id,
        "tier": after.tier,
        "team": after.team,
        "owner": after.owner,
        "reason": reason,
    }


def on_call_for(conn, policy, case: Case, now: int):
    """Whom an unowned case's notifications name: the on-call person of its team (when
    the team has a rotation) or of its tier, or the next in the rotation while they are
    away; None without a rotation or anyone to take it."""
    settings = routing.settings_for(policy, case, True)
    if settings.oncall is None and settings.scope.startswith("team:"):
        settings = routing.settings_for(policy, case, False)
    rotation = settings.oncall
    if rotation is None:
        return None
    scheduled = rotation.on_call(now)
    for handle in [scheduled, *rotation.after(scheduled, now)]:
        owner = people.get_owner(conn, handle)
        if owner is not None and routing.available(owner, 0, now, ignore_capacity=True):
            return owner
    return None


# -- away and back ------------------------------------------------------------------------


def owner_away(env, handle: str, until: str, reason: str | None) -> dict:
    """`owner away HANDLE --until TIME|SPAN`: routing skips them until then; the cases
    they own stay theirs."""
    from esc_cli.domain import lifecycle
    from esc_cli.errors import UsageError

    instant = _until(env, until)
    if instant <= env.now:
        raise UsageError(f"--until {until} is not later than now")
    if reason is not None:
        reason = lifecycle.check_text(reason, "--reason").strip() or None
    return _set_away(env, handle, instant, reason)


def owner_back(env, handle: str) -> dict:
    return _set_away(env, handle, None, None)


def _set_away(env, handle: str, until: int | None, reason: str | None) -> dict:
    from esc_cli.domain import lifecycle
    from esc_cli.domain.documents import owner_document

    with env.store().write() as conn:
        owner = lifecycle.require_owner(people.get_owner(conn, handle), handle)
        owner = replace(owner, away_until=until, away_reason=reason)
        people.save_owner(conn, owner)
        return owner_document(owner, people.load(conn, handle), env.now)


def _until(env, text: str) -> int:
    """An ISO-8601 time (read in --tz without an offset) or a span from now (`3d`)."""
    from esc_cli.domain.spans import parse_span
    from esc_cli.env import parse_instant

    try:
        return env.now + parse_span(text)
    except ValueError:
        return parse_instant(text, env.tz, "--until")


# -- who is on call ------------------------------------------------------------------------


def oncall(env, at: str | None = None) -> list[dict]:
    """`esc oncall`: each tier's and team's rotation at `at` (default now): who is on
    call, who would take a case now (the next in the rotation while they are away),
    until when, and the next handoffs."""
    from esc_cli.domain.model import iso
    from esc_cli.env import parse_instant
    from esc_cli.services.policies import Policies

    instant = parse_instant(at, env.tz, "--at") if at is not None else env.now
    with env.store().read() as conn:
        policy = Policies(conn).current
        owners = {o.handle: o for o in people.list_owners(conn)}
    scopes = [
        (f"tier:{level}", level, None, tier.name, tier.oncall)
        for level, tier in sorted(policy.tiers.items())
        if tier.oncall is not None
    ]
    scopes += [
        (settings.scope, None, name, name, settings.oncall)
        for name, settings in sorted(policy.teams.items())
        if settings.oncall is not None
    ]
    result = []
    for scope, level, team, name, rotation in scopes:
        handle = rotation.on_call(instant)
        owner = owners.get(handle)
        takes = next(
            (
                h
                for h in [handle, *rotation.after(handle, instant)]
                if h in owners and routing.available(owners[h], 0, instant, ignore_capacity=True)
            ),
            None,
        )
        changes = rotation.changes(instant, 3)
        result.append(
            {
                "scope": scope,
                "tier": level,
                "team": team,
                "name": name,
                "on_call": handle,
                "override": rotation.override_at(instant) is not None,
                "away_until": iso(owner.away_until)
                if owner is not None and routing.is_away(owner, instant)
                else None,
                "takes_cases": takes,
                "until": iso(changes[0][0]) if changes else None,
                "next": [{"at": iso(when), "handle": who} for when, who in changes],
                "timezone": rotation.timezone,
            }
        )
    return result


# -- what routing would do, for explain's plan --------------------------------------------


def planner(conn, policy):
    """A `route(case, new_events, at)` for domain.plan.upcoming: whom routing would pick
    at each planned escalation, from the owners, their loads and round-robin's memory as
    they are now (read only; the plan's own picks advance round-robin). None when the
    policy routes nothing."""
    if not (
        getattr(policy, "teams", None)
        or any(t.assign != "manual" or t.oncall for t in policy.tiers.values())
    ):
        return None
    owners = people.list_owners(conn)
    by_handle = {o.handle: o for o in owners}
    loads = people.loads_of(conn, [o.handle for o in owners if o.active])
    last = dict(conn.execute("SELECT scope, last_handle FROM routing_state").fetchall())

    def route(case: Case, new_events: list[Event], at: int):
        asked = routing.trigger(case, new_events)
        if asked is None:
            return case, [], None
        settings = routing.settings_for(policy, case, asked[1])
        if not settings.routes:
            return case, [], None
        decision = routing.choose(
            case, settings, owners, loads, at, last.get(settings.scope), policy.top_tier
        )
        if decision.handle is None:
            return case, [], None
        last[settings.scope] = decision.handle
        return (
            replace(case, owner=decision.handle),
            [routing.assigned_event(case, decision, at)],
            by_handle[decision.handle],
        )

    return route
