"""The three SLA clocks of a case, replayed from its event history.

Everything the store keeps about clocks (due and warn instants, pauses, missed flags)
is a projection of the events and the case's policy version, so `explain`, `doctor`,
`set --priority` and `policy load --recompute` all recompute the same numbers.
"""

from __future__ import annotations

from esc_cli.domain.model import SWEEP_ACTOR, Case, Event
from esc_cli.domain.summary import summarise
from esc_cli.domain.values import filled, replace, value

PAUSED_STATES = ("pending", "resolved", "closed")
RESPONSE_KINDS = ("acknowledged", "customer_update", "resolved")


@value
class ClockTrace:
    """One clock, as far as the history goes: what `explain` prints and the case stores."""

    clock: str
    target: int | None  # seconds of calendar time; None when the priority has none
    calendar: str
    zone: str
    started_at: int | None
    stopped_at: int | None  # when it stopped for good (response answered, case resolved)
    paused: tuple[tuple[int, int | None], ...]  # pauses subtracted (end None: still paused)
    warn_at: int | None
    due_at: int | None
    state: str  # running | stopped | frozen | off
    missed: bool = False  # stopped (or last cycle stopped) after its due time
    # resolution: the instant its latest cycle's outcome was (or will be) decided
    decided_at: int | None = None
    # resolution: each earlier cycle (opening or reopen to resolution) as (decided_at,
    # met); the report counts every cycle once (domain/cycles.py, docs/sla.md)
    earlier: tuple[tuple[int, bool], ...] = ()

    def status(self, now: int) -> str:
        if self.state == "running" and self.due_at is not None:
            if now >= self.due_at:
                return "breached"
            if self.warn_at is not None and now >= self.warn_at:
                return "at_risk"
            return "ok"
        if self.state in ("stopped", "frozen") and self.missed:
            return "missed"
        if self.state == "stopped":
            return "met"
        return "ok"


@value
class Timeline:
    """The moments of a history that move clocks."""

    state: str
    first_response: int | None
    pauses: tuple[tuple[int, int | None], ...]
    update_restarts: tuple[int, ...]
    update_stops: tuple[int, ...]
    resolved_at: int | None
    closed_at: int | None
    resolutions: tuple[int, ...] = ()  # every resolution, in order (the cycles' ends)


def timeline(events: list[Event]) -> Timeline:
    state = "new"
    first_response = None
    pauses: list[tuple[int, int | None]] = []
    pause_start = None
    restarts: list[int] = []
    stops: list[int] = []
    resolved_at = closed_at = None
    resolutions: list[int] = []
    for event in events:
        kind = event.kind
        if first_response is None and kind in RESPONSE_KINDS:
            first_response = event.at
            if kind != "resolved":
                restarts.append(event.at)
        elif kind == "customer_update" and state == "open":
            restarts.append(event.at)
        new_state = event.to_value
        if event.field != "state" or new_state is None:
            continue
        if new_state in PAUSED_STATES and state not in PAUSED_STATES:
            pause_start = event.at
            if state == "open":
                stops.append(event.at)
        elif new_state not in PAUSED_STATES and state in PAUSED_STATES:
            pauses.append((pause_start, event.at))  # type: ignore[arg-type]  # set on entering
            pause_start = None
            if new_state == "open":
                restarts.append(event.at)
        if new_state == "resolved":
            resolved_at = event.at
            resolutions.append(event.at)
        elif new_state == "closed":
            closed_at = event.at
        elif new_state not in PAUSED_STATES:
            resolved_at = closed_at = None
        state = new_state
    if pause_start is not None:
        pauses.append((pause_start, None))
    return filled(
        Timeline,
        {
            "state": state,
            "first_response": first_response,
            "pauses": tuple(pauses),
            "update_restarts": tuple(restarts),
            "update_stops": tuple(stops),
            "resolved_at": resolved_at,
            "closed_at": closed_at,
            "resolutions": tuple(resolutions),
        },
    )


def _trace(
    clock: str,
    target: int | None,
    calendar: str,
    zone: str,
    started_at: int | None,
    stopped_at: int | None,
    paused: tuple,
    warn_at: int | None,
    due_at: int | None,
    state: str,
    missed: bool = False,
    decided_at: int | None = None,
    earlier: tuple = (),
) -> ClockTrace:
    """ClockTrace(...) without its frozen __init__ (values.filled): three on every write
    and every imported case."""
    return filled(
        ClockTrace,
        {
            "clock": clock,
            "target": target,
            "calendar": calendar,
            "zone": zone,
            "started_at": started_at,
            "stopped_at": stopped_at,
            "paused": paused,
            "warn_at": warn_at,
            "due_at": due_at,
            "state": state,
            "missed": missed,
            "decided_at": decided_at,
            "earlier": earlier,
        },
    )


