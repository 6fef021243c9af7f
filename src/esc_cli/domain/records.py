"""Rows of an import file (CSV or JSON) checked and turned into cases, events and owners.

Pure: a `Checker` is built from the policy, the known owners, the display zone and
"now"; `check_case` / `check_owner` return a normalised record or the reasons the row
is bad. Nothing here reads the store or the clock, so the import service can validate
a million rows before it writes one.

A case row without `events` carries its history in fields (`state`, `tier`, `owner`,
`acknowledged_at`, `resolved_at`, `closed_at`, `paused_since`, `csat`); `history`
writes the events that history implies, in time order:

    opened (opened_at) -> escalated 1->tier (opened_at, when tier > 1 and the row does
    not say `escalations = 0`) -> assigned (opened_at) -> acknowledged (acknowledged_at)
    -> pending (paused_since, else now) -> resolved (resolved_at) -> feedback
    (resolved_at) -> closed (closed_at)

A row with `events` is restored as given after checking the events are well formed,
in time order, and a legal walk through the state machine.

Owner rows and policy versions are checked in owner_records.py; what every row is
checked with (fields, the Checker, one value's checks) is in record_values.py. This
module names all of it for callers.
"""

from __future__ import annotations

from datetime import date

from esc_cli.domain.model import (
    CHANNELS,
    STATES,
    TEXT_MAX_BYTES,
    TITLE_MAX,
    UNRESOLVED,
    YEARS,
    iso,
)
from esc_cli.domain.owner_records import check_owner as check_owner
from esc_cli.domain.owner_records import check_policy_version as check_policy_version
from esc_cli.domain.owner_records import is_owner_row as is_owner_row
from esc_cli.domain.owner_records import valid_handle as valid_handle
from esc_cli.domain.record_values import DERIVED_OWNER_FIELDS as DERIVED_OWNER_FIELDS
from esc_cli.domain.record_values import OWNER_FIELDS as OWNER_FIELDS
from esc_cli.domain.record_values import (
    CASE_FIELDS,
    CASE_TYPES,
    DERIVED_FIELDS,
    MAX_ID,
    REQUIRED_CASE_FIELDS,
    _default_category,
    _EPOCH_ORDINAL,
    CaseRecord,
    Checker,
    RowError,
    _blank,
    _integer,
    _list,
    _string,
    _unknown,
    mistyped,
    parse_time,
)
from esc_cli.domain.record_events import _check_events, _record_from_events
from esc_cli.domain.record_events import case_of as case_of
from esc_cli.domain.record_events import history as history


def check_case(
    raw: dict, checker: Checker, allow_events: bool = True
) -> tuple[CaseRecord | None, list[str]]:
    """The row as a CaseRecord, or None and every reason it is bad."""
    from esc_cli.domain.policy import normalise_priority

    wrong = mistyped(raw, CASE_TYPES) if checker.typed else {}
    if not wrong and type(raw) is dict and raw.keys() <= _PLAIN_FIELDS:
        record = _plain_case(raw, checker)
        if record is not None and _held_by_inactive(record, checker) is None:
            return record, []
    errors: list[str] = list(wrong.values())
    values: dict = {}

    def take(name, convert):
        value = raw.get(name)
        if _blank(value) or name in wrong:
            return None
        try:
            return convert(value)
        except RowError as err:
            errors.append(str(err))
            return None

    for key in _unknown(raw, CASE_FIELDS + DERIVED_FIELDS):
        errors.append(f"unknown field '{key}'")
    for name in REQUIRED_CASE_FIELDS:
        if _blank(raw.get(name)):
            errors.append(f"{name} is missing" if name not in raw else f"{name} is empty")

    values["id"] = take("id", lambda v: _integer(v, "id", 1, MAX_ID))
    values["title"] = take("title", lambda v: _string(v, "title"))
    if values["title"] is not None and len(values["title"]) > TITLE_MAX:
        errors.append(f"title is {len(values['title'])} characters, more than {TITLE_MAX}")
    values["customer"] = take("customer", lambda v: _string(v, "customer"))
    values["description"] = take("description", lambda v: _string(v, "description")) or ""

    def priority(value):
        try:
            return normalise_priority(value)
        except ValueError:
            raise RowError(
                f"unknown priority {value!r} (use urgent, high, medium, low or p1..p4)"
            ) from None

    values["priority"] = take("priority", priority)

    def category(value):
        found = checker._categories.get(str(value).lower())
        if found is None:
            raise RowError(
                f"unknown category {value!r} (use {', '.join(checker.policy.categories)})"
            )
        return found

    values["category"] = take("category", category)

    def channel(value):
        text = str(value).lower()
        if text not in CHANNELS:
            raise RowError(f"unknown channel {value!r} (use {', '.join(CHANNELS)})")
        return text

    values["channel"] = take("channel", channel)

    def tier(value):
        level = _integer(value, "tier")
        if level not in checker.policy.tiers:
            raise RowError(f"unknown tier {level} (the ladder is 1..{checker.policy.top_tier})")
        return level

    values["tier"] = take("tier", tier)
    values["team"] = take("team", lambda v: _string(v, "team").strip() or None)

    def owner(value):
        handle = _string(value, "owner")  # exact, as on the command line: " bob" is no one
        if handle not in checker.owners:
            raise RowError(
                f"unknown owner {handle!r} (add it with esc owner add, or import an owners file first)"
            )
        return handle

    values["owner"] = take("owner", owner)
    values["tags"] = take("tags", lambda v: _list(v, "tags")) or ()
    values["csat"] = take("csat", lambda v: _integer(v, "csat", 1, 5))

    def state(value):
        text = str(value).lower()
        if text not in STATES:
            raise RowError(f"unknown state {value!r} (use {', '.join(STATES)})")
        return text

    values["state"] = take("state", state)
    for name in ("opened_at", "acknowledged_at", "resolved_at", "closed_at", "paused_since"):
        values[name] = take(name, lambda v, n=name: parse_time(v, n, checker))
    values["escalations"] = take("escalations", lambda v: _integer(v, "escalations", 0))
    values["policy_version"] = take("policy_version", lambda v: _integer(v, "policy_version", 1))

    events = None
    if not _blank(raw.get("events")):
        if not allow_events:
            errors.append("events can only be given in a JSON file")
        else:
            events = _check_events(raw["events"], checker, errors)
    if errors:
        return None, errors

    if events is not None:
        record = _record_from_events(values, set(raw), events, errors, checker)
    else:
        record = _record_from_fields(values, errors, checker)
    if record is not None:
        inactive = _held_by_inactive(record, checker)
        if inactive is not None:
            errors.append(inactive)
    if errors:
        return None, errors
    return record, []


