"""The case state machine of SPEC §1: each move checks the case, then returns the new
case and the events to append. Nothing here touches the store or the clock."""

from __future__ import annotations

from esc_cli.domain import sla, sweep
from esc_cli.domain.model import (
    CHANNELS,
    TEXT_MAX_BYTES,
    TITLE_MAX,
    Case,
    Event,
    Owner,
    iso,
)
from esc_cli.domain.values import replace
from esc_cli.errors import Conflict, NotFound, UsageError

Change = tuple[Case, list[Event]]


# -- checks ------------------------------------------------------------------


def _require_state(case: Case, allowed: tuple[str, ...], action: str) -> None:
    if case.state not in allowed:
        raise Conflict(f"cannot {action} case #{case.id}: it is {case.state}")


def _require_in_order(case: Case, now: int) -> None:
    if now < case.last_event_at:
        raise Conflict(
            f"case #{case.id} has history at {iso(case.last_event_at)}, later than "
            f"{iso(now)}: events must stay in time order"
        )


def _writable(case: Case, now: int, action: str) -> None:
    _require_in_order(case, now)
    if case.state == "closed":
        raise Conflict(f"cannot {action} case #{case.id}: it is closed")


def check_text(value: str, what: str, required: bool = False) -> str:
    if value is None:
        return value
    if required and not value.strip():
        raise UsageError(f"{what} must not be empty")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: bytes that were never UTF-8
        raise UsageError(f"{what} is not valid UTF-8 text") from None
    if size > TEXT_MAX_BYTES:
        raise UsageError(f"{what} is longer than 1 MiB")
    return value


def check_title(title: str) -> str:
    check_text(title, "title", required=True)
    if len(title) > TITLE_MAX:
        raise UsageError(f"title is {len(title)} characters, more than {TITLE_MAX}")
    return title


def check_tags(tags) -> tuple[str, ...]:
    """Tags trimmed, blanks dropped, duplicates folded. `;` joins tags in CSV and in
    `changed` events, so a tag may not contain one."""
    result = []
    for tag in tags:
        value = check_text((tag or "").strip(), "tag")
        if ";" in value:
            raise UsageError(f"tag '{value}' contains ';' (it separates tags)")
        if value and value not in result:
            result.append(value)
    return tuple(result)


def check_team(team: str | None) -> str | None:
    return check_text((team or "").strip(), "team") or None


def check_channel(channel: str) -> str:
    value = channel.lower()
    if value not in CHANNELS:
        raise UsageError(f"unknown channel '{channel}' (use {', '.join(CHANNELS)})")
    return value


def check_category(policy, category: str) -> str:
    value = category
    for known in policy.categories:
        if known.lower() == value.lower():
            return known
    raise UsageError(f"unknown category '{category}' (use {', '.join(policy.categories)})")


def check_priority(priority: str) -> str:
    from esc_cli.domain.policy import normalise_priority

    try:
        return normalise_priority(priority)
    except ValueError as err:
        raise UsageError(str(err)) from None


def check_tier(policy, tier: int) -> int:
    if tier not in policy.tiers:
        raise UsageError(f"tier {tier} is not on the ladder (1..{policy.top_tier})")
    return tier


def check_capacity(owner: Owner, load: int, force: bool, hint: str) -> None:
    """Capacity guards every assignment a person asks for (assign, take, open --owner,
    escalate --owner), as it guards trigger rules."""
    if owner.capacity is not None and load >= owner.capacity and not force:
        raise Conflict(
            f"{owner.handle} is at capacity ({load} of {owner.capacity} cases)", hint=hint
        )


def settle(case: Case, events: list[Event], policy) -> Case:
    """Recompute every event-derived field, including when the sweep next has work."""
    case, clocks = sla.project_traced(case, events, policy)
    # `case` is the new object project_traced just made, seen by no one else yet: set its
    # last derived field in place rather than copying all of them once more
    object.__setattr__(case, "sweep_at", sweep.next_run_at(case, events, policy, clocks))
    return case


# -- moves -------------------------------------------------------------------