def paused_working_time(calendar, pauses, by: int | None = None) -> int:
    """How much later than its target the resolution clock falls due: each finished pause
    (each finished by `by`: the due time as it stood then) moves it by the working time
    it took."""
    return sum(
        calendar.working(start, end)
        for start, end in pauses
        if end is not None and (by is None or end <= by)
    )


def trace_clocks(
    policy,
    priority: str,
    opened_at: int,
    events: list[Event],
    line: Timeline | None = None,
    *,
    update: bool = True,
) -> dict[str, ClockTrace]:
    """All three clocks of a case with this priority and history under `policy`
    (`line`: the history's timeline, when the caller has it already; `update` False:
    the two that count in a report only, as `policy try` asks for a case's outcome)."""
    target = policy.priorities[priority]
    calendar = policy.calendar(target.calendar)
    warn_fraction = policy.warn_at
    if line is None:
        line = timeline(events)
    zone = calendar.zone
    name = calendar.name
    add = calendar.add
    # `policy try` traces each case's clocks a few times under two policies: a warning's
    # share of a target is int(round(target * warn_at)), the traces built by `filled`
    fill = filled

    # response: never paused (a case cannot wait on the customer before answering)
    respond = target.respond
    respond_due = add(opened_at, respond)
    respond_warn = add(opened_at, int(round(respond * warn_fraction)))
    first_response = line.first_response
    state = line.state
    response = fill(
        ClockTrace,
        {
            "clock": "response",
            "target": respond,
            "calendar": name,
            "zone": zone,
            "started_at": opened_at,
            "stopped_at": first_response,
            "paused": (),
            "warn_at": respond_warn,
            "due_at": respond_due,
            "state": (
                "stopped"
                if first_response is not None
                else "frozen"
                if state in PAUSED_STATES
                else "running"
            ),
            "missed": first_response is not None and first_response > respond_due,
            "decided_at": None,
        },
    )

    # resolution: due later by the working time of each finished pause
    pauses = line.pauses
    resolve = target.resolve
    paused_work = paused_working_time(calendar, pauses) if pauses else 0
    resolve_due = add(opened_at, resolve + paused_work)
    resolve_warn = add(opened_at, int(round(resolve * warn_fraction)) + paused_work)
    if state in ("resolved", "closed"):
        resolution_state = "stopped"
        stopped = line.resolved_at
    elif state == "pending":
        resolution_state, stopped = "frozen", None
    else:
        resolution_state, stopped = "running", None
    # Met or missed by the working time it ran, however it stopped: a case resolved
    # straight from pending stopped running when it was paused (docs/sla.md).
    earlier: tuple = ()
    if not pauses or (len(pauses) == 1 and pauses[0][1] is None):
        # ran once, from the opening (the common case): its breach is the due time
        breach = resolve_due if not pauses or resolve_due < pauses[0][0] else None
        decided, missed = (
            breach if breach is not None or stopped is None else stopped,
            stopped is not None and breach is not None,
        )
    else:
        # each cycle (opening or reopen to resolution) decided on its own (cycles.py)
        from esc_cli.domain.cycles import resolution_cycles

        outcomes = resolution_cycles(
            calendar,
            resolve,
            opened_at,
            pauses,
            line.resolutions,
            state not in ("resolved", "closed"),
        )
        decided, met = outcomes[-1]
        missed = stopped is not None and not met
        earlier = tuple(outcomes[:-1])  # stopped cycles: all decided
    resolution = fill(
        ClockTrace,
        {
            "clock": "resolution",
            "target": resolve,
            "calendar": name,
            "zone": zone,
            "started_at": opened_at,
            "stopped_at": stopped,
            "paused": pauses,
            "warn_at": resolve_warn,
            "due_at": resolve_due,
            "state": resolution_state,
            "missed": missed,
            "decided_at": decided,
            "earlier": earlier,
        },
    )

    if not update:
        return {"response": response, "resolution": resolution}
    # update: restarts at every customer-visible note, resume and reopen; runs only while open
    update_target = target.update
    if update_target is None or not line.update_restarts:
        update_clock = _trace(
            "update", update_target, name, zone, None, None, (), None, None, "off"
        )
    else:
        cycle_start = line.update_restarts[-1]
        due = add(cycle_start, update_target)
        warn = add(cycle_start, int(round(update_target * warn_fraction)))
        if state == "open":
            update_clock = _trace(
                "update", update_target, name, zone, cycle_start, None, (), warn, due, "running"
            )
        else:
            stop = next((s for s in line.update_stops if s >= cycle_start), None)
            update_clock = _trace(
                "update",
                update_target,
                name,
                zone,
                cycle_start,
                stop,
                (),
                warn,
                due,
                "frozen" if state == "pending" else "stopped",
                missed=stop is not None and stop > due,
            )
    return {"response": response, "update": update_clock, "resolution": resolution}


