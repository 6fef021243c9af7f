"""What the sweep does to one case at one instant, and when it next has work there.

`plan` is the only place that decides warnings, breaches, escalations and closes;
`explain` asks `next_action` (built on the same functions) what comes next, so the
prediction and the sweep cannot disagree.
"""

from __future__ import annotations

from dataclasses import field

from esc_cli.domain.model import SWEEP_ACTOR, Case, Event, Owner, iso
from esc_cli.domain.sla import trace_clocks
from esc_cli.domain.values import replace, value

ESCALATING_CLOCKS = ("response", "resolution")


@value
class SweepPlan:
    """What a sweep at one instant does to one case."""

    warn: tuple[tuple[str, int], ...] = ()  # (clock, due)
    breach: tuple[tuple[str, int], ...] = ()
    escalate_to: int | None = None
    escalate_reason: str | None = None
    escalate_cause: str | None = None  # "breach" | "stale"
    close: bool = False
    skipped: bool = False  # the case has history later than the sweep's "now"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def empty(self) -> bool:
        return not (self.warn or self.breach or self.escalate_to or self.close)


def _recorded(events: list[Event]) -> set[tuple[str, str | None, str | None]]:
    return {
        (e.kind, e.field, e.to_value) for e in events if e.kind == "warned" or e.kind == "breached"
    }


def stale_deadline(case: Case, policy) -> int | None:
    """When a breached case at its tier counts as stale: `stale_after` of calendar time
    after the later of its last human activity and its arrival at the tier."""
    tier = policy.tiers.get(case.tier)
    if tier is None or tier.stale_after is None or case.tier >= policy.top_tier:
        return None
    target = policy.priorities.get(case.priority)  # a stored priority is canonical
    calendar = (
        policy.calendar(target.calendar)
        if target is not None
        else policy.calendar_for(case.priority)
    )
    return calendar.add(max(case.last_activity_at, case.tier_since), tier.stale_after)


def plan(
    case: Case, events: list[Event], policy, now: int, clocks: dict | None = None
) -> SweepPlan:
    """`clocks`: the case's `trace_clocks`, when the caller has replayed them already."""
    if case.last_event_at > now:
        return SweepPlan(skipped=True)
    if case.state == "resolved":
        due_close = case.resolved_at is not None and case.resolved_at + policy.close_after <= now
        return SweepPlan(close=due_close)
    if case.state not in ("new", "open"):
        return SweepPlan()
    done = _recorded(events)
    if clocks is None:
        clocks = trace_clocks(policy, case.priority, case.opened_at, events)
    warn, breach, breached_now = [], [], []
    for name, clock in clocks.items():
        if clock.state != "running" or clock.due_at is None:
            continue
        # most cases have recorded no warning or breach: then no instant need be formatted
        due_text = iso(clock.due_at) if done else None
        if now >= clock.due_at:
            breached_now.append(name)
            if ("breached", name, due_text) not in done:
                breach.append((name, clock.due_at))
        elif clock.warn_at is not None and now >= clock.warn_at:
            if ("warned", name, due_text) not in done:
                warn.append((name, clock.due_at))
    owned_by = _owner_deadline(case, policy)
    if (
        owned_by is not None
        and now >= owned_by
        and (not done or ("warned", OWNER_CLOCK, iso(owned_by)) not in done)
    ):
        warn.append((OWNER_CLOCK, owned_by))  # unowned past own_within: warned once
    escalate_to = reason = cause = None
    if case.tier < policy.top_tier:
        newly = [name for name, _ in breach if name in ESCALATING_CLOCKS]
        if newly:
            escalate_to, cause = case.tier + 1, "breach"
            # every clock breached in this run, as the one notification covers them all
            reason = _joined([name for name, _ in breach]) + " SLA breached"
        elif any(name in ESCALATING_CLOCKS for name in breached_now):
            deadline = stale_deadline(case, policy)
            if deadline is not None and now >= deadline:
                escalate_to, cause = case.tier + 1, "stale"
                span = policy.tiers[case.tier].stale_after
                from esc_cli.domain.spans import format_span

                reason = f"stale: no activity at tier {case.tier} for {format_span(span)}"
    return SweepPlan(tuple(warn), tuple(breach), escalate_to, reason, cause)