def open_case(
    *,
    title: str,
    customer: str,
    priority: str,
    category: str,
    channel: str,
    description: str,
    tier: int,
    team: str | None,
    owner: Owner | None,
    tags: tuple[str, ...],
    policy,
    policy_version: int,
    now: int,
    actor: str,
    owner_load: int = 0,
) -> Change:
    check_title(title)
    check_text(customer, "customer", required=True)
    check_text(description or "", "description")
    case = Case(
        id=None,
        title=title,
        customer=customer,
        priority=check_priority(priority),
        category=check_category(policy, category),
        channel=check_channel(channel),
        opened_at=now,
        policy_version=policy_version,
        description=description or "",
        tier=check_tier(policy, tier),
        team=check_team(team),
        owner=owner.handle if owner else None,
        state="new",
        tags=check_tags(tags),
        tier_since=now,
        last_activity_at=now,
        last_event_at=now,
    )
    if owner is not None and not owner.active:
        raise Conflict(f"owner '{owner.handle}' is inactive")
    if owner is not None:
        check_capacity(
            owner, owner_load, False, "open it without --owner, then esc assign ID HANDLE --force"
        )
    opened = [Event(now, actor, "opened", "state", None, "new", None)]
    if owner is not None:
        # the history says who owns the case, as an import's does (record_events.history):
        # the report's time to owner and every replay read owners from `assigned` events
        opened.append(Event(now, actor, "assigned", "owner", None, owner.handle, None))
    return case, opened


def acknowledge(case: Case, now: int, actor: str) -> Change:
    _require_in_order(case, now)
    _require_state(case, ("new",), "acknowledge")
    return replace(case, state="open"), [Event(now, actor, "acknowledged", "state", "new", "open")]


def assign(
    case: Case,
    owner: Owner,
    load: int,
    force: bool,
    now: int,
    actor: str,
    reason: str | None = None,
) -> Change:
    _writable(case, now, "assign")
    if not owner.active:
        raise Conflict(f"owner '{owner.handle}' is inactive")
    if case.owner == owner.handle:
        return case, []
    check_capacity(owner, load, force, "use --force to assign anyway")
    event = Event(now, actor, "assigned", "owner", case.owner, owner.handle, reason)
    return replace(case, owner=owner.handle), [event]


def unassign(case: Case, now: int, actor: str, reason: str) -> Change:
    if case.owner is None:
        return case, []
    return replace(case, owner=None), [
        Event(now, actor, "assigned", "owner", case.owner, None, reason)
    ]


def note(case: Case, text: str, customer_visible: bool, now: int, actor: str) -> Change:
    check_text(text, "note", required=True)  # a bad value is exit 2 in any state
    _writable(case, now, "add a note to")
    if not customer_visible:
        return case, [Event(now, actor, "note", None, None, None, text)]
    if case.state == "new":
        event = Event(now, actor, "customer_update", "state", "new", "open", text)
        return replace(case, state="open"), [event]
    return case, [Event(now, actor, "customer_update", None, None, None, text)]


def _owner_after_climb(
    case: Case, new_tier: int, owner: Owner | None, current_owner: Owner | None
) -> str | None:
    if owner is not None:
        return owner.handle
    if current_owner is not None and current_owner.tier >= new_tier:
        return current_owner.handle
    return None


def escalate(
    case: Case,
    policy,
    *,
    reason: str,
    to: int | None,
    team: str | None,
    owner: Owner | None,
    current_owner: Owner | None,
    now: int,
    actor: str,
    owner_load: int = 0,
    force: bool = False,
) -> Change:
    check_text(reason, "reason", required=True)
    if team is not None:
        team = check_team(team)
        if team is None:
            raise UsageError("--team must not be empty")
        if to is None and team == case.team:
            # like --to at the current tier: nothing would move
            raise UsageError(f"case #{case.id} is already with team {team}")
    top = policy.top_tier
    if to is not None and (to <= case.tier or to > top):
        if to > top:
            raise UsageError(f"tier {to} is beyond the ladder (top is {top})")
        raise UsageError(
            f"tier {to} is not above case #{case.id}'s tier {case.tier} (use esc deescalate)"
        )
    _writable(case, now, "escalate")
    if owner is not None and not owner.active:
        raise Conflict(f"owner '{owner.handle}' is inactive")
    if owner is not None and owner.handle != case.owner:
        check_capacity(owner, owner_load, force, "use --force to assign anyway")
    functional = team is not None and to is None
    if functional:
        new_tier = case.tier
    else:
        if case.tier >= top:
            raise Conflict(f"case #{case.id} is already at the top tier ({top})")
        new_tier = to if to is not None else case.tier + 1
    events = []
    if new_tier != case.tier:
        events.append(Event(now, actor, "escalated", "tier", str(case.tier), str(new_tier), reason))
        if team is not None and team != case.team:
            events.append(Event(now, actor, "changed", "team", case.team, team, reason))
    else:
        events.append(Event(now, actor, "escalated", "team", case.team, team, reason))
    new_owner = _owner_after_climb(case, new_tier, owner, current_owner)
    if new_owner != case.owner:
        events.append(Event(now, actor, "assigned", "owner", case.owner, new_owner, reason))
    changed = replace(
        case, tier=new_tier, team=team if team is not None else case.team, owner=new_owner
    )
    return changed, events


