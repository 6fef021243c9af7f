"""Working a case: open it, move it through its lifecycle (acknowledge, assign,
escalate, pending, resolve, ...), change its fields, show it, and the queue."""

from __future__ import annotations

from esc_cli.domain import lifecycle
from esc_cli.domain.documents import case_document
from esc_cli.domain.values import replace
from esc_cli.errors import UsageError
from esc_cli.services.policies import Policies
from esc_cli.services.write_path import _mutate, _owner_and_load, _save, load_case, parse_case_id
from esc_cli.store import cases as case_rows
from esc_cli.store import people


def open_case(
    env, *, title, customer, priority, category, description, channel, owner, tier, team, tags
) -> dict:
    store = env.store()
    return store.retrying(
        lambda: _open_case(
            store,
            env,
            title=title,
            customer=customer,
            priority=priority,
            category=category,
            description=description,
            channel=channel,
            owner=owner,
            tier=tier,
            team=team,
            tags=tags,
        )
    )


def _open_case(
    store,
    env,
    *,
    title,
    customer,
    priority,
    category,
    description,
    channel,
    owner,
    tier,
    team,
    tags,
) -> dict:
    with store.write() as conn:
        pols = Policies(conn)
        policy = pols.current
        owner_record, load = None, 0
        if owner is not None:
            owner_record, load = _owner_and_load(conn, owner)
        case, events = lifecycle.open_case(
            title=title,
            customer=customer,
            priority=priority,
            category=category
            if category is not None
            else ("other" if "other" in policy.categories else policy.categories[0]),
            channel=channel if channel is not None else "other",
            description=description or "",
            tier=1 if tier is None else tier,  # --tier 0 is a bad value, not tier 1
            team=team,
            owner=owner_record,
            tags=tuple(tags or ()),
            policy=policy,
            policy_version=pols.current_id,
            now=env.now,
            actor=env.user,
            owner_load=load,
        )
        case = replace(case, id=case_rows.next_case_id(conn))
        case = lifecycle.settle(case, events, policy)
        case_rows.insert_case(conn, case)
        case = _save(conn, env, pols, case, [], events, policy, run_rules=True, stored=case)
        return case_document(case, pols.tier_names(), env.now)


def acknowledge(env, case_id) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.acknowledge(case, env.now, env.user),
    )


def assign(env, case_id, handle: str, force: bool = False) -> dict:
    def move(conn, case, policy, pols):
        owner, load = _owner_and_load(conn, handle)
        return lifecycle.assign(case, owner, load, force, env.now, env.user)

    return _mutate(env, case_id, move)


def take(env, case_id, force: bool = False) -> dict:
    return assign(env, case_id, env.user, force)


def note(env, case_id, text: str, customer_visible: bool) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.note(
            case, text, customer_visible, env.now, env.user
        ),
    )


def escalate(env, case_id, *, reason, to=None, team=None, owner=None, force=False) -> dict:
    def move(conn, case, policy, pols):
        owner_record, load = _owner_and_load(conn, owner) if owner is not None else (None, 0)
        current_owner = people.get_owner(conn, case.owner) if case.owner else None
        return lifecycle.escalate(
            case,
            policy,
            reason=reason,
            to=to,
            team=team,
            owner=owner_record,
            current_owner=current_owner,
            now=env.now,
            actor=env.user,
            owner_load=load,
            force=force,
        )

    return _mutate(env, case_id, move)


def deescalate(env, case_id, *, reason, to=None) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.deescalate(
            case, policy, reason=reason, to=to, now=env.now, actor=env.user
        ),
    )


def pending(env, case_id, reason: str) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.set_pending(case, reason, env.now, env.user),
    )


def resume(env, case_id) -> dict:
    return _mutate(
        env, case_id, lambda conn, case, policy, pols: lifecycle.resume(case, env.now, env.user)
    )


def resolve(env, case_id, resolution: str) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.resolve(case, resolution, env.now, env.user),
    )


def reopen(env, case_id, reason: str) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.reopen(case, reason, env.now, env.user),
        run_rules=True,
    )


def close(env, case_id) -> dict:
    return _mutate(
        env, case_id, lambda conn, case, policy, pols: lifecycle.close(case, env.now, env.user)
    )


def feedback(env, case_id, csat: int, comment: str | None) -> dict:
    return _mutate(
        env,
        case_id,
        lambda conn, case, policy, pols: lifecycle.feedback(case, csat, comment, env.now, env.user),
        run_rules=True,
    )


def set_fields(env, case_id, changes: dict, add_tags, remove_tags) -> dict:
    if not any(v is not None for v in changes.values()) and not add_tags and not remove_tags:
        raise UsageError(
            "nothing to change (give at least one of --priority, --category, "
            "--title, --customer, --channel, --team, --tag, --untag)"
        )

    def move(conn, case, policy, pols):
        changed, events = lifecycle.set_fields(
            case,
            pols.current,
            changes,
            tuple(add_tags or ()),
            tuple(remove_tags or ()),
            env.now,
            env.user,
        )
        if changed.priority != case.priority:
            # A new priority means new targets: recompute from opened_at under the current policy.
            changed = replace(changed, policy_version=pols.current_id)
        return changed, events

    return _mutate(env, case_id, move, run_rules=True)


def show(env, case_id) -> dict:
    from esc_cli.domain.documents import clock_document
    from esc_cli.domain.sla import trace_clocks

    case_id = parse_case_id(case_id)
    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        case, events, policy = load_case(conn, pols, case_id)
        document = case_document(case, pols.tier_names(), env.now, events)
        traces = trace_clocks(policy, case.priority, case.opened_at, events)
        calendar = policy.calendar_for(case.priority)
        document["clocks"] = [clock_document(t, env.now, calendar) for t in traces.values()]
        return document


def queue(env, filters: dict, sort: str, limit: int) -> list[dict]:
    from esc_cli.services.filters import checked
    from esc_cli.store import queries

    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        filters = checked(conn, pols.current, filters, env.user)
        rows = queries.queue(conn, filters, sort, limit, env.now)
        names = pols.tier_names()
        documents = [case_document(case, names, env.now) for case in rows]
        flag_unowned(pols.current, zip(rows, documents), env.now)
        return documents


def flag_unowned(policy, pairs, now: int) -> None:
    """`owner_due` (when an unowned case should have had an owner by, under the policy's
    own_within) and `unowned_overdue` (that instant has passed) on each (case, document)
    of a queue or overdue list (issue 21)."""
    from esc_cli.domain.model import iso

    from esc_cli.domain.sweep import own_within_spans

    timed = bool(own_within_spans(policy))
    if timed:
        from esc_cli.domain.routing import owner_deadline
    for case, document in pairs:
        due = owner_deadline(case, policy) if timed else None
        document["owner_due"] = iso(due)
        document["unowned_overdue"] = due is not None and now >= due
