"""What an `email` notification says: its subject line and its plain-text body.

Built from the notification's payload (what happened, as recorded when it happened) and,
when the case can still be read, the case as it stands and the sweep's upcoming steps
(what happens next if nobody touches it). Times are shown in the policy's time zone,
the desk's, since the reader of a mail has no `--tz`. Untrusted text (titles, customer
names, reasons) is cleaned like everything esc prints.
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from esc_cli.domain.model import parse_iso
from esc_cli.domain.notices import recipient_label
from esc_cli.text import clean

WIDTH = 78
_WHEN = 21  # "Wed 11 Nov 10:15 CEST"


def subject(payload: dict, tier_names: dict[int, str]) -> str:
    """`[esc] #42 breached resolution SLA (urgent, tier 2 Specialist)`: one line, no title
    (a subject is not the place for a customer's text), the tier the case is at now."""
    case = payload.get("case")
    kind = payload.get("kind")
    clocks = _clocks(payload.get("clock"))
    tier = payload.get("to_tier")
    if kind == "warning":
        what = f"{clocks} SLA at risk"
    elif kind == "breach":
        what = f"breached {clocks} SLA"
    elif clocks:
        what = f"breached {clocks} SLA and escalated"
    elif payload.get("from_tier") != tier:
        what = f"escalated to tier {tier}"
    else:
        what = f"escalated to team {payload.get('team')}"
    where = f"tier {tier}"
    if tier_names.get(tier):  # type: ignore[arg-type]  # to_tier: always an int in a payload
        where += f" {tier_names[tier]}"  # type: ignore[index]
    text = f"[esc] #{case} {what} ({payload.get('priority')}, {where})"
    return " ".join(clean(text).split())


def body(payload: dict, context: dict | None, zone: str, channel: str) -> str:
    """The plain-text body. `context` (None when the case cannot be read any more):
    `{case: case document, steps: domain.plan.upcoming's steps (instants in epoch
    seconds), tier_names, actor, reason}`."""
    tz = ZoneInfo(zone)
    case_id = payload.get("case")
    names = (context or {}).get("tier_names") or {}
    lines: list[str] = []
    document = (context or {}).get("case")
    if document is not None:
        lines.append(f"#{case_id} {clean(document['title'])}")
        lines.extend(_wrap(_summary(document, names, tz)))
    else:
        lines.append(f"#{case_id} {clean(payload.get('title'))}")
        lines.extend(
            _wrap(f"Customer {clean(payload.get('customer'))}, priority {payload.get('priority')}.")
        )
    lines += ["", "What happened"]
    lines.extend(
        _wrap(
            _happened(payload, context or {}, names, tz),
            first=_label_column(parse_iso(payload.get("at")), tz),
        )
    )
    if context is not None:
        lines += ["", "What happens next, if nothing changes"]
        steps = context.get("steps") or []
        if not steps:
            lines.append("  Nothing more is scheduled for this case.")
        for step in steps:
            lines.extend(_wrap(_step(step, names, tz), first=_label_column(step["at"], tz)))
    lines += [
        "",
        f"See it:       esc show {case_id}",
        f"Its clocks:   esc explain {case_id}",
        "",
        "-- ",
        f"Sent by esc for {clean(recipient_label(payload.get('recipient') or {}))} "
        f"(notification {payload.get('id')}, channel {channel}).",
        "Times are in " + zone + ".",
    ]
    return "\n".join(lines) + "\n"


# -- pieces ---------------------------------------------------------------------------


def _summary(doc: dict, names: dict[int, str], tz) -> str:
    parts = [
        f"Customer {clean(doc['customer'])}",
        f"priority {doc['priority']}",
        f"{doc['state']}",
        _tier(doc["tier"], names),
    ]
    parts.append(f"owner {clean(doc['owner'])}" if doc.get("owner") else "no owner")
    if doc.get("team"):
        parts.append(f"team {clean(doc['team'])}")
    text = ", ".join(parts) + "."
    if doc.get("breached"):
        text += f" Breached: {', '.join(doc['breached'])}."
    if (
        doc.get("due_at")
        and doc.get("due_clock")
        and doc["due_clock"] not in (doc.get("breached") or ())
    ):
        text += f" Next due: {doc['due_clock']} {_when(parse_iso(doc['due_at']), tz)}."
    return text


def _happened(payload: dict, context: dict, names: dict[int, str], tz) -> str:
    kind = payload.get("kind")
    clocks = _clocks(payload.get("clock"))
    due = _when(parse_iso(payload.get("due")), tz) if payload.get("due") else None
    if kind == "warning":
        return f"The {clocks} SLA is at risk: it is due {due}."
    if kind == "breach":
        return f"The {clocks} SLA was breached: it was due {due}."
    from_tier, to_tier = payload.get("from_tier"), payload.get("to_tier")
    if from_tier != to_tier:
        moved = f"escalated from tier {from_tier} to {_tier(to_tier, names)}"
    else:
        moved = f"escalated to team {clean(payload.get('team'))}"
    actor = context.get("actor")
    by = f" by {clean(actor)}" if actor else ""
    text = (
        f"The {clocks} SLA was breached (it was due {due}) and the case was {moved}{by}."
        if clocks
        else f"The case was {moved}{by}."
    )
    if context.get("reason"):
        text += f" Reason: {clean(context['reason'])}."
    return text


def _step(step: dict, names: dict[int, str], tz) -> str:
    """One step of `domain.plan.upcoming`, as explain's plan says it."""
    action, clock = step.get("action"), step.get("clock")
    reason = clean(step.get("reason")) if step.get("reason") else None
    if action == "warn":
        text = f"warning: {_clocks(clock)} SLA at risk"
    elif action == "breach":
        text = f"{_clocks(clock)} SLA breached"
    elif action == "escalate":
        why = reason or (
            "no activity at its tier" if clock == "stale" else f"{_clocks(clock)} SLA breached"
        )
        text = f"escalated to {_tier(step.get('to_tier'), names)}: {why}"
    elif action == "close":
        text = "closed" + (f" ({reason})" if reason else "")
    else:
        text = str(action)
    if step.get("due") and action in ("warn", "breach"):
        text += f", due {_when(step['due'], tz)}"
    if step.get("notify"):
        text += f"; notifies {clean(step['notify'])}"
    return text


def _tier(level, names: dict[int, str]) -> str:
    name = names.get(level)
    return f"tier {level} {clean(name)}" if name else f"tier {level}"


def _clocks(text: str | None) -> str:
    names = [n for n in (text or "").split(",") if n]
    return " and ".join(names)


def _when(instant: int | None, tz) -> str:
    """`Mon 2 Nov 10:15 UTC` in the policy's zone."""
    if instant is None:
        return "-"
    local = datetime.fromtimestamp(instant, timezone.utc).astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M} {local.tzname()}"


def _label_column(instant: int | None, tz) -> str:
    return f"  {_when(instant, tz):<{_WHEN}}  "


def _wrap(text: str, first: str = "  ") -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=" " * len(first),
        break_long_words=True,
        break_on_hyphens=False,
    ) or [first.rstrip()]