# each clock's actions as _candidates names them: warn, escalate, breach
_ACTIONS = {
    name: (f"warn:{name}", f"escalate:{name}", f"breach:{name}")
    for name in ("response", "update", "resolution")
}


def _candidates(
    case: Case, events: list[Event], policy, clocks: dict | None = None
) -> list[tuple[int, str, int | None]]:
    """(instant, action, tier) for every future sweep action, given no other change."""
    if case.state == "resolved" and case.resolved_at is not None:
        return [(case.resolved_at + policy.close_after, "close", None)]
    if case.state not in ("new", "open"):
        return []
    done = _recorded(events)
    if clocks is None:
        clocks = trace_clocks(policy, case.priority, case.opened_at, events)
    found: list[tuple[int, str, int | None]] = []
    can_climb = case.tier < policy.top_tier
    earliest_breach = None
    for name, clock in clocks.items():
        due = clock.due_at
        if clock.state != "running" or due is None:
            continue
        due_text = iso(due) if done else None
        escalates = name in ESCALATING_CLOCKS
        if escalates and (not earliest_breach or due < earliest_breach):
            earliest_breach = due
        if done and ("breached", name, due_text) in done:
            continue
        warn = clock.warn_at
        if warn is not None and warn < due and (not done or ("warned", name, due_text) not in done):
            found.append((warn, _ACTIONS[name][0], None))
        if escalates and can_climb:
            found.append((due, _ACTIONS[name][1], case.tier + 1))
        else:
            found.append((due, _ACTIONS[name][2], None))
    deadline = stale_deadline(case, policy)
    if deadline is not None and earliest_breach is not None:
        found.append((max(deadline, earliest_breach), "escalate:stale", case.tier + 1))
    owned_by = _owner_deadline(case, policy)
    if (
        owned_by is not None
        and ("warned", OWNER_CLOCK, iso(owned_by) if done else None) not in done
    ):
        found.append((owned_by, f"warn:{OWNER_CLOCK}", None))
    return found


# The pseudo-clock of `own_within` (issue 21): a `warned` event with field "owner" and
# the instant the case should have had an owner by, written once per arrival at a tier.
OWNER_CLOCK = "owner"


_OWNS: dict[int, tuple] = {}


def own_within_spans(policy) -> list[int]:
    """Every own_within the policy sets, its tiers' and its teams' (issue 21): the sweep's
    warning, `queue`'s and `overdue`'s flags and `overdue`'s rows all start from them."""
    spans = [t.own_within for t in policy.tiers.values() if getattr(t, "own_within", None)]
    return spans + [
        t.own_within for t in (getattr(policy, "teams", None) or {}).values() if t.own_within
    ]


def _owns_within(policy) -> bool:
    """Whether any tier or team of the policy sets own_within (remembered per policy:
    `policy try` asks for every sweep it replays)."""
    kept = _OWNS.get(id(policy))
    if kept is not None and kept[0] is policy:
        return kept[1]
    owns = bool(own_within_spans(policy))
    if len(_OWNS) > 8:
        _OWNS.clear()
    _OWNS[id(policy)] = (policy, owns)
    return owns


def _owner_deadline(case: Case, policy) -> int | None:
    # most cases have an owner, and most policies no own_within: then nothing to import
    if case.owner is not None or not _owns_within(policy):
        return None
    from esc_cli.domain.routing import owner_deadline

    return owner_deadline(case, policy)


def next_run_at(case: Case, events: list[Event], policy, clocks: dict | None = None) -> int | None:
    """The instant the sweep next has something to do for this case (indexed in the store).
    `clocks`: the case's `trace_clocks`, when the caller has replayed them already."""
    found = _candidates(case, events, policy, clocks)
    return min([item[0] for item in found]) if found else None


