"""An import row's history as events: a row's `events` checked as a legal walk through
the state machine (`_check_events`, `_record_from_events`), or the events a row's
fields imply (`history`, in the order records.py's docstring gives), and the case row
an imported record becomes (`case_of`). Pure, as records.py is."""

from __future__ import annotations

from esc_cli.domain.model import (
    CHANNELS,
    EVENT_KINDS,
    STATES,
    Case,
    Event,
    case_with_defaults,
    iso,
)
from esc_cli.domain.record_values import (
    MOVES,
    CaseRecord,
    Checker,
    RowError,
    _string,
    _unknown,
    parse_time,
)
from esc_cli.domain.values import filled
from esc_cli.domain.record_values import _default_category


def _check_events(value, checker: Checker, errors: list[str]) -> tuple[Event, ...] | None:
    if not isinstance(value, list):
        errors.append(f"events must be a list, got {type(value).__name__}")
        return None
    events: list[Event] = []
    for index, item in enumerate(value, start=1):
        where = f"events[{index}]"
        if not isinstance(item, dict):
            errors.append(f"{where} must be an object")
            return None
        unknown = _unknown(item, ("at", "actor", "kind", "field", "from", "to", "reason"))
        if unknown:
            errors.append(f"{where}: unknown field '{unknown[0]}'")
            return None
        try:
            at = parse_time(item.get("at"), f"{where}.at", checker)
            actor = item.get("actor")
            if not isinstance(actor, str) or not actor.strip():
                raise RowError(f"{where}.actor must be a non-empty text")
            kind = item.get("kind")
            if kind not in EVENT_KINDS:
                raise RowError(f"{where}.kind {kind!r} is not an event kind")
            parts = []
            for key in ("field", "from", "to", "reason"):
                part = item.get(key)
                if part is not None and not isinstance(part, str):
                    if isinstance(part, int) and not isinstance(part, bool):
                        part = str(part)
                    else:
                        raise RowError(f"{where}.{key} must be text or null")
                if part is not None:
                    _string(part, f"{where}.{key}")
                parts.append(part)
        except RowError as err:
            errors.append(str(err))
            return None
        if events and at < events[-1].at:
            errors.append(
                f"{where} at {iso(at)} is earlier than the event before it: events must be in time order"
            )
            return None
        events.append(Event(at, actor, kind, *parts))
    if not events:
        errors.append("events is empty (a case's history starts with its opened event)")
        return None
    if events[0].kind != "opened":
        errors.append(f"events[1] is {events[0].kind!r}: a case's history starts with 'opened'")
        return None
    state = None
    for index, event in enumerate(events, start=1):
        if event.field != "state" or event.to_value is None:
            continue
        move = (event.from_value, event.to_value)
        if index == 1:
            if move != (None, "new"):
                errors.append("events[1]: an opened event moves the state from null to 'new'")
                return None
        elif event.from_value != state or move not in MOVES:
            errors.append(
                f"events[{index}]: {event.kind} moves {event.from_value} -> "
                f"{event.to_value}, but the case is {state} there"
            )
            return None
        state = event.to_value
    problems = _value_problems(events, checker)
    if problems:
        errors.extend(problems)
        return None
    return tuple(events)


_CSAT = ("1", "2", "3", "4", "5")


def _value_problems(events: list[Event], checker: Checker) -> list[str]:
    """What in restored events no command could have written: the report and the rules
    read these values (a CSAT of 9 would be averaged, a priority `p9` matched), so they
    are held to the commands' checks, with the state each event happened in."""
    from esc_cli.domain.policy import PRIORITIES

    problems = []
    state = None
    for index, event in enumerate(events, start=1):
        where = f"events[{index}]"
        field, old, new = event.field, event.from_value, event.to_value
        if event.kind == "feedback":
            if field != "csat" or new not in _CSAT or (old is not None and old not in _CSAT):
                problems.append(
                    f"{where}: feedback sets csat to 1..5 (from the earlier score or null), "
                    f"got field {field!r} from {old!r} to {new!r}"
                )
            elif state not in ("resolved", "closed"):
                problems.append(
                    f"{where}: feedback is only given when resolved or closed, but the case is {state} there"
                )
        elif field == "priority" and (new not in PRIORITIES or old not in PRIORITIES):
            problems.append(
                f"{where}: priority {old!r} -> {new!r} is not a move between "
                f"{', '.join(PRIORITIES)}"
            )
        elif field == "tier":
            for value in (old, new):
                if value is None and event.kind != "opened":
                    problems.append(f"{where}: a tier change names both tiers")
                    break
                if value is not None and not (
                    value.isascii() and value.isdigit() and int(value) in checker.policy.tiers
                ):
                    problems.append(
                        f"{where}: tier {value!r} is not on the ladder (1..{checker.policy.top_tier})"
                    )
                    break
        elif field == "channel" and new not in CHANNELS:
            problems.append(f"{where}: channel {new!r} is not one of {', '.join(CHANNELS)}")
        elif field == "state" and new is not None and new not in STATES:
            problems.append(f"{where}: state {new!r} is not one of {', '.join(STATES)}")
        if field == "state" and new is not None:
            state = new
    return problems


