"""Cases, owners and events as plain values. Instants are int epoch seconds in UTC."""

from __future__ import annotations

import json
from dataclasses import field
from datetime import datetime, timezone

from esc_cli.domain.values import filled, value
from esc_cli.errors import UsageError

STATES = ("new", "open", "pending", "resolved", "closed")
UNRESOLVED = ("new", "open", "pending")
CLOCKS = ("response", "update", "resolution")
CHANNELS = ("email", "phone", "chat", "web", "other")
EVENT_KINDS = (
    "opened",
    "acknowledged",
    "assigned",
    "note",
    "customer_update",
    "escalated",
    "deescalated",
    "pending",
    "resumed",
    "resolved",
    "reopened",
    "closed",
    "feedback",
    "changed",
    "warned",
    "breached",
)
TITLE_MAX = 500
TEXT_MAX_BYTES = 1024 * 1024
SWEEP_ACTOR = "sweep"
ROUTING_ACTOR = "routing"


def is_esc_actor(name: str) -> bool:
    """Whether `name` is one of esc's own actors: the sweep, routing, a trigger rule
    (`rule:NAME`). A person acting under one would pass for esc: a note as
    `rule:NAME` reads as that rule having fired (it never fires on the case), one as
    `sweep` is not activity to the stale re-escalation, and policy try replays
    neither."""
    return name in (SWEEP_ACTOR, ROUTING_ACTOR) or name.startswith("rule:")


# The years an instant may fall in: due times, close_after and report windows add up to
# a century to an instant, and near the ends of the calendar that arithmetic overflows.
YEARS = (1970, 9000)


def check_year(year: int, what: str, text: str) -> None:
    """Refuse a time typed on the command line (--now, --at, owner away --until, a
    window's --since and --until) whose year is outside YEARS: every option that takes
    a time shares this one rule, so none of them can reach an overflow that another
    refuses."""
    if not YEARS[0] <= year < YEARS[1]:
        raise UsageError(f"{what}: {text} is out of range (from {YEARS[0]} to {YEARS[1]})")


@value
class Event:
    """One entry of a case's history; `at` in epoch seconds."""

    at: int
    actor: str
    kind: str
    field: str | None = None
    from_value: str | None = None
    to_value: str | None = None
    reason: str | None = None

    def document(self) -> dict:
        return {
            "at": iso(self.at),
            "actor": self.actor,
            "kind": self.kind,
            "field": self.field,
            "from": self.from_value,
            "to": self.to_value,
            "reason": self.reason,
        }


@value
class Owner:
    """Someone who can own cases: their tier, teams and how many cases they take."""

    handle: str
    name: str | None = None
    email: str | None = None
    tier: int = 1
    teams: tuple[str, ...] = ()
    capacity: int | None = None
    active: bool = True
    # away (routing skips them) until this instant; their own cases stay theirs
    away_until: int | None = None
    away_reason: str | None = None


@value
class Case:
    """A case row. Fields below `csat` are derived from the events by `sla.project`."""

    id: int | None
    title: str
    customer: str
    priority: str
    category: str
    channel: str
    opened_at: int
    policy_version: int
    description: str = ""
    tier: int = 1
    team: str | None = None
    owner: str | None = None
    state: str = "new"
    tags: tuple[str, ...] = ()
    csat: int | None = None
    acknowledged_at: int | None = None
    resolved_at: int | None = None
    closed_at: int | None = None
    respond_by: int | None = None
    respond_warn: int | None = None
    update_by: int | None = None
    update_warn: int | None = None
    resolve_by: int | None = None
    resolve_warn: int | None = None
    due_at: int | None = None
    warn_at: int | None = None
    paused_since: int | None = None
    update_missed: bool = False
    escalations: int = 0
    reopened: int = 0
    tier_since: int = 0
    last_activity_at: int = 0
    last_event_at: int = 0
    sweep_at: int | None = None
    # what `esc report` needs from the history (domain/summary.py)
    resolution_at: int | None = None
    resolve_secs: int | None = None
    fcr: int = 0
    feedback_at: int | None = None
    feedback_score: int | None = None
    # the instant the resolution clock's latest cycle was (or will be) decided: its breach
    # while running, else its resolution (then it was met); docs/sla.md
    resolution_decided_at: int | None = None
    # the resolution clock's earlier cycles as ((decided_at, met), ...), settled from the
    # events with the rest (None: not settled in this run); kept in their own table,
    # resolution_cycles, not in a column (store/cycles.py)
    resolution_cycles: tuple | None = field(default=None, compare=False)
    extra: dict = field(default_factory=dict, compare=False)


