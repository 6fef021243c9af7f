"""Use cases: each write is one BEGIN IMMEDIATE transaction that reads the rows, asks
the domain, writes the case and its events, and commits."""

from __future__ import annotations

from esc_cli.domain import lifecycle
from esc_cli.domain.documents import case_document, owner_document
from esc_cli.domain.model import Case, Event, Owner
from esc_cli.domain.values import replace
from esc_cli.errors import Conflict, StoreError, UsageError
from esc_cli.store import cases as case_rows
from esc_cli.store import people, policies


class Policies:
    """Parsed policy versions for one transaction. SLA targets and calendars come from
    the case's recorded version; the ladder, close_after, rules, categories and channels
    always from the current one."""

    def __init__(self, conn):
        self.conn = conn
        self._parsed: dict[int, object] = {}
        self._current_id: int | None = None
        self.current_text = ""  # the current version's TOML, once current_id is read

    def _parse(self, version_id: int, text: str, document: str | None = None):
        from esc_cli.domain.policy import PolicyError, parse_policy

        if version_id not in self._parsed:
            try:
                self._parsed[version_id] = self._from_document(document) or parse_policy(text)
            except PolicyError as err:
                raise StoreError(f"stored policy version {version_id} is invalid: {err}",
                                 hint="run esc doctor") from None
        return self._parsed[version_id]

    @staticmethod
    def _from_document(document: str | None):
        """The policy from its parsed copy; None when there is none or it is damaged (the
        TOML is the source of truth; doctor reports the copy)."""
        from esc_cli.domain.policy import PolicyError, policy_from_dict

        if document is None:
            return None
        try:
            return policy_from_dict(policies.decode_document(document))
        except (PolicyError, ValueError, TypeError, AttributeError, KeyError):
            return None

    @property
    def current_id(self) -> int:
        if self._current_id is None:
            self._current_id, self.current_text, document = policies.current_parsed(self.conn)
            self._parse(self._current_id, self.current_text, document)
        return self._current_id

    @property
    def current(self):
        return self._parsed[self.current_id]

    def for_version(self, version_id: int):
        current = self.current
        if version_id == self.current_id:
            return current
        row = policies.version_parsed(self.conn, version_id)
        if row is None:
            return current
        recorded = self._parse(version_id, *row)
        return replace(recorded, tiers=current.tiers, close_after=current.close_after,
                       rules=current.rules, channels=current.channels,
                       categories=current.categories)

    def for_case(self, case: Case):
        return self.for_version(case.policy_version)

    def tier_names(self) -> dict[int, str]:
        return {level: tier.name for level, tier in self.current.tiers.items()}


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


# -- store setup -----------------------------------------------------------

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
    created = False
    with store.write() as conn:
        if policies.count(conn) == 0:
            policies.add(conn, text, env.now, env.user)
            created = True
    return created, str(env.db_path)


# -- the write path ----------------------------------------------------------

def _owner_and_load(conn, handle: str) -> tuple[Owner, int]:
    owner = lifecycle.require_owner(people.get_owner(conn, handle), handle)
    return owner, people.load(conn, handle)


def _save(conn, env, pols: Policies, case: Case, old_events: list[Event], new_events: list[Event],
          policy, run_rules: bool, now: int | None = None, stored: Case | None = None) -> Case:
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
    created = []
    if any(e.kind in ("escalated", "warned", "breached") for e in new_events) or (
            decision is not None and decision.handle is None):
        owner = people.get_owner(conn, case.owner) if case.owner else None
        if owner is None and routes:
            from esc_cli.services.routing import on_call_for

            owner = on_call_for(conn, current, case, now)  # notifications name the on-call person
        channels = [c.name for c in current.channels]
        payloads = notices.notifications_for(case, new_events, owner.email if owner else None,
                                             owner.handle if owner else None)
        if decision is not None and decision.handle is None:
            payloads.append(notices.unowned(case, new_events[-1], decision.reason))
        for payload in payloads:
            if outbox.add(conn, payload, channels, now):
                created.append(payload)
    case.extra["notifications"] = created
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
                changed = _save(conn, env, pols, changed, events, new_events, policy,
                                run_rules, stored=case)
            return case_document(changed, pols.tier_names(), env.now)

    return store.retrying(work)


