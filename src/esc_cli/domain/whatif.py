"""`esc policy try`: what a policy would have done to a case, replayed from its history.

A case's history is what people did (events by anyone but the sweep and the trigger
rules); what the sweep and the rules did follows from the policy, so they are replayed:
the policy's rules run where esc runs them (after an opening, a `set`, a feedback, a
reopen), by `rules.apply_rules`; the sweep runs whenever `sweep.next_run_at` says it
has work, doing what `sweep.plan`/`sweep.apply` decide; the clocks are
`sla.trace_clocks` of the replayed history. A person's tier move is redone by the
command that made it (`lifecycle.escalate`, `lifecycle.deescalate`) on the replayed
case, as the sweep may have moved the tier there. No rule of esc is written twice here:
this module only walks the history and keeps the few case fields those functions read.
The outcomes are added up over a window by `whatif_figures.py`.

Nothing here reads the store or the clock: the service streams the histories in.
"""

from __future__ import annotations

from esc_cli.domain import lifecycle, sweep
from esc_cli.domain import rules as trigger_rules
from esc_cli.domain.model import SWEEP_ACTOR, Case, Event
from esc_cli.domain.sla import (
    RESPONSE_KINDS,
    Timeline,
    paused_working_time,
    timeline,
    trace_clocks,
)
from esc_cli.domain.values import filled, value
from esc_cli.errors import Conflict, UsageError

_new_object = object.__new__

# a command after which esc runs the trigger rules (SPEC §3), by the event it writes
RULE_MOMENTS = ("opened", "changed", "feedback", "reopened")
# the fields a `changed` event sets on the case
_CHANGED = ("priority", "category", "title", "customer", "channel", "team")
# the kinds of event that set one of those fields, the tier or the owner
_FIELD_MOVES = frozenset(("changed", "escalated", "deescalated", "assigned"))
# what `esc escalate` writes after its tier move, with the same reason
_SAME_COMMAND = frozenset((("changed", "team"), ("assigned", "owner")))


@value
class Outcome:
    """One case under one policy: what counts in a window."""

    priority: str
    tier: int
    team: str | None
    category: str
    # (decided instant or None, met: True/False, due instant, stopped instant or None)
    response: tuple
    resolution: tuple
    warned: tuple[tuple[str, int], ...]  # (clock, instant) the sweep warned
    breached: tuple[tuple[str, int], ...]  # (clock, instant) the sweep recorded a breach
    escalated: tuple[tuple[str, int], ...]  # (cause breach|stale, instant)
    fired: tuple[tuple[str, int], ...]  # (rule name, instant)
    # the resolution clock's cycles before the latest, (decided instant, met): each
    # counts once where it was decided, as in esc report (domain/cycles.py)
    earlier: tuple[tuple[int, bool], ...] = ()
    # with `earlier`: the clock's pauses and the cycles' resolutions, kept (not worked
    # out) for the due time of a cycle whose outcome changes (resolution_cycle)
    pauses: tuple = ()
    resolutions: tuple[int, ...] = ()


def _no_owner(handle):
    # a replay does not know who will be at capacity: rule owners are not assigned
    return None, 0


def human_history(events: list[Event]) -> list[Event]:
    """What people did: the events written by neither the sweep nor a trigger rule."""
    return [e for e in events if e.actor != SWEEP_ACTOR and not e.actor.startswith("rule:")]


def initial_case(case: Case, events: list[Event]) -> Case:
    """The case as it was opened: each field the history changed, at its first `from`.
    `events`: the whole history, the sweep's and the rules' moves included (a rule that
    raised the priority, or a sweep that escalated, holds the value the case had)."""
    first: dict = {}
    for e in events:
        kind = e.kind
        if kind not in _FIELD_MOVES or e.field in first:
            continue
        if kind == "changed" and e.field in _CHANGED:
            first[e.field] = e.from_value
        elif e.field == "tier" and kind in ("escalated", "deescalated"):
            first["tier"] = int(e.from_value)  # type: ignore[arg-type]  # tier moves record both ends
        elif e.field == "owner" and kind == "assigned":
            first["owner"] = e.from_value
        elif kind == "changed" and e.field == "tags":
            first["tags"] = tuple((e.from_value or "").split(";")) if e.from_value else ()
    opened = case.opened_at
    # values.replace without its check of the names (all are Case's): once per replay
    initial = _new_object(Case)
    fields = initial.__dict__
    fields.update(case.__dict__)
    fields.update(
        state="new",
        csat=None,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        reopened=0,
        escalations=0,
        tier_since=opened,
        last_activity_at=opened,
        last_event_at=opened,
    )
    fields.update(first)
    return initial