def _last_value(events, field: str, default):
    for event in reversed(events):
        if event.field == field:
            return event.to_value
    return default


def _record_from_events(
    values: dict, given: set, events: tuple[Event, ...], errors: list[str], checker: Checker
) -> CaseRecord | None:
    from esc_cli.domain.sla import timeline

    line = timeline(list(events))
    opened = events[0].at
    if values["opened_at"] is not None and values["opened_at"] != opened:
        errors.append(
            f"opened_at {iso(values['opened_at'])} is not the time of its opened event ({iso(opened)})"
        )
    if values["state"] is not None and values["state"] != line.state:
        errors.append(
            f"state {values['state']} does not match its events, which leave it {line.state}"
        )
    for name, derived in (
        ("acknowledged_at", line.first_response),
        ("resolved_at", line.resolved_at),
        ("closed_at", line.closed_at),
    ):
        if values[name] is not None and values[name] != derived:
            errors.append(
                f"{name} {iso(values[name])} does not match its events ({iso(derived) or 'none'})"
            )
    version = values["policy_version"]
    if version is not None and checker.policy_versions and version not in checker.policy_versions:
        errors.append(f"policy_version {version} is not among the file's policy versions")
    # Fields the record leaves out are what its events last set them to.
    tier = values["tier"]
    if tier is None:
        last = _last_value(events, "tier", "1")
        tier = int(last) if str(last).isdigit() else 1
        if tier not in checker.policy.tiers:
            errors.append(f"its events leave it at tier {tier}, which is not on the ladder")
    owner = values["owner"]
    if "owner" not in given:
        owner = _last_value(events, "owner", None)
        if owner is not None and owner not in checker.owners:
            errors.append(f"its events assign it to unknown owner {owner!r}")
    team = values["team"] if "team" in given else _last_value(events, "team", None)
    csat = values["csat"]
    if csat is None and "csat" not in given:
        last = _last_value(events, "csat", None)
        csat = int(last) if last is not None and str(last).isdigit() else None
    if errors:
        return None
    return CaseRecord(
        id=values["id"],
        title=values["title"],
        customer=values["customer"],
        priority=values["priority"],
        category=_default_category(values, checker),
        channel=values["channel"] or "other",
        description=values["description"],
        tier=tier,
        team=team,
        owner=owner,
        tags=values["tags"],
        csat=csat,
        state=line.state,
        opened_at=opened,
        acknowledged_at=line.first_response,
        resolved_at=line.resolved_at,
        closed_at=line.closed_at,
        paused_since=None,
        escalated=False,
        events=events,
        policy_version=version,
    )


def history(record: CaseRecord, actor: str, now: int) -> list[Event]:
    """The events a row's fields imply (see the module docstring), in time order."""
    _event = _new_event
    if record.events is not None:
        return list(record.events)
    opened = record.opened_at
    events = [_event(opened, actor, "opened", "state", None, "new", "imported")]
    if record.escalated:
        events.append(
            _event(
                opened,
                actor,
                "escalated",
                "tier",
                "1",
                str(record.tier),
                f"imported at tier {record.tier}",
            )
        )
    if record.owner:
        events.append(_event(opened, actor, "assigned", "owner", None, record.owner, None))
    state = "new"
    if record.acknowledged_at is not None:
        events.append(
            _event(record.acknowledged_at, actor, "acknowledged", "state", "new", "open", None)
        )
        state = "open"
    if record.state == "pending":
        at = record.paused_since if record.paused_since is not None else now
        events.append(
            _event(at, actor, "pending", "state", "open", "pending", "imported as pending")
        )
    if record.resolved_at is not None:
        events.append(
            _event(record.resolved_at, actor, "resolved", "state", state, "resolved", "imported")
        )
        if record.csat is not None:
            events.append(
                _event(record.resolved_at, actor, "feedback", "csat", None, str(record.csat), None)
            )
    if record.closed_at is not None:
        events.append(
            _event(record.closed_at, actor, "closed", "state", "resolved", "closed", None)
        )
    return events


def _new_event(at, actor, kind, field=None, from_value=None, to_value=None, reason=None) -> Event:
    """Event(...) without its frozen __init__ (values.filled): several per imported row."""
    return filled(
        Event,
        {
            "at": at,
            "actor": actor,
            "kind": kind,
            "field": field,
            "from_value": from_value,
            "to_value": to_value,
            "reason": reason,
        },
    )


def case_of(record: CaseRecord, case_id: int, policy_version: int) -> Case:
    """The case row before its derived fields are settled from the events (as Case(...)
    makes it, without its frozen __init__: once per imported row)."""
    opened = record.opened_at
    return case_with_defaults(
        {
            "id": case_id,
            "title": record.title,
            "customer": record.customer,
            "priority": record.priority,
            "category": record.category,
            "channel": record.channel,
            "opened_at": opened,
            "policy_version": policy_version,
            "description": record.description,
            "tier": record.tier,
            "team": record.team,
            "owner": record.owner,
            "state": record.state,
            "tags": record.tags,
            "csat": record.csat,
            "tier_since": opened,
            "last_activity_at": opened,
            "last_event_at": opened,
        }
    )
