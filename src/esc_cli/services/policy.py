"""The policy's life in a store: `esc init` writes the first version, `esc policy
show` reads the current one, `esc policy load` adds one (and may recompute the due
times of unresolved cases)."""

from __future__ import annotations

from esc_cli.domain import lifecycle
from esc_cli.domain.values import replace
from esc_cli.errors import Conflict, UsageError
from esc_cli.services.policies import Policies
from esc_cli.store import cases as case_rows
from esc_cli.store import policies


def init_store(env, policy_text: str | None) -> tuple[bool, str]:
    from esc_cli.domain.policy import DEFAULT_POLICY_TOML, PolicyError, parse_policy
    from esc_cli.store.db import Store

    text = policy_text if policy_text is not None else DEFAULT_POLICY_TOML
    try:
        parse_policy(text)
    except PolicyError as err:
        raise UsageError(f"policy: {err}") from None
    store, _ = Store.initialise(env.db_path)
    env._store = store
    # A store is initialised by whoever writes its first policy: with several `esc init`
    # at once, one may create the schema and another, between its two transactions,
    # write the policy; deciding by the schema would let both say "initialised".
    with store.write() as conn:
        created = policies.add_first(conn, text, env.now, env.user)
    return created, str(env.db_path)


def _recheck_sweep(conn, now: int) -> None:
    """The ladder or close_after changed: cases whose next sweep action depends on them
    get looked at by the next sweep, which reschedules them."""
    case_rows.requeue_for_sweep(conn, now)


def policy_current(env) -> tuple[int, str, object]:
    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        version = pols.current_id
        return version, pols.current_text, pols.current


def policy_load(env, text: str, recompute: bool) -> dict:
    from esc_cli.domain.policy import PolicyError, parse_policy

    try:
        new_policy = parse_policy(text)
    except PolicyError as err:
        raise UsageError(f"policy: {err}") from None
    store = env.store()
    with store.write() as conn:
        highest = case_rows.highest_live_tier(conn)
        if highest > new_policy.top_tier:
            # a case left above the top of the ladder could neither climb nor be shown
            raise Conflict(
                f"the policy's ladder stops at tier {new_policy.top_tier} but cases not yet "
                f"closed are at tier {highest}",
                hint="de-escalate or close them first, or keep the tier",
            )
        version = policies.add(conn, text, env.now, env.user)
        pols = Policies(conn)
        moved_cases = moved_times = 0
        if recompute:
            moved_cases, moved_times = _recompute_all(conn, env, pols, version)
        _recheck_sweep(conn, env.now)
        return {
            "version": version,
            "recomputed": recompute,
            "cases_moved": moved_cases,
            "due_times_moved": moved_times,
        }


def _recompute_all(conn, env, pols: Policies, version: int) -> tuple[int, int]:
    policy = pols.for_version(version)
    ids = case_rows.unresolved_ids(conn)
    moved_cases = moved_times = 0
    for case_id in ids:
        case = case_rows.get_case(conn, case_id)
        events = case_rows.get_events(conn, case_id)
        updated = lifecycle.settle(replace(case, policy_version=version), events, policy)
        changes = sum(
            1
            for name in ("respond_by", "update_by", "resolve_by")
            if getattr(updated, name) != getattr(case, name)
        )
        if changes:
            moved_cases += 1
            moved_times += changes
        case_rows.update_case(conn, updated, case)
    return moved_cases, moved_times
