"""The whole plan for a case "if nothing changes": every step the sweep will take, in
time order, until its clocks end.

No rule is written here. `upcoming` asks the sweep's own functions what happens next
(`sweep.next_run_at`), what the sweep does at that instant (`sweep.plan`), carries it out
on a copy of the case (`sweep.apply`, then `lifecycle.settle`, as the sweep's save does)
and asks again; the notifications are the ones `notices.notifications_for` would write.
So business hours, holidays, pauses, stale re-escalation and the owner rule hold exactly
as in the sweep. `explain` shows the plan; other screens (the email body, routing) can
call `upcoming` for the same answer.
"""

from __future__ import annotations

from esc_cli.domain.model import Case, Event, Owner

# A safety net, not a horizon: a four-tier ladder ends in about ten steps, but a policy
# may define many tiers and the loop must end whatever the data says.
MAX_STEPS = 60


def upcoming(
    case: Case,
    events: list[Event],
    policy,
    now: int,
    owner: Owner | None = None,
    channels: tuple[str, ...] = (),
    limit: int = MAX_STEPS,
    route=None,
) -> list[dict]:
    """The sweep's future steps for `case` (as stored, with its `events`) under `policy`,
    from `now` on, assuming nobody touches the case and the sweep runs on time.

    `owner`: the case's current owner (whether they keep the case through an escalation
    depends on their tier); `channels`: the names of the channels a notification goes to.

    Each step is a dict with instants as epoch seconds: `at` (when the sweep acts: the
    scheduled instant, or `now` for work the sweep has not caught up with yet), `action`
    (warn | breach | escalate | close), `clock` (`stale` for an idle re-escalation, null
    for close), `due` (the clock's due instant), `from_tier`, `to_tier`, `owner` (after
    the step), `team`, `reason`, `notify` (`owner:bob` / `team:x` / `tier:2`, or null
    when no notification of its own is sent: a breach that escalates rides on the
    escalation's), `email` (the recipient owner's address) and `channels`.

    `route(case, new_events, at)`: routing (services/routing.planner) as it would decide
    at that step, returning (case, its `assigned` events, the Owner or None); each step
    then has `routing`, the reason of the owner it picked (or null)."""
    from esc_cli.domain import lifecycle, notices, sweep

    steps: list[dict] = []
    history = list(events)
    while len(steps) < limit:
        scheduled = sweep.next_run_at(case, history, policy)
        if scheduled is None:
            break
        # the sweep stamps its events with its own now and skips a case whose history is
        # later than that: work already due happens at the next sweep, never in the past
        at = max(scheduled, now, case.last_event_at)
        decision = sweep.plan(case, history, policy, at)
        if decision.skipped or decision.empty:
            break  # cannot happen with a consistent history; never loop on it
        changed, new_events = sweep.apply(case, decision, policy, at, owner)
        if route is not None:
            changed, routed, routed_owner = route(changed, new_events, at)
            if routed:
                new_events = new_events + routed
                owner = routed_owner
        earlier = len(history)
        history = history + new_events
        settled = lifecycle.settle(changed, history, policy)
        keeps = owner is not None and settled.owner == owner.handle
        email = owner.email if owner is not None and keeps else None
        sent = notices.notifications_for(settled, new_events, email, earlier=earlier)
        steps.extend(_steps(case, settled, decision, at, sent, channels, new_events))
        if not keeps:
            owner = None
        case = settled
    return steps


def _steps(
    before: Case,
    after: Case,
    decision,
    at: int,
    sent: list[dict],
    channels: tuple[str, ...],
    new_events: list[Event],
) -> list[dict]:
    by_kind: dict[tuple[str, str | None], dict] = {}
    for payload in sent:
        by_kind[
            (payload["kind"], payload["clock"] if payload["kind"] != "escalation" else None)
        ] = payload

    def step(
        action: str,
        clock: str | None,
        due: int | None,
        to_tier: int | None,
        reason: str | None,
        payload: dict | None,
    ) -> dict:
        return {
            "at": at,
            "action": action,
            "clock": clock,
            "due": due,
            "from_tier": before.tier,
            "to_tier": to_tier,
            "owner": after.owner,
            "team": after.team,
            "reason": reason,
            "notify": payload["recipient_label"] if payload else None,
            "email": payload["recipient"]["email"] if payload else None,
            "channels": list(channels) if payload else [],
            "routing": next((e.reason for e in new_events if e.actor == "routing"), None)
            if action == "escalate"
            else None,
        }

    result = []
    for clock, due in decision.warn:
        result.append(
            step("warn", clock, due, None, f"{clock} SLA at risk", by_kind.get(("warning", clock)))
        )
    for clock, due in decision.breach:
        result.append(
            step(
                "breach", clock, due, None, f"{clock} SLA breached", by_kind.get(("breach", clock))
            )
        )
    if decision.escalate_to is not None:
        if decision.escalate_cause == "stale":
            clock, due = "stale", None
        else:
            clock, due = decision.breach[0] if decision.breach else (None, None)
            clock = ",".join(name for name, _ in decision.breach) or None
        result.append(
            step(
                "escalate",
                clock,
                due,
                decision.escalate_to,
                decision.escalate_reason,
                by_kind.get(("escalation", None)),
            )
        )
    if decision.close:
        reason = next((e.reason for e in new_events if e.kind == "closed"), None)
        result.append(step("close", None, None, None, reason, None))
    return result