def _held_by_inactive(record: CaseRecord, checker: Checker) -> str | None:
    """Why an unresolved case may not be the inactive owner's it names, or None: `assign`
    refuses an inactive owner (exit 4) and deactivating one unassigns their unresolved
    cases, so an import may not hand them one either. A resolved or closed case keeps
    who owned it then."""
    if record.owner is None or record.state not in UNRESOLVED:
        return None
    owner = checker.owners.get(record.owner)
    if owner is None or owner.active:
        return None
    return (
        f"owner {record.owner!r} is inactive, and the case is {record.state} "
        f"(esc owner add {record.owner} reactivates them)"
    )


# Fields of a row that `_plain_case` can check; any other field (an id, events, a policy
# version) takes the general path.
_PLAIN_FIELDS = frozenset(CASE_FIELDS + DERIVED_FIELDS) - {"id", "events", "policy_version"}
_PLAIN_TIMES = ("opened_at", "acknowledged_at", "resolved_at", "closed_at", "paused_since")
# Longest text that is certainly within TEXT_MAX_BYTES however it encodes.
_SURELY_SHORT = TEXT_MAX_BYTES // 4


def _plain_case(raw: dict, checker: Checker) -> CaseRecord | None:
    """`check_case` for the common row, all text and every value plainly good (as a CSV
    import has by the hundred thousand): the same record, without one closure call and
    exception handler per field. None for anything else, bad or unusual alike: the
    caller then runs the general check, which accepts the row or names its faults, so
    this path decides nothing the general one would not."""
    get = raw.get
    values: dict = {"id": None, "policy_version": None}
    for name in ("title", "customer"):
        value = get(name)
        if type(value) is not str or not value.strip() or len(value) > _SURELY_SHORT:
            return None
        values[name] = value
    if len(values["title"]) > TITLE_MAX:
        return None
    value = get("description")
    if value is None:
        values["description"] = ""
    elif type(value) is not str or len(value) > _SURELY_SHORT:
        return None
    else:
        values["description"] = value if value.strip() else ""
    cache = checker._plain
    for name in ("priority", "category", "channel", "tier", "state", "csat", "escalations"):
        value = get(name)
        if value is None:
            values[name] = None
            continue
        if type(value) is not str:
            return None
        found = cache.get((name, value), _UNSEEN)
        if found is _UNSEEN:
            found = cache[(name, value)] = _plain_value(name, value, checker)
        if found is _BAD:
            return None
        values[name] = found
    if values["priority"] is None:
        return None
    for name in ("team", "owner"):
        value = get(name)
        if value is None:
            values[name] = None
        elif type(value) is not str or len(value) > _SURELY_SHORT:
            return None
        elif name == "owner":  # exact, as on the command line; blank is none
            values[name] = value if value.strip() else None
        else:
            values[name] = value.strip() or None
    owner = values["owner"]
    if owner is not None and owner not in checker.owners:
        return None
    value = get("tags")
    if value is None:
        values["tags"] = ()
    elif type(value) is not str:
        return None
    else:
        values["tags"] = tuple(dict.fromkeys(i.strip() for i in value.split(";") if i.strip()))
    days = checker._days
    now = checker.now
    for name in _PLAIN_TIMES:
        value = get(name)
        if value is None:
            values[name] = None
            continue
        if type(value) is not str:
            return None
        # 2026-11-02T10:15:00Z read by hand; any other spelling goes to parse_time
        if (
            len(value) == 20
            and value[19] == "Z"
            and value[10] == "T"
            and value[13] == ":"
            and value[16] == ":"
            and value.isascii()
        ):
            midnight = days.get(value[:10], _UNSEEN)
            if midnight is _UNSEEN:
                midnight = days[value[:10]] = _midnight(value[:10])
            clock = value[11:13] + value[14:16] + value[17:19]
            if midnight is None or not clock.isdigit():
                return None
            hour, minute, second = int(clock[:2]), int(clock[2:4]), int(clock[4:])
            if hour > 23 or minute > 59 or second > 59:
                return None
            instant = midnight + hour * 3600 + minute * 60 + second
            if instant > now:
                return None
        elif not value.strip():
            instant = None
        else:
            try:
                instant = parse_time(value, name, checker)
            except RowError:
                return None
        values[name] = instant
    errors: list[str] = []
    record = _record_from_fields(values, errors, checker)
    return None if errors else record