def deescalate(case: Case, policy, *, reason: str, to: int | None, now: int, actor: str) -> Change:
    check_text(reason, "reason", required=True)
    if to is not None:
        if to < 1 or to > policy.top_tier:
            raise UsageError(f"tier {to} is not on the ladder (1..{policy.top_tier})")
        if to >= case.tier:
            raise UsageError(
                f"tier {to} is not below case #{case.id}'s tier {case.tier} (use esc escalate)"
            )
    _writable(case, now, "de-escalate")
    if case.tier <= 1:
        raise Conflict(f"case #{case.id} is already at tier 1")
    new_tier = to if to is not None else case.tier - 1
    event = Event(now, actor, "deescalated", "tier", str(case.tier), str(new_tier), reason)
    return replace(case, tier=new_tier), [event]


def set_pending(case: Case, reason: str, now: int, actor: str) -> Change:
    check_text(reason, "reason", required=True)
    _require_in_order(case, now)
    _require_state(case, ("open",), "set pending")
    return replace(case, state="pending"), [
        Event(now, actor, "pending", "state", "open", "pending", reason)
    ]


def resume(case: Case, now: int, actor: str) -> Change:
    _require_in_order(case, now)
    _require_state(case, ("pending",), "resume")
    return replace(case, state="open"), [Event(now, actor, "resumed", "state", "pending", "open")]


def resolve(case: Case, resolution: str, now: int, actor: str) -> Change:
    check_text(resolution, "resolution", required=True)
    _require_in_order(case, now)
    _require_state(case, ("new", "open", "pending"), "resolve")
    event = Event(now, actor, "resolved", "state", case.state, "resolved", resolution)
    return replace(case, state="resolved"), [event]


def reopen(case: Case, reason: str, now: int, actor: str) -> Change:
    check_text(reason, "reason", required=True)
    _require_in_order(case, now)
    _require_state(case, ("resolved",), "reopen")
    return replace(case, state="open"), [
        Event(now, actor, "reopened", "state", "resolved", "open", reason)
    ]


def close(case: Case, now: int, actor: str, reason: str | None = None) -> Change:
    _require_in_order(case, now)
    _require_state(case, ("resolved",), "close")
    return replace(case, state="closed"), [
        Event(now, actor, "closed", "state", "resolved", "closed", reason)
    ]


def feedback(case: Case, csat: int, comment: str | None, now: int, actor: str) -> Change:
    if not 1 <= csat <= 5:
        raise UsageError(f"CSAT must be 1 to 5, got {csat}")
    check_text(comment, "comment")  # type: ignore[arg-type]  # None (no comment) passes through
    _require_in_order(case, now)
    _require_state(case, ("resolved", "closed"), "record feedback on")
    event = Event(
        now,
        actor,
        "feedback",
        "csat",
        None if case.csat is None else str(case.csat),
        str(csat),
        comment,
    )
    return replace(case, csat=csat), [event]


SETTABLE = ("priority", "category", "title", "customer", "channel", "team")


def set_fields(
    case: Case,
    policy,
    changes: dict,
    add_tags: tuple[str, ...],
    remove_tags: tuple[str, ...],
    now: int,
    actor: str,
    reason: str | None = None,
) -> Change:
    """Triage: one `changed` event per field whose value really changes."""
    checked = {}
    for name, value in changes.items():
        if value is None:
            continue
        if name == "priority":
            value = check_priority(value)
        elif name == "category":
            value = check_category(policy, value)
        elif name == "channel":
            value = check_channel(value)
        elif name == "title":
            value = check_title(value)
        elif name == "customer":
            check_text(value, "customer", required=True)
        elif name == "team":
            value = check_team(value)
        checked[name] = value
    add_tags, remove_tags = check_tags(add_tags), check_tags(remove_tags)
    _writable(case, now, "change")
    events = []
    for name, value in checked.items():
        old = getattr(case, name)
        if value != old:
            events.append(Event(now, actor, "changed", name, old, value, reason))
    tags = list(case.tags)
    for tag in add_tags:
        if tag not in tags:
            tags.append(tag)
    tags = [t for t in tags if t not in remove_tags]
    if tuple(tags) != case.tags:
        events.append(
            Event(
                now,
                actor,
                "changed",
                "tags",
                ";".join(case.tags) or None,
                ";".join(tags) or None,
                reason,
            )
        )
    updated = replace(case, **checked, tags=tuple(tags))
    return updated, events


def raises_priority(old: str, new: str) -> bool:
    from esc_cli.domain.policy import PRIORITIES

    return PRIORITIES.index(new) < PRIORITIES.index(old)


def require_owner(owner: Owner | None, handle: str) -> Owner:
    if owner is None:
        raise NotFound(f"no owner '{handle}'", hint="add one with esc owner add")
    return owner