def _moved(case: Case, events: list[Event]) -> Case:
    """The case after `events`: the fields the sweep and the rules read. One copy of
    the case for a command's events (a replay makes one per moment of a history)."""
    moved = _new_object(Case)
    fields = moved.__dict__
    fields.update(case.__dict__)
    for event in events:
        at, kind, field, to = event.at, event.kind, event.field, event.to_value
        fields["last_event_at"] = at
        if event.actor != SWEEP_ACTOR:
            fields["last_activity_at"] = at
        if field == "state" and to is not None:
            fields["state"] = to
            if to == "resolved":
                fields["resolved_at"] = at
            elif to in ("new", "open", "pending"):
                fields["resolved_at"] = None
            if kind == "reopened":
                fields["reopened"] += 1
        elif field == "tier" and kind in ("escalated", "deescalated") and to is not None:
            fields["tier"] = int(to)
            fields["tier_since"] = at
        elif kind == "changed" and field in _CHANGED:
            fields[field] = to
        elif kind == "changed" and field == "tags":
            fields["tags"] = tuple(to.split(";")) if to else ()
        elif field == "owner" and kind == "assigned":
            fields["owner"] = to
        elif kind == "feedback" and to is not None:
            try:
                fields["csat"] = int(to)
            except ValueError:
                pass
    return moved


def _as_commanded(case: Case, batch: list[Event], policy) -> list[Event]:
    """One instant's events with each person's tier move redone by the command that made
    it (lifecycle.escalate / deescalate), on the case as replayed: a sweep that escalated
    earlier under this policy leaves `esc escalate` one tier above where it left the case,
    not at the tier written down. A command refused there (at the top, or a named tier
    the case has reached) writes nothing, as the real command would not have.

    What the event tells of the command: a tier named with --to, unless it is the next
    tier (then it reads as the plain command: the two write the same event), or a tier
    move with a team change (a plain --team moves no tier). Owners are kept as recorded
    (who could own which tier is not replayed)."""
    moved: list[Event] = []
    index, length = 0, len(batch)
    while index < length:
        event = batch[index]
        index += 1
        kind = event.kind
        if event.field != "tier" or kind not in ("escalated", "deescalated"):
            moved.append(event)
            continue
        # the events `esc escalate` wrote after it: a team change, a new owner
        own = index
        while (
            kind == "escalated"
            and own < length
            and (batch[own].kind, batch[own].field) in _SAME_COMMAND
            and batch[own].actor == event.actor
            and batch[own].reason == event.reason
        ):
            own += 1
        rest, index = batch[index:own], own
        recorded = int(event.to_value)  # type: ignore[arg-type]  # tier moves record both ends
        found = int(event.from_value)  # type: ignore[arg-type]
        if found == case.tier and recorded <= policy.top_tier:
            # where the command found the case, on a ladder that has its tier: it did what
            # it wrote (most moves: the command is not run again)
            moved.append(event)
        else:
            team = next((e.to_value for e in rest if e.field == "team"), None)
            # the reason is checked by the command, not part of what it decides
            try:
                if kind == "escalated":
                    named = recorded != found + 1 or team is not None
                    done, _ = lifecycle.escalate(
                        case,
                        policy,
                        reason="replayed",
                        to=recorded if named else None,
                        team=team,
                        owner=None,
                        current_owner=None,
                        now=event.at,
                        actor=event.actor,
                    )
                else:
                    named = recorded != found - 1
                    done, _ = lifecycle.deescalate(
                        case,
                        policy,
                        reason="replayed",
                        to=recorded if named else None,
                        now=event.at,
                        actor=event.actor,
                    )
            except (Conflict, UsageError):
                continue
            moved.append(
                Event(
                    event.at,
                    event.actor,
                    kind,
                    "tier",
                    str(case.tier),
                    str(done.tier),
                    event.reason,
                )
            )
        moved.extend(rest)
        if index < length:
            # another move at this instant (an import's, a script's) starts where this one ends
            case = _moved(case, moved[-1 - len(rest) :])
    return moved