def project(case: Case, events: list[Event], policy) -> Case:
    """The case with every event-derived field recomputed from its history."""
    return project_traced(case, events, policy)[0]


def project_traced(case: Case, events: list[Event], policy) -> tuple[Case, dict[str, ClockTrace]]:
    """`project`, and the clocks it replayed (the sweep's next run needs the same ones:
    replaying the history once instead of twice halves the cost of a write)."""
    line = timeline(events)
    clocks = trace_clocks(policy, case.priority, case.opened_at, events, line)
    response, update, resolution = clocks["response"], clocks["update"], clocks["resolution"]
    running = [c for c in clocks.values() if c.state == "running"]
    tier_since = case.opened_at
    last_activity = case.opened_at
    escalations = reopened = 0
    for event in events:
        kind = event.kind
        if kind == "escalated":
            escalations += 1
            if event.field == "tier":
                tier_since = event.at
        elif kind == "reopened":
            reopened += 1
        elif kind == "deescalated" and event.field == "tier":
            tier_since = event.at
        if event.actor != SWEEP_ACTOR:
            last_activity = event.at
    return replace(
        case,
        state=line.state if events else case.state,
        acknowledged_at=line.first_response,
        resolved_at=line.resolved_at,
        closed_at=line.closed_at,
        respond_by=response.due_at,
        respond_warn=response.warn_at,
        update_by=update.due_at if update.state == "running" else None,
        update_warn=update.warn_at if update.state == "running" else None,
        resolve_by=resolution.due_at,
        resolve_warn=resolution.warn_at,
        resolution_decided_at=resolution.decided_at,
        resolution_cycles=resolution.earlier,
        # running clocks have both instants
        due_at=min((c.due_at for c in running), default=None),  # type: ignore[type-var]
        warn_at=min((c.warn_at for c in running), default=None),  # type: ignore[type-var]
        paused_since=line.pauses[-1][0] if line.state == "pending" and line.pauses else None,
        update_missed=update.state != "running" and update.missed,
        escalations=escalations,
        reopened=reopened,
        tier_since=tier_since,
        last_activity_at=last_activity,
        last_event_at=events[-1].at if events else case.opened_at,
        **summarise(events, case.opened_at, case.tier, escalations, reopened),
    ), clocks


def clock_statuses(case: Case, now: int) -> tuple[list[str], list[str], list[str]]:
    """(at_risk, breached, missed) clock names from the stored columns alone, so list
    screens need no event replay. A clock appears in at most one list."""
    at_risk: list[str] = []
    breached: list[str] = []
    missed: list[str] = []
    state = case.state
    columns = (
        (
            "response",
            case.respond_warn,
            case.respond_by,
            case.acknowledged_at is None and state in ("new", "open"),
            case.acknowledged_at is not None
            and case.respond_by is not None
            and case.acknowledged_at > case.respond_by,
        ),
        (
            "update",
            case.update_warn,
            case.update_by,
            case.update_by is not None and state == "open",
            case.update_missed,
        ),
        (
            "resolution",
            case.resolve_warn,
            case.resolve_by,
            state in ("new", "open"),
            state in ("resolved", "closed")
            and case.resolved_at is not None
            and case.resolution_decided_at is not None
            and case.resolution_decided_at < case.resolved_at,
        ),
    )
    for name, warn, due, running, was_missed in columns:
        if running and due is not None:
            if now >= due:
                breached.append(name)
            elif warn is not None and now >= warn:
                at_risk.append(name)
        elif was_missed:
            missed.append(name)
    return at_risk, breached, missed
