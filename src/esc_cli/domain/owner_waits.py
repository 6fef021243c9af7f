"""How each escalation's wait for an owner ended (the report's time to owner, issue 21),
recorded when it happens so `esc report` reads a window of them by an index range
instead of searching each escalation's neighbouring events (store/owner_times.py).

For each `escalated` event of a case, in order, one row (escalated_at, settled_at, owned):

- owned at once: the case's owner at the escalation's instant, once its write is done,
  is someone (kept, named with --owner, or given by routing in the same write): the
  latest `assigned` event at or before that instant names them, or, with none, the
  case had them from its opening (`opening_owner`): settled_at = escalated_at, owned =
  1 (a delay of 0);
- else the first later event, after the escalation's instant, that is an `assigned` to
  someone (settled_at = its instant, owned = 1: the delay is the difference) or another
  tier move, a resolution or a close (settled_at = its instant, owned = 0: the case left
  that tier's queue, so it is neither timed nor unowned once that instant is past);
- else still waiting: settled_at None.

A report window ending at `end` (its `until`, or just after now) counts a row as
unowned when settled_at is None or >= end, as timed when owned and settled before end
(0 when settled at the escalation itself), and not at all otherwise: the same answer
the per-escalation search gave, for histories in time order (esc writes and imports
only those). migrations 0018 holds that search as SQL (the backfill) and doctor
compares the stored rows with this function."""

from __future__ import annotations

from collections.abc import Iterable

# event kinds that can end a wait or start one: a write with none of them leaves the
# case's rows as they were
MOVES = frozenset({"escalated", "assigned", "deescalated", "resolved", "closed"})
_ENDS = frozenset({"escalated", "deescalated", "resolved", "closed"})

Wait = tuple[int, "int | None", int]  # (escalated_at, settled_at, owned)


def opening_owner(events: Iterable, owner_now: str | None) -> str | None:
    """The owner a case had before its first `assigned` event: the owner that event
    replaced, or, when it has none, the owner it has now (nothing ever changed it).
    `esc open --owner` wrote no `assigned` event before schema 28, so a case opened so
    and escalated with its owner kept counted as unowned in the report."""
    for event in events:
        if event.kind == "assigned":
            return event.from_value
    return owner_now


def waits(events: Iterable, owner_now: str | None = None) -> list[Wait]:
    """The rows for a case's whole history (Event-likes with at, kind, from_value and
    to_value, in the order they were written) and its owner now."""
    events = list(events)
    history = [(e.at, e.kind, e.to_value) for e in events]
    return waits_of(history, opening_owner(events, owner_now))


def waits_of(
    history: list[tuple[int, str, str | None]], opened_with: str | None = None
) -> list[Wait]:
    """waits() over (at, kind, to_value) tuples in written order, for a case whose owner
    before its first `assigned` event was `opened_with`."""
    found: list[Wait] = []
    for index, (at, kind, _) in enumerate(history):
        if kind != "escalated":
            continue
        owner = opened_with
        for when, other, to_value in history:
            # the latest `assigned` at or before this instant, later writes at the same
            # instant included (routing assigns in the escalation's own write)
            if when <= at and other == "assigned":
                owner = to_value
        if owner is not None:
            found.append((at, at, 1))
            continue
        settled: int | None = None
        owned = 0
        for when, other, to_value in history[index + 1 :]:
            if when <= at:
                continue
            if other == "assigned" and to_value is not None:
                settled, owned = when, 1
                break
            if other in _ENDS:
                settled = when
                break
        found.append((at, settled, owned))
    return found


def delay(wait: Wait, end: int) -> int | None:
    """The row's delay in a window ending at `end`: seconds to an owner, -1 when it
    left the tier before an owner came, None when unowned at the window's end. The
    report's SQL (store/owner_times.py) spells the same."""
    escalated_at, settled_at, owned = wait
    if owned and settled_at == escalated_at:
        return 0
    if settled_at is None or settled_at >= end:
        return None
    return settled_at - escalated_at if owned else -1