def replay(case: Case, events: list[Event], policy, until: int, skip: bool = True) -> Outcome:
    """The case's history under `policy`, the sweep run up to `until` (exclusive)."""
    return _replay(case, events, policy, until, skip)[0]


def _replay(
    case: Case, events: list[Event], policy, until: int, skip: bool = True
) -> tuple[Outcome, list[Event], Case, int | None, Timeline | None]:
    """`replay`, with the history it made, the case at its end, the instant up to
    which the sweep could act on it (None: never) and the timeline its final clocks
    were traced from (what the sweep adds after that moves no clock). `skip`: leave out
    the sweep's look-ahead where it cannot matter (_no_sweep_before; False only to test
    that)."""
    history = human_history(events)
    current = initial_case(case, events)
    replayed: list[Event] = []
    warned: list = []
    breached: list = []
    escalated: list = []
    fired: list = []
    next_sweep = None  # when the sweep next has work (None: ask again)
    # the clocks of the history so far; what the sweep writes (warnings, breaches,
    # escalations) moves no clock, so only a person's state, priority or customer
    # update makes them stale (None)
    clocks = None
    workable = None  # the latest `before` of a sweep run on a new or open case

    line: Timeline | None = None  # the timeline the clocks were traced from

    def traced() -> dict:
        nonlocal clocks, line
        if clocks is None:
            line = timeline(replayed)
            clocks = trace_clocks(policy, current.priority, case.opened_at, replayed, line)
        return clocks

    def run_sweep(before: int) -> None:
        """Every sweep run before `before`, at the instants it has work."""
        nonlocal current, next_sweep, workable
        if current.state in ("new", "open"):
            workable = before  # (a sweep changes no state)
        for _ in range(64):  # a case climbs a ladder of a few tiers: never this many
            if current.state not in ("new", "open"):
                return
            if next_sweep is None:
                next_sweep = sweep.next_run_at(current, replayed, policy, traced())
                if next_sweep is None:
                    return
                next_sweep = max(next_sweep, current.last_event_at)
            at = next_sweep
            if at >= before:
                return
            plan = sweep.plan(current, replayed, policy, at, traced())
            next_sweep = None
            if plan.empty:
                return  # nothing now: ask again after the next event
            warned.extend((clock, at) for clock, _ in plan.warn)
            breached.extend((clock, at) for clock, _ in plan.breach)
            if plan.escalate_to is not None:
                escalated.append((plan.escalate_cause, at))
            # the sweep closes nothing here: a close decides no SLA (and plan.close is
            # only ever set for a resolved case, which this loop does not visit)
            current, produced = sweep.apply(current, plan, policy, at, None)
            replayed.extend(produced)
            current = _moved(current, produced)

    index = 0
    length = len(history)
    while index < length:
        at = history[index].at
        # one command's events share an instant: the rules run after all of them
        moment = False
        stale_clocks = stale_next = False
        first = index
        while index < length and history[index].at == at:
            event = history[index]
            moment = moment or event.kind in RULE_MOMENTS
            if event.field in ("state", "priority") or event.kind == "customer_update":
                stale_clocks = True
            elif event.field == "tier":
                stale_next = True
            index += 1
        if (
            (stale_clocks or stale_next)
            and skip
            and (at <= current.last_event_at or at <= _no_sweep_before(current, policy, replayed))
        ):
            # the sweep has nothing to do before `at`, and what it would work out now
            # (its next run, the clocks) this command makes stale: not worked out
            if current.state in ("new", "open"):
                workable = at
        else:
            run_sweep(at)
        if stale_clocks:
            next_sweep = clocks = None
        elif stale_next:
            next_sweep = None
        batch = history[first:index]
        if stale_next:
            batch = _as_commanded(current, batch, policy)
        replayed.extend(batch)
        current = _moved(current, batch)
        if moment and policy.rules:
            current, produced = trigger_rules.apply_rules(current, replayed, policy, at, _no_owner)
            replayed.extend(produced)
            current = _moved(current, produced)
            for event in produced:
                fired_name = event.actor[len("rule:") :]
                if not fired or fired[-1] != (fired_name, at):
                    fired.append((fired_name, at))
            if produced:
                next_sweep = clocks = None
    run_sweep(until)

    final = traced()
    outcome = _outcome(
        current, final, tuple(warned), tuple(breached), tuple(escalated), tuple(fired), line
    )
    return outcome, replayed, current, workable, line


