"""`esc sweep` (SPEC §3): warn, record breaches, escalate, close, then deliver.

Work is found through the indexed `cases.sweep_at`. Cases are claimed, re-read and
changed in short write transactions of a few dozen cases each, one SAVEPOINT per case:
on SQLite sweeps running at once serialise on the write lock and the later one finds
nothing left to do; on PostgreSQL each claims cases the others do not hold (`FOR UPDATE
SKIP LOCKED`) and they share the work. A sweep killed half-way leaves every case either
fully swept or untouched. A transaction ends after TXN_CASES cases or once it has run
for TXN_SECONDS, whichever comes first, so an interactive command never waits long
behind a sweep working through a backlog.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from esc_cli.domain import notices
from esc_cli.domain import sweep as sweep_domain
from esc_cli.domain.model import iso
from esc_cli.store import people, sweep_queries

# A transaction per case cost a commit (and its share of WAL checkpoints) per case, a
# quarter of a 1,000-case sweep's time. 100 cases hold the write lock for about 50 ms
# on an idle machine; on a loaded one the time cap ends the batch first.
TXN_CASES = 100
TXN_SECONDS = 0.2
LOAD_CASES = 25
# A backlog this large gets a progress bar (on a terminal only).
PROGRESS_FROM = 200


class _Run:
    def __init__(self, now: int, dry_run: bool):
        self.now = now
        self.dry_run = dry_run
        self.checked = 0
        self.warned: list[dict] = []
        self.breached: list[dict] = []
        self.escalated: list[dict] = []
        self.closed: list[dict] = []
        self.created: list[dict] = []  # notification payloads written (or that would be)
        self.routed: list[dict] = []  # where each escalation left its case (routing.landing)
        self.preview: Any = None  # dry run: routing without writing (routing.Preview), one per run


def sweep(
    env, dry_run: bool = False, progress: Callable[[int], Callable[[], None]] | None = None
) -> dict:
    """Sweep every case with work due at `env.now`; returns the result document of
    SPEC §4 (plus `dry_run`). `progress(total)` returns a per-case callback."""
    store = env.store()
    store.tune_for_sweep()
    now = env.now
    run = _Run(now, dry_run)
    tick = None
    if progress is not None:
        with store.read() as conn:
            total = sweep_queries.count_due(conn, now)
        if total >= PROGRESS_FROM:
            tick = progress(total)
    after = None
    revisit_guard: set[int] = set()
    # a policy version's text never changes once stored: parse each one once per run,
    # while each transaction still looks up which version is current
    parsed: dict[int, object] = {}
    policy: Any = None
    while True:
        finished, after, policy = _sweep_cases(store, env, parsed, after, run, revisit_guard, tick)
        if finished:
            break
    from esc_cli.store import outbox

    states: dict[str, list[tuple[str, str]]] = {}
    earlier: list = []  # notifications written by earlier runs that this one re-sent
    failures: list[dict] = []
    failed = not_tried = 0
    channels = [c.name for c in policy.channels]
    if dry_run:
        # what the real run would send again: its channels' deliveries due now
        with store.read() as conn:
            due = outbox.due_notifications(conn, channels, now)
    else:
        from esc_cli.services import notify

        done = notify.deliver(store, policy, now)
        known = {p["id"] for p in run.created}
        for attempt in done.attempts:
            if attempt.notification_id not in known:
                known.add(attempt.notification_id)
                earlier.append(attempt)
        ids = [p["id"] for p in run.created] + [a.notification_id for a in earlier]
        if ids:
            with store.read() as conn:
                states = outbox.delivery_states(conn, ids)
        failures = _failures(done.attempts)
        # what this run tried and saw fail: a notification another sweep claimed is
        # that sweep's to count, and one left waiting on a channel that went down was
        # not tried at all
        failed = len({a.notification_id for a in done.attempts if not a.delivered})
        not_tried = done.not_tried

    def entry(note_id, case, kind, recipient) -> dict:
        found = states.get(note_id, [])
        return {
            "case": case,
            "kind": kind,
            "recipient": recipient,
            "delivered": bool(found) and all(state == "delivered" for _, state in found),
        }

    # `notified` holds what this run wrote, so sweeps running at once never count one
    # notification twice; re-sends of older ones are `retried`
    notified = [entry(p["id"], p["case"], p["kind"], p["recipient_label"]) for p in run.created]
    if dry_run:
        retried = [entry(*row) for row in due]
    else:
        retried = [entry(a.notification_id, a.case, a.kind, a.recipient) for a in earlier]
    return {
        "now": iso(now),
        "dry_run": dry_run,
        "checked": run.checked,
        "warned": run.warned,
        "breached": run.breached,
        "escalated": run.escalated,
        "closed": run.closed,
        "routed": run.routed,
        "notified": notified,
        "retried": retried,
        "failed": failed,
        "not_tried": not_tried,
        "channels": len(policy.channels),
        "failures": failures,
    }


def _sweep_cases(
    store,
    env,
    parsed: dict,
    after: tuple[int, int] | None,
    run: _Run,
    revisit_guard: set[int],
    tick,
) -> tuple[bool, tuple[int, int] | None, Any]:
    """Sweep due cases after the keyset `after`, in (sweep_at, id) order, in one
    transaction (a read snapshot when dry): up to TXN_CASES cases, or fewer once the
    transaction has run for TXN_SECONDS. Returns (nothing due is left, the keyset of
    the last case swept, the current policy).

    The cases are claimed inside the transaction, LOAD_CASES at a time with their
    histories (sweep_queries.claim_due: on PostgreSQL `FOR UPDATE SKIP LOCKED`, so two
    sweeps running at once each take cases the other does not hold, and never wait for
    one another). Each case has its own SAVEPOINT: a case that fails is undone alone,
    the ones swept before it are committed, and the error goes on up, as when every
    case had a transaction of its own."""
    from esc_cli.services.policies import Policies

    dry = run.dry_run
    taken = 0
    with store.read() if dry else store.write() as conn:
        pols = Policies(conn)
        pols._parsed = parsed
        policy = pols.current  # parsed once per transaction, not once per case
        started = time.monotonic()
        owners: dict = {}  # the few dozen owners, each read once per transaction
        while taken < TXN_CASES:
            # the cases and their histories, LOAD_CASES at a time (two queries), read
            # under the lock this transaction holds; no more than the caps leave room for
            cases = sweep_queries.claim_due(
                conn, run.now, after, min(LOAD_CASES, TXN_CASES - taken)
            )
            if not cases:
                return True, after, policy
            histories = sweep_queries.events_by_case(
                conn,
                [c.id for c in cases if c.id not in revisit_guard],  # type: ignore[misc]
            )
            for case in cases:
                if taken and time.monotonic() - started >= TXN_SECONDS:
                    return False, after, policy
                after = (case.sweep_at, case.id)  # type: ignore[assignment]  # a due case has both
                case_id = case.id
                if case_id in revisit_guard:
                    continue  # moved later in this run but still due: not looked at again
                taken += 1
                history = histories.get(case_id, [])  # type: ignore[arg-type]
                if dry:
                    again = _sweep_case(conn, env, pols, case, history, run, owners)
                else:
                    later = getattr(conn, "later", conn.execute)  # sent with the next read
                    later("SAVEPOINT sweep_case")
                    try:
                        again = _sweep_case(conn, env, pols, case, history, run, owners)
                    except BaseException:
                        if conn.in_transaction:
                            try:
                                conn.execute("ROLLBACK TO sweep_case")
                                conn.execute("RELEASE sweep_case")
                                conn.execute("COMMIT")
                            except store.errors:
                                pass  # store.write rolls the whole batch back instead
                        raise
                    later("RELEASE sweep_case")
                if again:
                    revisit_guard.add(case_id)  # type: ignore[arg-type]
                if tick is not None:
                    tick()
    return False, after, policy


def _sweep_case(conn, env, pols, case, events, run: _Run, owners: dict) -> bool:
    """Plan and (unless dry) carry out the sweep of one case, as read in the caller's
    transaction with its `events`. Returns True when the case may still look due in
    this run (so it is not revisited)."""
    from esc_cli.domain import lifecycle
    from esc_cli.services.write_path import _save

    now = run.now
    if case is None or case.sweep_at is None or case.sweep_at > now:
        return False  # another sweep got here first, or a write rescheduled it
    case_id = case.id
    run.checked += 1
    policy = pols.for_case(case)
    plan = sweep_domain.plan(case, events, policy, now)
    if plan.skipped:
        return True
    if plan.empty:
        # scheduled early (a policy or ladder change asks for a look): reschedule
        upcoming = sweep_domain.next_run_at(case, events, policy)
        if upcoming != case.sweep_at and not run.dry_run:
            sweep_queries.set_sweep_at(conn, case_id, upcoming)
        return upcoming is not None and upcoming <= now
    owner = None
    if case.owner:
        if case.owner not in owners:
            owners[case.owner] = people.get_owner(conn, case.owner)
        owner = owners[case.owner]
    changed, new_events = sweep_domain.apply(case, plan, policy, now, owner)
    for clock, _ in plan.warn:
        run.warned.append({"case": case_id, "clock": clock})
    for clock, _ in plan.breach:
        run.breached.append({"case": case_id, "clock": clock})
    if plan.escalate_to is not None:
        run.escalated.append(
            {
                "case": case_id,
                "from": case.tier,
                "to": plan.escalate_to,
                "reason": plan.escalate_reason,
            }
        )
    if plan.close:
        run.closed.append({"case": case_id})
    if run.dry_run:
        from esc_cli.services import routing

        # whom routing would give the escalation to, decided as a real sweep decides it
        # (_save), remembered for this run only
        decision = None
        current = pols.current
        if (
            plan.escalate_to is not None
            and changed.owner is None
            and (
                current.teams
                or any(t.assign != "manual" or t.oncall for t in current.tiers.values())
            )
        ):
            run.preview = run.preview or routing.Preview(conn)
            changed, routed, decision = run.preview.route(changed, new_events, current, now)
            new_events = new_events + routed
        settled = lifecycle.settle(changed, events + new_events, policy)
        new_owner = people.get_owner(conn, settled.owner) if settled.owner else None
        run.created.extend(
            notices.notifications_for(
                settled,
                new_events,
                new_owner.email if new_owner else None,
                earlier=len(events),
            )
        )
        if decision is not None and decision.handle is None:
            run.created.append(
                notices.unowned(
                    settled,
                    new_events[-1],
                    decision.reason,
                    position=len(events) + len(new_events) - 1,
                )
            )
        if plan.escalate_to is not None:
            run.routed.append(routing.landing(case_id, case, settled, decision))
        return False
    saved = _save(
        conn, env, pols, changed, events, new_events, policy, run_rules=False, now=now, stored=case
    )
    run.created.extend(saved.extra.get("notifications", []))
    if plan.escalate_to is not None:
        from esc_cli.services.routing import landing

        run.routed.append(landing(case_id, case, saved, saved.extra.get("routing")))
    return saved.sweep_at is not None and saved.sweep_at <= now


def _failures(attempts) -> list[dict]:
    """Each failure of this run: the one that stopped a channel (`case` null; one line in
    the cron mail however many notifications were waiting on it), and each notification
    that failed alone on a channel that went on (its `case`)."""
    return [
        {
            "channel": a.channel,
            "case": None if a.channel_failed else a.case,
            "error": a.error,
            "next_attempt_at": iso(a.next_attempt_at),
        }
        for a in attempts
        if not a.delivered
    ]


# -- reads that answer "what is late, and why" ------------------------------------------


def overdue(
    env,
    tier: int | None = None,
    team: str | None = None,
    within: str | None = None,
    documents: bool = True,
) -> list[dict]:
    """SPEC §4 `overdue`: breached and at-risk unresolved cases, one row per case by its
    worst clock, worst first; `within` adds running clocks falling due before now+SPAN.
    Each case object gains `clock`, `clock_status` (breached|at_risk|due_soon),
    `clock_due`, `overdue_by` and `due_in` (seconds, null when they do not apply).
    `documents=False`: instead of the whole case document, only the fields the table
    and the tab-separated view print."""
    from esc_cli.domain import lifecycle
    from esc_cli.domain.documents import case_document
    from esc_cli.errors import UsageError
    from esc_cli.services.policies import Policies

    now = env.now
    horizon = now
    if within is not None:
        from esc_cli.domain.spans import parse_span

        try:
            horizon = now + parse_span(within)
        except ValueError as err:
            raise UsageError(f"--within: {err}") from None
    team = team.strip() if team is not None else None
    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        if tier is not None:
            lifecycle.check_tier(pols.current, tier)
        if team:  # a team nothing names is a mistake, as in the queue (services/filters.py)
            from esc_cli.services.filters import checked

            checked(conn, pols.current, {"team": team}, env.user)
        # a terminal or a pipe prints a dozen fields: thousands of whole cases, each
        # made into a full case document (ten instants formatted), would be most of the run
        rows = sweep_queries.overdue(
            conn, now, horizon, tier, team or None, None if documents else _OVERDUE_COLUMNS
        )
        unowned = _unowned_past_own_within(
            conn, pols.current, now, tier, team or None, None if documents else _OVERDUE_COLUMNS
        )
        names = pols.tier_names()
    ranked = []
    listed = set()
    for case in rows:
        worst = sweep_domain.worst_clock(case, now, horizon if within is not None else None)
        if worst is None:
            continue
        band, clock, due = worst
        listed.add(case.id)
        ranked.append(((band, due, _PRIORITY_ORDER.get(case.priority, 9), case.id), case, worst))
    for case, due in unowned:
        # an escalation nobody took within own_within is overdue too (issue 21), after
        # the breached clocks and before those only at risk; a case listed for a
        # clock keeps that row, flagged unowned_overdue as every row is
        if case.id not in listed:
            order = (_UNOWNED_BAND, due, _PRIORITY_ORDER.get(case.priority, 9), case.id)
            ranked.append((order, case, (_UNOWNED_BAND, "owner", due)))
    ranked.sort(key=lambda item: (_RANK[item[0][0]], *item[0][1:]))
    result = []
    pairs = []
    for _, case, (band, clock, due) in ranked:
        if documents:
            document = case_document(case, names, now)
        else:
            document = {
                "id": case.id,
                "priority": case.priority,
                "state": case.state,
                "tier": case.tier,
                "owner": case.owner,
                "team": case.team,
                "customer": case.customer,
                "title": case.title,
            }
        document["clock"] = clock
        document["clock_status"] = _STATUS[band]
        document["clock_due"] = iso(due)
        document["overdue_by"] = now - due if now >= due else None
        document["due_in"] = due - now if due > now else None
        result.append(document)
        pairs.append((case, document))
    from esc_cli.services.cases import flag_unowned

    flag_unowned(pols.current, pairs, now)
    return result


_PRIORITY_ORDER = {"urgent": 0, "high": 1, "medium": 2, "low": 3}
# worst_clock's bands (0 breached, 1 at risk, 2 due soon) and one for an escalation
# unowned past own_within, ranked between breached and at risk
_UNOWNED_BAND = 3
_STATUS = ("breached", "at_risk", "due_soon", "unowned")
_RANK = (0, 2, 3, 1)


def _unowned_past_own_within(conn, policy, now: int, tier, team, columns) -> list[tuple]:
    """(case, the instant it should have had an owner by) of the unowned cases past
    their own_within; none when the policy sets no own_within (no read at all)."""
    from esc_cli.domain.routing import owner_deadline

    spans = sweep_domain.own_within_spans(policy)
    if not spans:
        return []
    found = []
    for case in sweep_queries.unowned_waiting(conn, now - min(spans), tier, team, columns):
        due = owner_deadline(case, policy)
        if due is not None and due <= now:
            found.append((case, due))
    return found


# what worst_clock reads and the overdue table prints (documents=False)
_OVERDUE_COLUMNS = (
    "id",
    "priority",
    "state",
    "tier",
    "owner",
    "team",
    "customer",
    "title",
    "acknowledged_at",
    "respond_warn",
    "respond_by",
    "update_warn",
    "update_by",
    "resolve_warn",
    "resolve_by",
    "tier_since",
)


def explain(env, case_id) -> dict:
    """SPEC §4 `explain`: each clock as the sweep computes it, and the sweep's next move
    on the case, from the same domain functions the sweep runs."""
    from esc_cli.domain.documents import clock_document
    from esc_cli.domain.sla import trace_clocks
    from esc_cli.services.policies import Policies
    from esc_cli.services.write_path import load_case, parse_case_id

    case_id = parse_case_id(case_id)
    now = env.now
    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        case, events, policy = load_case(conn, pols, case_id)
        names = pols.tier_names()
        current_version = pols.current_id
        owner = people.get_owner(conn, case.owner) if case.owner else None
        channels = tuple(c.name for c in pols.current.channels)
        from esc_cli.services.routing import planner

        route = planner(conn, pols.current)
    calendar = policy.calendar_for(case.priority)
    clocks = []
    for trace in trace_clocks(policy, case.priority, case.opened_at, events).values():
        document = clock_document(trace, now, calendar)
        if trace.state == "running" and trace.due_at is not None:
            # the working time that makes up the target: from the start to the due instant
            document["worked"] = clock_document(trace, trace.due_at, calendar)["worked"]
        clocks.append(document)
    upcoming = sweep_domain.next_action(case, events, policy, now)
    if upcoming is not None:
        upcoming = dict(upcoming, at=iso(upcoming["at"]))
        if upcoming["action"] == "escalate":
            upcoming["tier_name"] = names.get(upcoming["tier"])
    stale = sweep_domain.stale_deadline(case, policy)
    steps = plan_steps(case, events, policy, now, owner, channels, names, route)
    return {
        "case": case.id,
        "title": case.title,
        "priority": case.priority,
        "state": case.state,
        "tier": case.tier,
        "tier_name": names.get(case.tier),
        "owner": case.owner,
        "policy_version": case.policy_version,
        "current_policy_version": current_version,
        "warn_fraction": policy.warn_at,
        "stale_from": iso(stale) if stale is not None and case.state in ("new", "open") else None,
        "clocks": clocks,
        # the priority's calendar as the policy wrote it (null for 24x7)
        "calendar": policy.calendar_specs.get(policy.priorities[case.priority].calendar),
        "next": upcoming,
        "plan": steps,
    }


def plan_steps(
    case,
    events,
    policy,
    now: int,
    owner,
    channels: tuple[str, ...],
    tier_names: dict[int, str],
    route=None,
) -> list[dict]:
    """`domain.plan.upcoming` as JSON: instants in ISO-8601 UTC, and the name of each
    tier a step escalates to. For any screen that says "what happens next" (explain,
    the email body)."""
    from esc_cli.domain.plan import upcoming

    steps = upcoming(case, events, policy, now, owner, channels, route=route)
    for step in steps:
        step["at"] = iso(step["at"])
        step["due"] = iso(step["due"])
        step["to_tier_name"] = tier_names.get(step["to_tier"]) if step["to_tier"] else None
    return steps
