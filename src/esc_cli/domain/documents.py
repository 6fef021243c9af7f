"""The JSON shapes of SPEC §4, built from domain values (render only prints them)."""

from __future__ import annotations

from typing import Any

from esc_cli.domain.model import Case, Event, Owner, iso
from esc_cli.domain.sla import clock_statuses


def case_document(
    case: Case, tier_names: dict[int, str], now: int, events: list[Event] | None = None
) -> dict:
    at_risk, breached, missed = clock_statuses(case, now)
    document: dict[str, Any] = {
        "id": case.id,
        "title": case.title,
        "description": case.description,
        "customer": case.customer,
        "category": case.category,
        "priority": case.priority,
        "channel": case.channel,
        "state": case.state,
        "tier": case.tier,
        "tier_name": tier_names.get(case.tier),
        "team": case.team,
        "owner": case.owner,
        "tags": list(case.tags),
        "opened_at": iso(case.opened_at),
        "acknowledged_at": iso(case.acknowledged_at),
        "resolved_at": iso(case.resolved_at),
        "closed_at": iso(case.closed_at),
        "respond_by": iso(case.respond_by),
        "update_by": iso(case.update_by),
        "resolve_by": iso(case.resolve_by),
        "at_risk": at_risk,
        "breached": breached,
        "missed": missed,
        "paused_since": iso(case.paused_since),
        "escalations": case.escalations,
        "reopened": case.reopened,
        "csat": case.csat,
        "policy_version": case.policy_version,
        "due_at": iso(case.due_at),
        "due_clock": _due_clock(case),
    }
    if events is not None:
        document["events"] = [event.document() for event in events]
    return document


def _due_clock(case: Case) -> str | None:
    if case.due_at is None:
        return None
    for name, due in (
        ("response", case.respond_by),
        ("update", case.update_by),
        ("resolution", case.resolve_by),
    ):
        if due == case.due_at:
            return name
    return None


def owner_document(owner: Owner, load: int, now: int | None = None) -> dict:
    # away_until: only while it is ahead (an away that ran out is no longer news)
    away = owner.away_until is not None and (now is None or now < owner.away_until)
    return {
        "handle": owner.handle,
        "name": owner.name,
        "email": owner.email,
        "tier": owner.tier,
        "teams": list(owner.teams),
        "capacity": owner.capacity,
        "active": owner.active,
        "load": load,
        "away_until": iso(owner.away_until) if away else None,
        "away_reason": owner.away_reason if away else None,
    }


def _target_text(seconds: int | None, calendar: str, format_span) -> str | None:
    """A business target counts opening hours, so `40h` must not read as `1d16h`
    (a business day is not 24 hours); only 24x7 targets may show days."""
    if seconds is None:
        return None
    if calendar == "24x7" or seconds < 86400:
        return format_span(seconds)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h" + (format_span(rest) if rest else "")


def clock_document(trace, now: int, calendar=None, until: int | None = None) -> dict:
    """One clock for `explain` and `show`: target, calendar, spans worked and paused."""
    from esc_cli.domain.spans import format_span

    worked = []
    if calendar is not None and trace.started_at is not None:
        end = trace.stopped_at if trace.stopped_at is not None else now
        if until is not None:
            end = min(end, until)
        cursor = trace.started_at
        for pause_start, pause_end in trace.paused:
            if pause_start >= end:
                break
            worked.extend(calendar.spans(cursor, min(pause_start, end)))
            cursor = pause_end if pause_end is not None else end
        if cursor < end:
            worked.extend(calendar.spans(cursor, end))
    return {
        "clock": trace.clock,
        "target": _target_text(trace.target, trace.calendar, format_span),
        "calendar": trace.calendar,
        "zone": trace.zone,
        "started_at": iso(trace.started_at),
        "stopped_at": iso(trace.stopped_at),
        "worked": [{"from": iso(a), "to": iso(b)} for a, b in worked],
        "paused": [{"from": iso(a), "to": iso(b)} for a, b in _pauses_while_it_ran(trace)],
        "warn_at": iso(trace.warn_at),
        "due_at": iso(trace.due_at),
        "state": trace.state,
        "status": trace.status(now),
    }


def _pauses_while_it_ran(trace) -> tuple:
    """The pauses explain shows: those before the clock stopped. The resolution clock
    pauses while a case is resolved too (a reopen moves its due time by that time), but
    once stopped that is its stop, not a pause: a resolved case showed "paused since"
    its resolution, "frozen until the case resumes"; and one resolved straight from
    pending showed its wait as never ending. That wait now ends where the clock stopped."""
    stopped = trace.stopped_at
    if stopped is None:
        return trace.paused
    return tuple(
        (start, stopped if end is None else end) for start, end in trace.paused if start < stopped
    )