# -- when the sweep cannot act yet ---------------------------------------------------------
# A replay asks the sweep when it next has work after every command that moves a clock;
# most of those answers are made stale by the next command before their instant comes
# (an acknowledgement minutes after the opening). Every instant the sweep acts at is a
# running clock's warning or due instant (a stale escalation comes after a due instant),
# or an unowned case's own_within deadline. A clock runs from the opening or a later
# event, in its priority's calendar, and a pause only moves its instants later; the
# response clock no longer runs once the case has been answered. So no action comes
# before the earliest event plus, in that calendar, the least warning share of the
# targets still running. Until then the look-ahead is left out.
# tests/test_whatif_skip.py holds replays with and without this to each other over
# random histories and policies.

_SHARES: dict[int, tuple] = {}


def _least_shares(policy) -> dict[str, tuple]:
    """Per priority, the least working time before the sweep may act on one of its
    clocks (the smallest warning share, or target if smaller, of its targets): of all
    three, and of the two that run once the case has been answered; and its calendar."""
    kept = _SHARES.get(id(policy))
    if kept is not None and kept[0] is policy:
        return kept[1]
    share = policy.warn_at

    def least(*spans) -> int:
        return min(min(span, int(round(span * share))) for span in spans if span is not None)

    shares = {
        name: (
            least(target.respond, target.update, target.resolve),
            least(target.update, target.resolve),
            policy.calendar(target.calendar),
        )
        for name, target in policy.priorities.items()
    }
    if len(_SHARES) > 8:
        _SHARES.clear()
    _SHARES[id(policy)] = (policy, shares)
    return shares


def _no_sweep_before(case: Case, policy, history: list[Event]) -> int:
    """An instant before which the sweep has nothing to do for `case` with this history."""
    least, answered, calendar = _least_shares(policy)[case.priority]
    floor = case.opened_at  # no clock starts before the opening or an event
    for event in history:
        if event.at < floor:
            floor = event.at
        if event.kind in RESPONSE_KINDS:  # the response clock has stopped
            least = answered
    bound = calendar.add(floor, least)
    owned_by = sweep._owner_deadline(case, policy)
    return bound if owned_by is None else min(bound, owned_by)


def _outcome(
    case: Case,
    final: dict,
    warned: tuple,
    breached: tuple,
    escalated: tuple,
    fired: tuple,
    line: Timeline | None,
) -> Outcome:
    response, resolution = final["response"], final["resolution"]
    if response.stopped_at is not None and response.stopped_at <= response.due_at:
        response_outcome = (response.stopped_at, True, response.due_at, response.stopped_at)
    else:
        response_outcome = (response.due_at, False, response.due_at, response.stopped_at)
    decided = resolution.decided_at
    resolution_outcome = (
        decided,
        decided is not None and decided == resolution.stopped_at and not resolution.missed,
        resolution.due_at,
        resolution.stopped_at,
    )
    earlier = resolution.earlier
    # (filled: Outcome's frozen __init__ sets its fields one by one, twice for each case)
    return filled(
        Outcome,
        {
            "priority": case.priority,
            "tier": case.tier,
            "team": case.team,
            "category": case.category,
            "response": response_outcome,
            "resolution": resolution_outcome,
            "warned": warned,
            "breached": breached,
            "escalated": escalated,
            "fired": fired,
            "earlier": earlier,
            "pauses": resolution.paused if earlier else (),
            "resolutions": line.resolutions if earlier and line is not None else (),
        },
    )


