"""The write path every use case shares: read a case under the write lock, let the
domain move it, then `_save` (trigger rules, routing, settled clocks, the events and
the notifications they cause) in the same transaction; and the case id every command
names."""

from __future__ import annotations

from esc_cli.domain import lifecycle
from esc_cli.domain.documents import case_document
from esc_cli.domain.model import Case, Event, Owner
from esc_cli.domain.values import replace
from esc_cli.errors import UsageError
from esc_cli.services.policies import Policies
from esc_cli.store import cases as case_rows
from esc_cli.store import owner_times, people


def parse_case_id(text: str) -> int:
    """`42` or `#42`, exactly: no spaces, signs, underscores or other digits (SPEC §4)."""
    raw = str(text)
    if raw.startswith("#"):
        raw = raw[1:]
    if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):
        raise UsageError(f"'{text}' is not a case id (a positive integer such as 42 or #42)")
    if len(raw.lstrip("0")) > 19:  # int() refuses past 4300 digits
        raise UsageError(f"'{text}' is not a case id (too large)")
    value = int(raw)
    if value >= 2**63:  # past the store's integers: it cannot name a case
        raise UsageError(f"'{text}' is not a case id (too large)")
    return value


def _owner_and_load(conn, handle: str) -> tuple[Owner, int]:
    owner = lifecycle.require_owner(people.get_owner(conn, handle), handle)
    return owner, people.load(conn, handle)


def _save(
    conn,
    env,
    pols: Policies,
    case: Case,
    old_events: list[Event],
    new_events: list[Event],
    policy,
    run_rules: bool,
    now: int | None = None,
    stored: Case | None = None,
) -> Case:
    """Run the trigger rules if asked, settle the derived fields, and write the case,
    its new events and the notifications they cause, all in the caller's transaction.
    `stored`: the case as read in this transaction, so only changed columns are written."""
    from esc_cli.domain import notices, rules
    from esc_cli.store import outbox

    now = env.now if now is None else now
    events = old_events + new_events
    current = pols.current
    if run_rules and current.rules and case.state != "closed":

        def lookup(handle):
            owner = people.get_owner(conn, handle)
            return owner, people.load(conn, handle) if owner else 0

        before = case.priority
        case, rule_events = rules.apply_rules(case, events, current, now, lookup)
        if rule_events:
            if case.priority != before:
                case = replace(case, policy_version=pols.current_id)
                policy = current
            new_events = new_events + rule_events
            events = events + rule_events
    decision = None
    routes = current.teams or any(t.assign != "manual" or t.oncall for t in current.tiers.values())
    if routes and case.owner is None and case.state != "closed":
        from esc_cli.services import routing

        if routing.might_route(case, new_events):
            # an escalation (by anyone) or an opening gets its owner in this transaction
            case, routed, decision = routing.route(conn, case, new_events, current, now)
            new_events = new_events + routed
            events = events + routed
    case = lifecycle.settle(case, events, policy)
    case_rows.update_case(conn, case, stored)
    case_rows.append_events(conn, case.id, new_events)  # type: ignore[arg-type]  # a stored case
    # how each escalation's wait for an owner ended, for esc report (store/owner_times.py)
    owner_times.save(conn, case.id, case.priority, case.owner, events, new_events)  # type: ignore[arg-type]  # a stored case
    created = []
    if any(e.kind in ("escalated", "warned", "breached") for e in new_events) or (
        decision is not None and decision.handle is None
    ):
        owner = people.get_owner(conn, case.owner) if case.owner else None
        if owner is None and routes:
            from esc_cli.services.routing import on_call_for

            owner = on_call_for(conn, current, case, now)  # notifications name the on-call person
        channels = [c.name for c in current.channels]
        payloads = notices.notifications_for(
            case,
            new_events,
            owner.email if owner else None,
            owner.handle if owner else None,
            earlier=len(old_events),
        )
        if decision is not None and decision.handle is None:
            payloads.append(
                notices.unowned(case, new_events[-1], decision.reason, position=len(events) - 1)
            )
        for payload in payloads:
            if outbox.add(conn, payload, channels, now):
                created.append(payload)
    case.extra["notifications"] = created
    case.extra["routing"] = decision  # whom routing chose, if it was asked (the sweep's result)
    return case


def load_case(conn, pols: Policies, case_id: int):
    """A case, its history, and the policy its clocks are computed under."""
    case = case_rows.get_case(conn, case_id)
    return case, case_rows.get_events(conn, case_id), pols.for_case(case)


def _mutate(env, case_id, move, run_rules: bool = False) -> dict:
    """Load a case under the write lock, apply `move(conn, case, policy, pols)` and save it."""
    case_id = parse_case_id(case_id)
    store = env.store()

    def work():
        with store.write() as conn:
            pols = Policies(conn)
            case, events, policy = load_case(conn, pols, case_id)
            changed, new_events = move(conn, case, policy, pols)
            if new_events:
                if changed.policy_version != case.policy_version:
                    policy = pols.for_version(changed.policy_version)
                changed = _save(
                    conn, env, pols, changed, events, new_events, policy, run_rules, stored=case
                )
            return case_document(changed, pols.tier_names(), env.now)

    return store.retrying(work)