def open_case(env, *, title, customer, priority, category, description, channel, owner,
              tier, team, tags) -> dict:
    store = env.store()
    return store.retrying(lambda: _open_case(store, env, title=title, customer=customer,
                                             priority=priority, category=category,
                                             description=description, channel=channel,
                                             owner=owner, tier=tier, team=team, tags=tags))


def _open_case(store, env, *, title, customer, priority, category, description, channel,
               owner, tier, team, tags) -> dict:
    with store.write() as conn:
        pols = Policies(conn)
        policy = pols.current
        owner_record, load = None, 0
        if owner:
            owner_record, load = _owner_and_load(conn, owner)
        case, events = lifecycle.open_case(
            title=title, customer=customer, priority=priority,
            category=category or ("other" if "other" in policy.categories else policy.categories[0]),
            channel=channel or "other", description=description or "",
            tier=1 if tier is None else tier,  # --tier 0 is a bad value, not tier 1
            team=team, owner=owner_record, tags=tuple(tags or ()), policy=policy,
            policy_version=pols.current_id, now=env.now, actor=env.user, owner_load=load,
        )
        case = replace(case, id=case_rows.next_case_id(conn))
        case = lifecycle.settle(case, events, policy)
        case_rows.insert_case(conn, case)
        case = _save(conn, env, pols, case, [], events, policy, run_rules=True, stored=case)
        return case_document(case, pols.tier_names(), env.now)


def acknowledge(env, case_id) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols: lifecycle.acknowledge(case, env.now, env.user))


def assign(env, case_id, handle: str, force: bool = False) -> dict:
    def move(conn, case, policy, pols):
        owner, load = _owner_and_load(conn, handle)
        return lifecycle.assign(case, owner, load, force, env.now, env.user)

    return _mutate(env, case_id, move)


def take(env, case_id, force: bool = False) -> dict:
    return assign(env, case_id, env.user, force)


def note(env, case_id, text: str, customer_visible: bool) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols:
                   lifecycle.note(case, text, customer_visible, env.now, env.user))


def escalate(env, case_id, *, reason, to=None, team=None, owner=None, force=False) -> dict:
    def move(conn, case, policy, pols):
        owner_record, load = _owner_and_load(conn, owner) if owner else (None, 0)
        current_owner = people.get_owner(conn, case.owner) if case.owner else None
        return lifecycle.escalate(case, policy, reason=reason, to=to, team=team,
                                  owner=owner_record, current_owner=current_owner,
                                  now=env.now, actor=env.user, owner_load=load, force=force)

    return _mutate(env, case_id, move)


def deescalate(env, case_id, *, reason, to=None) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols: lifecycle.deescalate(
        case, policy, reason=reason, to=to, now=env.now, actor=env.user))


def pending(env, case_id, reason: str) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols:
                   lifecycle.set_pending(case, reason, env.now, env.user))


def resume(env, case_id) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols: lifecycle.resume(case, env.now, env.user))


def resolve(env, case_id, resolution: str) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols:
                   lifecycle.resolve(case, resolution, env.now, env.user))


def reopen(env, case_id, reason: str) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols:
                   lifecycle.reopen(case, reason, env.now, env.user), run_rules=True)


def close(env, case_id) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols: lifecycle.close(case, env.now, env.user))


def feedback(env, case_id, csat: int, comment: str | None) -> dict:
    return _mutate(env, case_id, lambda conn, case, policy, pols:
                   lifecycle.feedback(case, csat, comment, env.now, env.user), run_rules=True)


def set_fields(env, case_id, changes: dict, add_tags, remove_tags) -> dict:
    if not any(v is not None for v in changes.values()) and not add_tags and not remove_tags:
        raise UsageError("nothing to change (give at least one of --priority, --category, "
                         "--title, --customer, --channel, --team, --tag, --untag)")

    def move(conn, case, policy, pols):
        changed, events = lifecycle.set_fields(case, pols.current, changes, tuple(add_tags or ()),
                                               tuple(remove_tags or ()), env.now, env.user)
        if changed.priority != case.priority:
            # A new priority means new targets: recompute from opened_at under the current policy.
            changed = replace(changed, policy_version=pols.current_id)
        return changed, events

    return _mutate(env, case_id, move, run_rules=True)


