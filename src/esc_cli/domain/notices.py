"""Which notifications a write creates (SPEC §3), and what each says."""

from __future__ import annotations

from esc_cli.domain.model import Case, Event, iso


class NotificationFailure(str):
    """Why one notification could not go out on a channel that itself works (nobody to
    address it to, its recipients refused): the channel goes on with the others."""


def recipient_of(
    case: Case, owner_email: str | None, on_call: str | None = None
) -> tuple[str, dict]:
    """`on_call`: the on-call person of an unowned case's tier or team (routing), named
    in its stead."""
    owner = case.owner or on_call
    recipient = {
        "owner": owner,
        "email": owner_email if owner else None,
        "team": case.team,
        "tier": case.tier,
    }
    return recipient_label(recipient), recipient


def recipient_label(recipient: dict) -> str:
    """`owner:bob`, else `team:billing`, else `tier:2`: who a notification names."""
    if recipient.get("owner"):
        return f"owner:{recipient['owner']}"
    if recipient.get("team"):
        return f"team:{recipient['team']}"
    return f"tier:{recipient.get('tier')}"


def _stable_id(case_id: int | None, event: Event, position: int) -> str:
    # The event's place in its case's history (append-only: it never moves) tells apart
    # two events alike in every other field, as up, down and up again in one minute are.
    key = (
        f"{case_id}|{position}|{event.at}|{event.kind}|{event.field}|{event.to_value}|{event.actor}"
    )
    from esc_cli.domain.model import sha256  # here: reads never hash

    return "n" + sha256(key.encode()).hexdigest()[:20]


def _text(
    kind: str,
    case: Case,
    clocks: list[str],
    from_tier,
    to_tier,
    due: str | None,
    reason: str | None,
) -> str:
    label = f"#{case.id} {case.title!r} ({case.priority}, {case.customer})"
    label = " ".join(label.split())
    if kind == "warning" and clocks[0] == "owner":  # own_within (domain/routing.py)
        return f"[esc] {label}: no owner at tier {case.tier}, due one by {due}"
    if kind == "warning":
        return f"[esc] {label}: {clocks[0]} SLA at risk, due {due}"
    if kind == "breach":
        return f"[esc] {label}: {clocks[0]} SLA breached (was due {due})"
    where = f"tier {from_tier} -> {to_tier}" if from_tier != to_tier else f"team {case.team}"
    return f"[esc] {label} escalated {where}: {reason}"


def notifications_for(
    case: Case,
    new_events: list[Event],
    owner_email: str | None,
    on_call: str | None = None,
    *,
    earlier: int,
) -> list[dict]:
    """One notification per warning, per breach and per escalation; breaches that caused
    the sweep's escalation ride on the escalation's notification. `earlier`: how many
    events the case had before `new_events` (their place in its history is in the id)."""
    position = {id(e): earlier + i for i, e in enumerate(new_events)}
    escalations = [e for e in new_events if e.kind == "escalated"]
    breaches = [e for e in new_events if e.kind == "breached"]
    warnings = [e for e in new_events if e.kind == "warned"]
    merged = bool(breaches) and any(e.actor == "sweep" for e in escalations)
    recipient, recipient_doc = recipient_of(case, owner_email, None if case.owner else on_call)
    result = []

    # clocks: the events' fields, always set on warned/breached events
    def build(
        kind: str,
        event: Event,
        clocks: list,
        due: str | None,
        from_tier,
        to_tier,
        reason: str | None,
    ) -> dict:
        return {
            "id": _stable_id(case.id, event, position[id(event)]),
            "kind": kind,
            "at": iso(event.at),
            "case": case.id,
            "title": case.title,
            "customer": case.customer,
            "priority": case.priority,
            "clock": ",".join(clocks) if clocks else None,
            "due": due,
            "from_tier": from_tier,
            "to_tier": to_tier,
            "team": case.team,
            "recipient": recipient_doc,
            "recipient_label": recipient,
            "text": _text(kind, case, clocks, from_tier, to_tier, due, reason),
        }

    for event in warnings:
        result.append(
            build("warning", event, [event.field], event.to_value, case.tier, case.tier, None)
        )
    if not merged:
        for event in breaches:
            result.append(
                build("breach", event, [event.field], event.to_value, case.tier, case.tier, None)
            )
    for event in escalations:
        clocks = [b.field for b in breaches] if merged and event.actor == "sweep" else []
        due = breaches[0].to_value if clocks else None
        if event.field == "tier":
            from_tier, to_tier = int(event.from_value), int(event.to_value)  # type: ignore[arg-type]
        else:
            from_tier = to_tier = case.tier
        result.append(build("escalation", event, clocks, due, from_tier, to_tier, event.reason))
    return result


def unowned(case: Case, event: Event, reason: str, *, position: int) -> dict:
    """'Unowned escalation': routing found nobody to take the case; its tier or team
    hears it once (the id is stable per event; `position`: the event's place in the
    case's history)."""
    recipient, recipient_doc = recipient_of(case, None)
    label = " ".join(f"#{case.id} {case.title!r} ({case.priority}, {case.customer})".split())
    return {
        "id": _stable_id(case.id, event, position) + "u",
        "kind": "unowned",
        "at": iso(event.at),
        "case": case.id,
        "title": case.title,
        "customer": case.customer,
        "priority": case.priority,
        "clock": None,
        "due": None,
        "from_tier": case.tier,
        "to_tier": case.tier,
        "team": case.team,
        "recipient": recipient_doc,
        "recipient_label": recipient,
        "text": f"[esc] {label}: unowned escalation at tier {case.tier}: {reason}",
    }
