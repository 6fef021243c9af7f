"""The ladder and the people on it: tiers (list, add) and owners (add or update, list,
deactivate)."""

from __future__ import annotations

from esc_cli.domain import lifecycle
from esc_cli.domain.documents import owner_document
from esc_cli.domain.model import Owner
from esc_cli.domain.values import replace
from esc_cli.errors import Conflict, UsageError
from esc_cli.services.policies import Policies
from esc_cli.services.policy import _recheck_sweep
from esc_cli.services.write_path import _save
from esc_cli.store import cases as case_rows
from esc_cli.store import people, policies


def tier_list(env) -> list[dict]:
    store = env.store()
    with store.read() as conn:
        policy = Policies(conn).current
        owners = [o for o in people.list_owners(conn) if o.active]
        result = []
        for level, tier in sorted(policy.tiers.items()):
            from esc_cli.domain.spans import format_span

            members = [o for o in owners if o.tier == level]
            teams = sorted({t for o in members for t in o.teams})
            rules = [r.name for r in policy.rules if _rule_tier(r, policy) == level]
            result.append(
                {
                    "level": level,
                    "name": tier.name,
                    "stale_after": format_span(tier.stale_after) if tier.stale_after else None,
                    "owners": [o.handle for o in members],
                    "teams": teams,
                    "rules": rules,
                }
            )
        return result


def _rule_tier(rule, policy) -> int | None:
    tier = rule.then.get("tier")
    return int(tier) if tier is not None else None


def tier_add(env, level: int, name: str, stale_after: str | None) -> list[dict]:
    from esc_cli.domain.policy import dump_policy, parse_policy, with_tier
    from esc_cli.domain.spans import parse_span

    if not name.strip():
        raise UsageError("tier name must not be empty")
    stale: int | None | bool = False  # False: keep an edited tier's, none for a new one
    if stale_after is None:
        pass
    elif stale_after.lower() == "none":
        stale = None
    else:
        try:
            stale = parse_span(stale_after)
        except ValueError as err:
            raise UsageError(f"--stale-after: {err}") from None
        if stale == 0:
            raise UsageError("--stale-after must be longer than 0 (or none)")
    store = env.store()
    with store.write() as conn:
        pols = Policies(conn)
        try:
            document = with_tier(pols.current.raw(), level, name.strip(), stale)
        except ValueError as err:
            raise UsageError(str(err)) from None
        text = dump_policy(document)
        parse_policy(text)
        policies.add(conn, text, env.now, env.user)
        _recheck_sweep(conn, env.now)
    return tier_list(env)


def owner_add(env, handle: str, name, email, tier, teams, capacity) -> dict:
    from esc_cli.domain.model import is_esc_actor
    from esc_cli.domain.records import valid_handle

    if not valid_handle(handle):  # exact: " ann" is refused, not read as ann
        raise UsageError(f"{handle!r} is not a valid handle (no spaces or control characters)")
    if is_esc_actor(handle):
        raise UsageError(f"{handle!r} is esc's own actor (the sweep, routing, trigger rules)")
    clear_email = email is not None and email.strip().lower() == "none"
    if email is not None and not clear_email:
        from esc_cli.domain.email_settings import is_address

        # the email channel sends to it: a line break in it was a header to inject, and
        # anything else not an address was dropped at sending time, silently
        if not is_address(email):
            raise UsageError(f"--email {email!r} is not an email address (name@example.com)")
    if capacity is not None and capacity < 0:
        raise UsageError("--capacity must be 0 or more")
    if capacity is not None and capacity > 2**62:  # past SQLite's integers
        raise UsageError(f"--capacity {capacity} is too large")
    store = env.store()
    with store.write() as conn:
        pols = Policies(conn)
        if tier is not None:
            lifecycle.check_tier(pols.current, tier)
        existing = people.get_owner(conn, handle)
        base = existing or Owner(handle)
        owner = Owner(
            handle=handle,
            name=name if name is not None else base.name,
            email=None if clear_email else email if email is not None else base.email,
            tier=tier if tier is not None else base.tier,
            teams=tuple(teams) if teams else base.teams,
            capacity=capacity if capacity is not None else base.capacity,
            active=True,
            away_until=base.away_until,  # an update is not a return from leave
            away_reason=base.away_reason,
        )
        people.save_owner(conn, owner)
        return owner_document(owner, people.load(conn, handle), env.now)


def owner_list(env) -> list[dict]:
    store = env.store()
    with store.read() as conn:
        loads = people.loads(conn)
        return [
            owner_document(o, loads.get(o.handle, 0), env.now) for o in people.list_owners(conn)
        ]


def owner_deactivate(env, handle: str) -> dict:
    store = env.store()
    with store.write() as conn:
        owner = lifecycle.require_owner(people.get_owner(conn, handle), handle)
        unassign_unresolved(conn, env, Policies(conn), handle)
        owner = replace(owner, active=False)
        people.save_owner(conn, owner)
        return owner_document(owner, 0)


def unassign_unresolved(conn, env, pols: Policies, handle: str) -> None:
    """What deactivating `handle` does to their cases (SPEC §1): each unresolved one is
    unassigned, in the caller's transaction; `esc import` of an owner with active=false
    does it too, so no inactive owner keeps a case an export could not restore."""
    for case_id in people.unresolved_case_ids(conn, handle):
        case = case_rows.get_case(conn, case_id)
        if case.last_event_at > env.now:
            raise Conflict(f"case #{case_id} has history later than now; cannot unassign")
        events = case_rows.get_events(conn, case_id)
        changed, new_events = lifecycle.unassign(case, env.now, env.user, f"{handle} deactivated")
        _save(
            conn,
            env,
            pols,
            changed,
            events,
            new_events,
            pols.for_case(changed),
            False,
            stored=case,
        )