# -- reads -------------------------------------------------------------------

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
    from esc_cli.store import queries

    store = env.store()
    with store.read() as conn:
        pols = Policies(conn)
        if filters.get("owner") == "me":
            filters = dict(filters, owner=env.user)
        if filters.get("priority"):
            filters = dict(filters, priority=lifecycle.check_priority(filters["priority"]))
        if filters.get("tier") is not None:
            lifecycle.check_tier(pols.current, filters["tier"])
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

    timed = any(getattr(t, "own_within", None) for t in policy.tiers.values()) or any(
        t.own_within for t in getattr(policy, "teams", {}).values())
    if timed:
        from esc_cli.domain.routing import owner_deadline
    for case, document in pairs:
        due = owner_deadline(case, policy) if timed else None
        document["owner_due"] = iso(due)
        document["unowned_overdue"] = due is not None and now >= due


# -- ladder, people, policy ------------------------------------------------------

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
            result.append({
                "level": level,
                "name": tier.name,
                "stale_after": format_span(tier.stale_after) if tier.stale_after else None,
                "owners": [o.handle for o in members],
                "teams": teams,
                "rules": rules,
            })
        return result


def _rule_tier(rule, policy) -> int | None:
    tier = rule.then.get("tier")
    return int(tier) if tier is not None else None


def tier_add(env, level: int, name: str, stale_after: str | None) -> list[dict]:
    from esc_cli.domain.policy import dump_policy, parse_policy, with_tier
    from esc_cli.domain.spans import parse_span

    if not name.strip():
        raise UsageError("tier name must not be empty")
    if stale_after is None or stale_after.lower() == "none":
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


def _recheck_sweep(conn, now: int) -> None:
    """The ladder or close_after changed: cases whose next sweep action depends on them
    get looked at by the next sweep, which reschedules them."""
    case_rows.requeue_for_sweep(conn, now)


def owner_add(env, handle: str, name, email, tier, teams, capacity) -> dict:
    from esc_cli.domain.records import valid_handle

    if not valid_handle(handle):  # exact: " ann" is refused, not read as ann
        raise UsageError(f"{handle!r} is not a valid handle (no spaces or control characters)")
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
            email=email if email is not None else base.email,
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
        return [owner_document(o, loads.get(o.handle, 0), env.now) for o in people.list_owners(conn)]


def owner_deactivate(env, handle: str) -> dict:
    store = env.store()
    with store.write() as conn:
        owner = lifecycle.require_owner(people.get_owner(conn, handle), handle)
        pols = Policies(conn)
        for case_id in people.unresolved_case_ids(conn, handle):
            case = case_rows.get_case(conn, case_id)
            if case.last_event_at > env.now:
                raise Conflict(f"case #{case_id} has history later than now; cannot unassign")
            events = case_rows.get_events(conn, case_id)
            changed, new_events = lifecycle.unassign(case, env.now, env.user,
                                                     f"{handle} deactivated")
            _save(conn, env, pols, changed, events, new_events, pols.for_case(changed), False,
                  stored=case)
        owner = replace(owner, active=False)
        people.save_owner(conn, owner)
        return owner_document(owner, 0)


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
        return {"version": version, "recomputed": recompute, "cases_moved": moved_cases,
                "due_times_moved": moved_times}


def _recompute_all(conn, env, pols: Policies, version: int) -> tuple[int, int]:
    policy = pols.for_version(version)
    ids = case_rows.unresolved_ids(conn)
    moved_cases = moved_times = 0
    for case_id in ids:
        case = case_rows.get_case(conn, case_id)
        events = case_rows.get_events(conn, case_id)
        updated = lifecycle.settle(replace(case, policy_version=version), events, policy)
        changes = sum(
            1 for name in ("respond_by", "update_by", "resolve_by")
            if getattr(updated, name) != getattr(case, name)
        )
        if changes:
            moved_cases += 1
            moved_times += changes
        case_rows.update_case(conn, updated, case)
    return moved_cases, moved_times