def resolution_cycle(outcome: Outcome, cycle: int, policy, opened_at: int) -> tuple:
    """The resolution clock's `cycle`th cycle (0 the first; the last is
    `outcome.resolution`) as (decided instant, met, due, stopped): its due time as it
    stood when the cycle ended, as `esc show` printed it then."""
    if cycle == len(outcome.earlier):
        return outcome.resolution
    decided, met = outcome.earlier[cycle]
    stopped = outcome.resolutions[cycle]
    target = policy.priorities[outcome.priority]  # trace_clocks's, for every cycle
    calendar = policy.calendar(target.calendar)
    due = calendar.add(
        opened_at, target.resolve + paused_working_time(calendar, outcome.pauses, stopped)
    )
    return decided, met, due, stopped


# -- two policies that differ only in targets ---------------------------------------------
# A replay depends on a priority's targets only through the clocks the sweep reads, and
# the sweep acts on a clock only once its warning share of its target has run (a warning,
# then a breach at the due time, an escalation on the breach or, stale, later still). So
# until the first instant at which that can be, for any target the policies set apart, a
# case replays the same under both; a case that the sweep could act on only before that
# instant (resolved or pending for good by then) replays the same throughout, and under
# the candidate only its final clocks are traced again. tests/test_whatif_fast.py holds
# this against full replays of random histories.

_TARGETS = ("respond", "update", "resolve")


def targets_apart(current, candidate) -> dict[str, tuple[int, ...]] | None:
    """For each priority whose targets differ, both policies' differing targets (in
    seconds); None when the policies differ in anything else (calendars, the warning
    share, the ladder, rules, ...)."""

    def without_targets(policy) -> dict:
        doc = policy.raw()
        for target in doc.get("priorities", {}).values():
            for key in _TARGETS:
                target.pop(key, None)
        return doc

    if without_targets(current) != without_targets(candidate):
        return None
    apart: dict[str, tuple[int, ...]] = {}
    for name, target in current.priorities.items():
        other = candidate.priorities[name]
        spans = tuple(
            span
            for key in _TARGETS
            if getattr(target, key) != getattr(other, key)
            for span in (getattr(target, key), getattr(other, key))
            if span is not None
        )
        if spans:
            apart[name] = spans
    return apart


def _first_apart(apart: dict, policy, priorities, opened_at: int) -> int:
    """The first instant the sweep may act on a clock of a case opened at `opened_at`
    whose target differs, for a case that had these priorities: every clock starts at
    the opening or later, and a pause only moves its instants later."""
    share = policy.warn_at
    return min(
        policy.calendar_for(name).add(opened_at, min(span, int(round(span * share))))
        for name in priorities
        for span in apart.get(name, ())
    )


def replay_apart(
    case: Case, events: list[Event], current, candidate, until: int, apart: dict
) -> tuple[Outcome, Outcome]:
    """`replay` under both policies, which differ only in the targets `apart`
    (targets_apart): the candidate's replay is the current one's, final clocks aside,
    when the sweep could act on the case only before the first instant they differ."""
    outcome, replayed, final, workable, line = _replay(case, events, current, until)
    priorities = {final.priority}
    for e in replayed:
        if e.field == "priority" and e.kind == "changed":
            priorities.update(value for value in (e.from_value, e.to_value) if value)
    if not any(name in apart for name in priorities):
        return outcome, outcome  # none of its priorities' targets differ
    if workable is None or workable <= _first_apart(apart, current, priorities, case.opened_at):
        clocks = trace_clocks(
            candidate, final.priority, case.opened_at, replayed, line, update=False
        )
        return outcome, _outcome(
            final,
            clocks,
            outcome.warned,
            outcome.breached,
            outcome.escalated,
            outcome.fired,
            line,
        )
    return outcome, replay(case, events, candidate, until)