# -- building values without their generated __init__ ---------------------------------
# values.filled and values.replace build @value instances without __init__ (why: see
# there); case_with_defaults fills in a Case's defaults on top.


def _case_defaults() -> tuple[dict, tuple, tuple]:
    """Every Case field in order with its default (None for a required one), the fields
    made by a factory, and the required ones."""
    from dataclasses import MISSING, fields

    template, factories, required = {}, [], []
    for spec in fields(Case):
        template[spec.name] = None if spec.default is MISSING else spec.default
        if spec.default_factory is not MISSING:
            factories.append((spec.name, spec.default_factory))
        elif spec.default is MISSING:
            required.append(spec.name)
    return template, tuple(factories), tuple(required)


_CASE_TEMPLATE, CASE_FACTORIES, CASE_REQUIRED = _case_defaults()


def case_with_defaults(values: dict) -> Case:
    """Case(**values) for `values` that hold at least every CASE_REQUIRED field: the
    other fields get their defaults, a fresh one from each factory."""
    case = filled(Case, _CASE_TEMPLATE)
    fields_ = case.__dict__
    for name, factory in CASE_FACTORIES:
        fields_[name] = factory()
    fields_.update(values)
    return case


_ISO_DAYS: dict[int, str] = {}


def iso(instant: int | None) -> str | None:
    if instant is None:
        return None
    # strftime per call is most of the cost of a case document (ten instants each):
    # format each day once, the time of day by arithmetic
    days, seconds = divmod(int(instant), 86400)
    day = _ISO_DAYS.get(days)
    if day is None:
        day = _ISO_DAYS[days] = datetime.fromtimestamp(days * 86400, timezone.utc).strftime(
            "%Y-%m-%dT"
        )
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{day}{hours:02d}:{minutes:02d}:{seconds:02d}Z"


def parse_iso(text: str | None) -> int | None:
    """The inverse of iso(): a stored UTC stamp back to epoch seconds."""
    if not text:
        return None
    return int(
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    )


def local_to_utc(parsed: datetime, zone) -> datetime | None:
    """A parsed time with an offset as is; a naive one read in `zone` (a tzinfo), taking
    the first occurrence of an ambiguous local time. None when it falls in a DST gap."""
    if parsed.tzinfo is not None:
        return parsed
    first = parsed.replace(tzinfo=zone, fold=0)
    if first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) != parsed:
        return None
    return first


def event_hash(previous: bytes, case_id: int, event: Event) -> bytes:
    """SHA-256 over the event's content and its predecessor's hash: edits, removals and
    reorderings all break the chain."""
    body = _HASH_JSON.encode(
        [
            case_id,
            event.at,
            event.actor,
            event.kind,
            event.field,
            event.from_value,
            event.to_value,
            event.reason,
        ],
    ).encode("utf-8", "surrogatepass")
    return sha256(previous + body).digest()


_sha256 = None


def sha256(data: bytes):
    """A SHA-256 object of `data` (sha256_without_openssl's, looked up once)."""
    global _sha256
    if _sha256 is None:
        _sha256 = sha256_without_openssl()
    return _sha256(data)


def sha256_without_openssl():
    """SHA-256 from CPython's own implementation when it has one: `import hashlib` loads
    OpenSSL, ~5 ms of a run that hashes a handful of events (a bulk import, which hashes
    millions, keeps OpenSSL's faster one). The digests are the same."""
    try:
        from _sha256 import sha256  # type: ignore[import-not-found]  # CPython 3.11
    except ImportError:
        try:
            from _sha2 import sha256  # type: ignore[import-not-found]  # CPython 3.12+
        except ImportError:
            from hashlib import sha256
    return sha256


# what json.dumps(..., ensure_ascii=False, separators=(",", ":")) would build per call
_HASH_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def chain_breaks(case_id: int, events_with_hashes: list[tuple[Event, bytes]]) -> int | None:
    """Index of the first event whose stored hash does not verify, or None."""
    previous = b""
    for index, (event, stored) in enumerate(events_with_hashes):
        expected = event_hash(previous, case_id, event)
        if stored != expected:
            return index
        previous = stored
    return None
