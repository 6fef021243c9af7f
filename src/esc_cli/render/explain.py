"""`esc explain`: how each due time was computed, the calendar it counted in, the clocks'
status and the plan (every step the sweep will take if nothing changes)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from esc_cli.render.output import (
    Output,
    clean,
    duration,
    local_time,
    parse_iso,
    relative,
    short_time,
)


def _span_text(start: int, end: int, zone: str) -> str:
    tz = ZoneInfo(zone)
    a = datetime.fromtimestamp(start, tz)
    b = datetime.fromtimestamp(end, tz)
    if a.date() == b.date():
        return f"{a:%a %d %b %H:%M}–{b:%H:%M} {b.tzname()}"
    return f"{a:%a %d %b %H:%M} {a.tzname()} → {b:%a %d %b %H:%M} {b.tzname()}"


def _hours(seconds: int) -> str:
    """Working time in hours and minutes (`40h`, `3h 30m`): business days are not 24h."""
    hours, rest = divmod(int(seconds), 3600)
    minutes = rest // 60
    if hours and minutes:
        return f"{hours}h {minutes}m"
    return f"{hours}h" if hours else f"{minutes}m"


def _status_words(clock: dict, now: int) -> tuple[str, str]:
    status, due = clock["status"], parse_iso(clock["due_at"])
    stopped = parse_iso(clock.get("stopped_at"))
    if clock["state"] == "off":
        return (
            "no target for this priority"
            if clock["target"] is None
            else "not started (starts at the first response)"
        ), "dim"
    if status == "breached":
        return f"BREACHED {duration(now - due)} ago", "bold red"  # type: ignore[operator]  # breached: due set
    if status == "at_risk":
        return f"AT RISK, due {relative(due, now)}", "yellow"
    if status == "missed":
        return (f"missed by {duration(stopped - due)}" if stopped and due else "missed"), "red"
    if status == "met":
        if stopped and due and stopped > due:
            # resolved straight from pending, past a due time its wait never moved:
            # judged by the working time it ran (docs/sla.md), not by the wall clock
            return "met (pending not counted)", "green"
        return (
            f"met with {duration(due - stopped)} to spare" if stopped and due else "met"
        ), "green"
    if clock["state"] == "frozen":
        return "paused (waiting on the customer)", "magenta"
    return f"ok, due {relative(due, now)}", "green"


def explain_lines(doc: dict, now: int, zone: str, with_plan: bool = True) -> list[tuple[str, str]]:
    """The explanation as (text, style) lines, shared by the terminal and the pipe
    (`with_plan=False`: without the plan, which a terminal draws as a grid)."""
    lines: list[tuple[str, str]] = []
    owner = doc["owner"] or "unassigned"
    version = f"policy v{doc['policy_version']}"
    if doc["current_policy_version"] != doc["policy_version"]:
        version += f" (current is v{doc['current_policy_version']})"
    lines.append((f"#{doc['case']} {clean(doc['title'])}", "bold"))
    lines.append(
        (
            f"{doc['priority']} · {doc['state']} · tier {doc['tier']} "
            f"{clean(doc['tier_name'] or '')} · {clean(owner)} · {version}",
            "dim",
        )
    )
    percent = round(doc["warn_fraction"] * 100)
    if doc.get("calendar"):
        lines.append((f"calendar: {clean(_calendar_text(doc['calendar']))}", "dim"))
    for clock in doc["clocks"]:
        lines.append(("", ""))
        words, style = _status_words(clock, now)
        head = f"{clock['clock']}: "
        if clock["target"] is not None:
            head += f"target {clock['target']} on the {clean(clock['calendar'])} calendar ({clean(clock['zone'])})"
        lines.append((head + f" — {words}", "bold"))
        if clock["state"] == "off":
            continue
        cal_zone = clock["zone"]
        lines.append((f"  started   {local_time(parse_iso(clock['started_at']), zone, True)}", ""))
        if clock.get("stopped_at"):
            lines.append(
                (f"  stopped   {local_time(parse_iso(clock['stopped_at']), zone, True)}", "")
            )
        total = 0
        for span in clock["worked"]:
            # a worked span has both ends
            start, end = parse_iso(span["from"]), parse_iso(span["to"])
            total += end - start  # type: ignore[operator]
            # a running clock's spans run on to its due instant: say which are still ahead
            parts = [(start, end, "worked")]
            if start < now < end:  # type: ignore[operator]
                parts = [(start, now, "worked"), (now, end, "ahead")]
            elif start >= now:  # type: ignore[operator]
                parts = [(start, end, "ahead")]
            for a, b, label in parts:
                text = _span_text(a, b, cal_zone)  # type: ignore[arg-type]
                # the display zone beside it only when it reads differently (UTC vs Etc/UTC: once)
                shown = _span_text(a, b, zone)  # type: ignore[arg-type]
                if shown != text:
                    text += f"  ({shown})"
                lines.append((f"  {label:<9} {text}", "" if label == "worked" else "dim"))
        if clock["worked"]:
            lines.append(
                (
                    f"            {_hours(total)} of working time: the target"
                    if clock["state"] == "running"
                    else f"            {_hours(total)} of working time counted",
                    "dim",
                )
            )
        for pause in clock["paused"]:
            start, end = parse_iso(pause["from"]), parse_iso(pause["to"])
            if end is None:
                lines.append(
                    (
                        f"  paused    since {local_time(start, zone, True)} "
                        "(frozen until the case resumes)",
                        "magenta",
                    )
                )
            else:
                until_stop = clock["stopped_at"] is not None and pause["to"] == clock["stopped_at"]
                lines.append(
                    (
                        f"  paused    {_span_text(start, end, zone)} "  # type: ignore[arg-type]
                        + ("(until it stopped)" if until_stop else "(subtracted)"),
                        "magenta",
                    )
                )
        lines.append(
            (
                f"  warn at   {local_time(parse_iso(clock['warn_at']), zone, True)}"
                f"  ({percent}% of the target)",
                "",
            )
        )
        lines.append((f"  due at    {local_time(parse_iso(clock['due_at']), zone, True)}", ""))
    lines.append(("", ""))
    lines.append(_next_line(doc, now, zone))
    if with_plan:
        lines.extend(plan_lines(doc.get("plan") or [], now, zone))
    return lines


def plan_lines(steps: list[dict], now: int, zone: str) -> list[tuple[str, str]]:
    """The whole plan, one line per step, in the display zone."""
    if not steps:
        return []
    lines = [("", ""), ("Plan if nothing changes (every step the sweep will take):", "bold")]
    for step in steps:
        at = parse_iso(step["at"])
        when = "next sweep" if at <= now else short_time(at, zone, now)  # type: ignore[operator]  # steps have "at"
        lines.append(
            (f"  {when:<16}  {plan_step_text(step, zone, now)}", _PLAN_STYLE[step["action"]])
        )
    lines.append(("  then nothing more is scheduled", "dim"))
    return lines


_PLAN_STYLE = {"warn": "yellow", "breach": "red", "escalate": "bold red", "close": "dim"}


def plan_step_text(step: dict, zone: str, now: int) -> str:
    """One step in words: `escalate to tier 2 Specialist (resolution SLA breached),
    unassigned → notify tier:2 via command:0`."""
    action, clock = step["action"], step["clock"]
    if action == "warn":
        text = f"warn: {clock} SLA at risk, due {short_time(parse_iso(step['due']), zone, now)}"
    elif action == "breach":
        text = f"breach: {clock} SLA breached"
    elif action == "escalate":
        name = f" {step['to_tier_name']}" if step.get("to_tier_name") else ""
        who = f"stays with {step['owner']}" if step["owner"] else "unassigned"
        if step.get("routing"):
            who = f"routed to {step['owner']}: {step['routing']}"
        text = f"escalate to tier {step['to_tier']}{name} ({step['reason']}), {who}"
    else:
        text = f"close ({step['reason']})" if step.get("reason") else "close"
    if step["notify"]:
        text += f" → notify {step['notify']}"
        if step["channels"]:
            text += " via " + ", ".join(step["channels"])
    elif action == "breach":
        text += " (told with the escalation)"
    return clean(text)


def _next_line(doc: dict, now: int, zone: str) -> tuple[str, str]:
    upcoming = doc["next"]
    if upcoming is None:
        reason = {
            "pending": "its clocks are paused while it waits on the customer",
            "closed": "it is closed",
        }.get(doc["state"], "no clock will warn or breach")
        return (f"Next: nothing; {reason}", "bold")
    at = parse_iso(upcoming["at"])
    when = local_time(at, zone, True)
    soon = "the next sweep does it" if at <= now else relative(at, now)  # type: ignore[operator]
    action, clock = upcoming["action"], upcoming.get("clock")
    if action == "escalate":
        why = (
            "no activity at its tier for the tier's stale_after"
            if clock == "stale"
            else f"{clock} SLA breach"
        )
        name = f" {upcoming['tier_name']}" if upcoming.get("tier_name") else ""
        text = f"Next: escalate to tier {upcoming['tier']} at {when} ({clean(name.strip()) + ', ' if name else ''}{why}; {soon})"
    elif action == "warn":
        text = f"Next: warn at {when} ({clock} SLA at risk; {soon})"
    elif action == "breach":
        text = f"Next: record a breach at {when} ({clock} SLA; {soon})"
    else:
        text = f"Next: close at {when} ({soon})"
    return (text, "bold")


def _calendar_text(spec: dict) -> str:
    """A business calendar as its policy wrote it, on one line."""

    def ranges(hours) -> str:
        return hours if isinstance(hours, str) else ", ".join(hours) or "closed"

    hours = spec["hours"]
    if isinstance(hours, dict):
        text = "; ".join(f"{day} {ranges(h)}" for day, h in hours.items())
    else:
        text = f"{' '.join(spec['days'])} {ranges(hours)}"
    text += f" ({spec['timezone']})"
    if spec.get("dates"):
        text += "; dates: " + "; ".join(f"{d} {ranges(h)}" for d, h in spec["dates"].items())
    if spec.get("holidays"):
        text += "; holidays: " + ", ".join(spec["holidays"])
    if spec.get("country"):
        text += f"; public holidays of {spec['country']}" + (
            f"-{spec['subdivision']}" if spec.get("subdivision") else ""
        )
    return text


def explain(out: Output, doc: dict) -> None:
    if out.as_json:
        out.json(doc)
        return
    now, zone = out.env.now, out.env.tz
    if not out.tty:
        for text, _ in explain_lines(doc, now, zone):
            out.line(text)
        return
    from rich.table import Table
    from rich.text import Text

    console = out.console()
    for text, style in explain_lines(doc, now, zone, with_plan=False):
        head, cut, zoned = text.partition("  (")
        if cut and text.startswith(("  worked ", "  ahead ")) and len(text) > console.width:
            # the span in the display zone goes under it rather than wrap at the margin
            console.print(Text(head, style=style))
            console.print(Text(" " * 12 + "(" + zoned, style=style))
            continue
        console.print(Text(text, style=style))
    steps = doc.get("plan") or []
    if not steps:
        return
    console.print()
    console.print(Text("Plan if nothing changes (every step the sweep will take):", style="bold"))
    # a grid: a step too long for the terminal wraps under its own column, not under the time
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for step in steps:
        at = parse_iso(step["at"])
        when = "next sweep" if at <= now else short_time(at, zone, now)
        grid.add_row(
            Text("  " + when),
            Text(plan_step_text(step, zone, now), style=_PLAN_STYLE[step["action"]]),
        )
    console.print(grid)
    console.print(Text("  then nothing more is scheduled", style="dim"))