def next_action(case: Case, events: list[Event], policy, now: int | None = None) -> dict | None:
    """What the sweep will do next and when: `{action, at, tier, clock}` for `explain`.

    `action` is one of warn, breach, escalate, close; `clock` names the clock concerned
    (`stale` for a re-escalation of an idle case); `tier` is the tier an escalation
    goes to. When several things fall on one instant the weightiest is named. At `now`,
    a clock whose due instant has passed unswept is breached by the next sweep, never
    warned first (SPEC §3.1): its warning, past too, is not what comes next."""
    found = _candidates(case, events, policy)
    if now is not None:
        overdue = {
            action.partition(":")[2]
            for at, action, _ in found
            if at <= now and not action.startswith("warn:")
        }
        found = [
            item
            for item in found
            if not (item[1].startswith("warn:") and item[0] <= now and item[1][5:] in overdue)
        ]
    if not found:
        return None
    rank = {"escalate": 0, "close": 1, "breach": 2, "warn": 3}
    at, action, tier = min(found, key=lambda item: (item[0], rank[item[1].partition(":")[0]]))
    verb, _, clock = action.partition(":")
    return {"action": verb, "at": at, "tier": tier, "clock": clock or None}


def _joined(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def apply(
    case: Case, plan: SweepPlan, policy, now: int, current_owner: Owner | None
) -> tuple[Case, list[Event]]:
    """The case after the sweep carries out `plan`, and the events that record it.

    The owner is kept through an escalation only when their tier reaches the new one,
    exactly as with a manual escalation; otherwise the case waits, unassigned, in the
    new tier's queue."""
    events: list[Event] = []
    for clock, due in plan.warn:
        events.append(
            Event(
                now,
                SWEEP_ACTOR,
                "warned",
                clock,
                None,
                iso(due),
                f"no owner at tier {case.tier} since {iso(case.tier_since)}"
                if clock == OWNER_CLOCK
                else f"{clock} SLA at risk",
            )
        )
    for clock, due in plan.breach:
        events.append(
            Event(now, SWEEP_ACTOR, "breached", clock, None, iso(due), f"{clock} SLA breached")
        )
    if plan.escalate_to is not None:
        events.append(
            Event(
                now,
                SWEEP_ACTOR,
                "escalated",
                "tier",
                str(case.tier),
                str(plan.escalate_to),
                plan.escalate_reason,
            )
        )
        owner = case.owner
        if owner is not None and (current_owner is None or current_owner.tier < plan.escalate_to):
            events.append(
                Event(now, SWEEP_ACTOR, "assigned", "owner", owner, None, plan.escalate_reason)
            )
            owner = None
        case = replace(case, tier=plan.escalate_to, owner=owner)
    if plan.close:
        from esc_cli.domain.spans import format_span

        events.append(
            Event(
                now,
                SWEEP_ACTOR,
                "closed",
                "state",
                "resolved",
                "closed",
                f"resolved for {format_span(policy.close_after)}",
            )
        )
        case = replace(case, state="closed")
    return case, events


def worst_clock(case: Case, now: int, horizon: int | None = None) -> tuple[int, str, int] | None:
    """The clock `overdue` lists a case by: `(band, clock, due)` with band 0 breached,
    1 at risk, 2 falling due before `horizon`; within a band the earliest due. Reads
    only the stored columns, like the queue."""
    state = case.state
    if state not in ("new", "open"):
        return None
    running = (
        ("response", case.respond_warn, case.respond_by, case.acknowledged_at is None),
        ("update", case.update_warn, case.update_by, state == "open"),
        ("resolution", case.resolve_warn, case.resolve_by, True),
    )
    best = None
    for name, warn, due, runs in running:
        if not runs or due is None:
            continue
        if now >= due:
            band = 0
        elif warn is not None and now >= warn:
            band = 1
        elif horizon is not None and due <= horizon:
            band = 2
        else:
            continue
        if best is None or (band, due) < (best[0], best[2]):
            best = (band, name, due)
    return best