_UNSEEN = object()
_BAD = object()


def _midnight(text: str) -> int | None:
    """Epoch seconds of a YYYY-MM-DD date's UTC midnight, None unless it is one in range."""
    if text[4] != "-" or text[7] != "-" or not (text[:4] + text[5:7] + text[8:]).isdigit():
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    if not YEARS[0] <= day.year < YEARS[1]:
        return None
    return (day.toordinal() - _EPOCH_ORDINAL) * 86400


def _plain_value(name: str, value: str, checker: Checker):
    """One of the few-valued fields as `check_case` reads it, or _BAD when it would not
    read it plainly (the general check then says why, or reads it its own way)."""
    from esc_cli.domain.policy import normalise_priority

    if not value.strip():
        return None
    text = value.lower()
    if name == "priority":
        try:
            return normalise_priority(value)
        except ValueError:
            return _BAD
    if name == "category":
        return checker._categories.get(value.lower(), _BAD)
    if name == "channel":
        return text if text in CHANNELS else _BAD
    if name == "state":
        return text if text in STATES else _BAD
    if not (text.isascii() and text.isdigit()):
        return _BAD
    number = int(text)
    if name == "tier":
        return number if number in checker.policy.tiers else _BAD
    if name == "csat":
        return number if 1 <= number <= 5 else _BAD
    return number  # escalations: 0 or more


def _record_from_fields(values: dict, errors: list[str], checker: Checker) -> CaseRecord | None:
    opened = values["opened_at"] if values["opened_at"] is not None else checker.now
    ack, resolved, closed = values["acknowledged_at"], values["resolved_at"], values["closed_at"]
    paused = values["paused_since"]
    state = values["state"]
    if state is None:
        state = (
            "closed"
            if closed is not None
            else "resolved"
            if resolved is not None
            else "open"
            if ack is not None
            else "new"
        )

    if ack is not None and ack < opened:
        errors.append(f"acknowledged_at {iso(ack)} is before opened_at {iso(opened)}")
    if resolved is not None and resolved < opened:
        errors.append(f"opened_at {iso(opened)} is after resolved_at {iso(resolved)}")
    if resolved is not None and ack is not None and resolved < ack:
        errors.append(f"acknowledged_at {iso(ack)} is after resolved_at {iso(resolved)}")
    if closed is not None and resolved is not None and closed < resolved:
        errors.append(f"closed_at {iso(closed)} is before resolved_at {iso(resolved)}")
    if closed is not None and resolved is None:
        errors.append("closed_at needs resolved_at (a case is resolved before it is closed)")

    if state in ("open", "pending") and ack is None:
        errors.append(f"state {state} needs acknowledged_at (when the first response was)")
    if state in ("new", "open", "pending") and (resolved is not None or closed is not None):
        errors.append(f"state {state} cannot have resolved_at or closed_at")
    if state == "new" and ack is not None:
        errors.append("state new cannot have acknowledged_at (acknowledging opens a case)")
    if state in ("resolved", "closed") and resolved is None:
        errors.append(f"state {state} needs resolved_at")
    if state == "closed" and closed is None:
        errors.append("state closed needs closed_at")
    if state == "resolved" and closed is not None:
        errors.append("state resolved cannot have closed_at (use state closed)")
    if paused is not None:
        if state != "pending":
            errors.append(f"paused_since is only for pending cases, not {state}")
        elif ack is not None and paused < ack:
            errors.append(f"paused_since {iso(paused)} is before acknowledged_at {iso(ack)}")
    if values["csat"] is not None and state not in ("resolved", "closed"):
        errors.append(f"csat is only given after resolution, but the case is {state}")
    if errors:
        return None
    tier = values["tier"] or 1
    return CaseRecord(
        id=values["id"],
        title=values["title"],
        customer=values["customer"],
        priority=values["priority"],
        category=_default_category(values, checker),
        channel=values["channel"] or "other",
        description=values["description"],
        tier=tier,
        team=values["team"],
        owner=values["owner"],
        tags=values["tags"],
        csat=values["csat"],
        state=state,
        opened_at=opened,
        acknowledged_at=ack,
        resolved_at=resolved,
        closed_at=closed,
        paused_since=paused if state == "pending" else None,
        escalated=tier > 1 and values["escalations"] != 0,
        events=None,
        policy_version=values["policy_version"],
    )
