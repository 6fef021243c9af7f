"""Views of the sweep's result, the overdue list, explain, and the notification outbox."""

from __future__ import annotations

import sys
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

PRIORITY_STYLE = {
    "urgent": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
}


def _text(value, style: str = ""):
    from rich.text import Text

    return Text(clean(value), style=style)


# Which overdue columns give way on a narrow terminal, in order (0: the column goes):
# team and customer first; the title keeps 30 characters at 80 columns; the status never
# shrinks.
OVERDUE_SHRINK = (
    ("team", 10),
    ("customer", 14),
    ("title", 41),
    ("team", 0),
    ("customer", 0),
    ("title", 31),
    ("owner", 6),
    ("clock", 0),
    ("title", 20),
    ("owner", 0),
    ("title", 12),
)


# -- sweep ----------------------------------------------------------------------------


def summary_line(doc: dict) -> str:
    """`sweep: 2 warned, 1 breached, 1 escalated, 0 closed, 3 notified (1 failed)`, and
    `; 2 retried` when notifications of earlier runs were sent again."""
    counts = (
        f"{len(doc['warned'])} warned, {len(doc['breached'])} breached, "
        f"{len(doc['escalated'])} escalated, {len(doc['closed'])} closed, "
        f"{len(doc['notified'])} notified"
    )
    if doc.get("dry_run"):
        return f"sweep --dry-run: {counts}; nothing written"
    line = f"sweep: {counts} ({doc['failed']} failed)"
    if doc.get("retried"):
        line += f"; {len(doc['retried'])} retried"
    return line


def _happened(doc: dict) -> bool:
    return any(
        doc.get(key) for key in ("warned", "breached", "escalated", "closed", "notified", "retried")
    )


def sweep_result(out: Output, doc: dict) -> None:
    """Cron manners: nothing at all when nothing happened, else one line (cron mails
    it); delivery failures one line per channel on stderr."""
    if out.as_json:
        out.json(doc)
        return
    for failure in doc.get("failures", []):
        retry_at = parse_iso(failure["next_attempt_at"])
        wait = f"next try in {duration(retry_at - out.env.now)}" if retry_at else "will retry"
        sys.stderr.write(
            f"sweep: {clean(failure['channel'])} failed: {clean(failure['error'])} "
            f"({wait}; esc notify retry sends now)\n"
        )
    if doc.get("dry_run"):
        for line in _dry_run_lines(doc):
            out.line(line)
        if not _happened(doc):
            out.line(f"sweep --dry-run: nothing to do ({doc['checked']} checked)")
            return
    elif not _happened(doc):
        return
    out.line(summary_line(doc))


def _dry_run_lines(doc: dict) -> list[str]:
    lines = [f"would warn #{w['case']}: {w['clock']} SLA at risk" for w in doc["warned"]]
    lines += [f"would record #{b['case']}: {b['clock']} SLA breached" for b in doc["breached"]]
    lands = {r["case"]: r for r in doc.get("routed", [])}
    lines += [
        f"would escalate #{e['case']} from tier {e['from']} to {e['to']}: "
        f"{clean(e['reason'])}{_lands(lands.get(e['case']))}"
        for e in doc["escalated"]
    ]
    lines += [f"would close #{c['case']}" for c in doc["closed"]]
    lines += [
        f"would notify {clean(n['recipient'])} about #{n['case']} ({n['kind']})"
        for n in doc["notified"]
    ]
    return lines


def _lands(where: dict | None) -> str:
    """`; to bob (least-loaded in tier 2: bob (1 of 8))`, or the queue it would wait in."""
    if where is None:
        return ""
    if where["owner"] is not None:
        return f"; to {clean(where['owner'])} ({clean(where['reason'])})"
    queue = f"team {clean(where['team'])}" if where["team"] else f"tier {where['tier']}"
    return f"; unassigned in {queue}'s queue ({clean(where['reason'])})"


class ProgressBar:
    """A progress bar for a large sweep: on stderr, and only when stderr is a terminal."""

    def __init__(self, env):
        self.env = env
        self._progress = None

    def start(self, total: int):
        if not self.env.stderr_tty:
            return None
        from rich.console import Console
        from rich.progress import Progress

        console = Console(file=sys.stderr, no_color=self.env.no_color)
        self._progress = Progress(console=console, transient=True)
        self._progress.start()
        task = self._progress.add_task("sweeping", total=total)
        return lambda: self._progress.advance(task)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


# -- overdue ----------------------------------------------------------------------------


def _clock_words(doc: dict, now: int) -> str:
    """`16d over`, `2h 10m left` (at risk), `in 2h 10m` (due soon): short enough for a
    wallboard at 80 columns."""
    from esc_cli.render.tables import compact_duration

    status = doc["clock_status"]
    if status == "breached":
        return f"{compact_duration(doc['overdue_by'])} over"
    if status == "at_risk":
        return f"{compact_duration(doc['due_in'])} left"
    return f"in {compact_duration(doc['due_in'])}"


def overdue(out: Output, docs: list[dict], within: str | None) -> None:
    now = out.env.now
    if out.as_json:
        out.json(docs)
        return
    if not out.tty:
        from esc_cli.render.views import plain_cases

        plain_cases(
            out,
            docs,
            ["clock", "status", "due_at", "overdue_by"],
            # (the pipe writes a missing overdue_by as an empty cell)
            lambda d: [d["clock"], d["clock_status"], d["clock_due"], d["overdue_by"]],
        )
        return
    from rich.text import Text

    console = out.console()
    if not docs:
        extra = f" or due within {clean(within)}" if within else ""
        console.print(Text(f"nothing breached or at risk{extra}", style="dim"))
        return
    console.print(overdue_table(console, docs, now))


def overdue_table(console, docs: list[dict], now: int, marked: frozenset = frozenset()):
    """The overdue table fitted to `console`; rows of the ids in `marked` stand out."""
    from rich.text import Text

    from esc_cli.render.tables import fitted
    from esc_cli.render.views import NEW_BREACH_STYLE

    rows = []
    for d in docs:
        style = {"breached": "bold red", "at_risk": "yellow"}.get(d["clock_status"], "")
        rows.append(
            [
                Text(f"#{d['id']}"),
                Text(d["priority"], style=PRIORITY_STYLE.get(d["priority"], "")),
                Text(str(d["tier"])),
                _text(d["owner"] or "-", "" if d["owner"] else "dim"),
                Text(d["clock"]),
                Text(_clock_words(d, now), style=style),
                _text(d["team"] or "-", "" if d["team"] else "dim"),
                _text(d["customer"]),
                _text(d["title"]),
            ]
        )
    styles = [NEW_BREACH_STYLE if d["id"] in marked else "" for d in docs]
    return fitted(
        console,
        ["id", "pri", "tier", "owner", "clock", "status", "team", "customer", "title"],
        rows,
        OVERDUE_SHRINK,
        row_styles=styles,
    )


# -- explain ------------------------------------------------------------------------------


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
                lines.append(
                    (
                        f"  paused    {_span_text(start, end, zone)} "  # type: ignore[arg-type]
                        f"(subtracted)",
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


# -- the outbox -------------------------------------------------------------------------------


def _delivery_words(delivery: dict, now: int, zone: str) -> str:
    state = delivery["state"]
    if state == "delivered":
        return "delivered"
    text = state
    if delivery["attempts"]:
        text += f" after {delivery['attempts']} attempt{'s' if delivery['attempts'] > 1 else ''}"
        retry_at = parse_iso(delivery["next_attempt_at"])
        if retry_at is not None:
            text += (
                f", next try {local_time(retry_at, zone)}"
                if retry_at > now
                else ", retried at the next sweep"
            )
    if delivery["last_error"]:
        text += f": {delivery['last_error']}"
    return text


def outbox(out: Output, rows_in: list[dict]) -> None:
    if out.as_json:
        out.json(rows_in)
        return
    if not out.tty:
        data = []
        for r in rows_in:
            deliveries = r["deliveries"] or [None]
            for d in deliveries:
                data.append(
                    [
                        r["id"],
                        r["case"],
                        r["kind"],
                        r["recipient"],
                        r["created_at"],
                        d and d["channel"],
                        d and d["state"],
                        d and d["attempts"],
                        d and d["last_error"],
                        d and d["next_attempt_at"],
                    ]
                )
        out.tsv(
            [
                "id",
                "case",
                "kind",
                "recipient",
                "created_at",
                "channel",
                "state",
                "attempts",
                "last_error",
                "next_attempt_at",
            ],
            data,
        )
        return
    from rich.text import Text

    console = out.console()
    if not rows_in:
        console.print(Text("the outbox is empty", style="dim"))
        return
    # like a mail log: one heading line per notification, one line per channel under it
    now, zone = out.env.now, out.env.tz
    for r in rows_in:
        head = Text()
        head.append(local_time(parse_iso(r["created_at"]), zone), style="dim")
        head.append(f"  #{r['case']} {r['kind']} to ")
        head.append(clean(r["recipient"]), style="bold")
        head.append(f"  {r['id']}", style="dim")
        # one line each, cut rather than wrapped (a long error would read as a new entry)
        console.print(head, no_wrap=True, overflow="ellipsis")
        if not r["deliveries"]:
            console.print(Text("    no channel configured", style="dim"))
        for d in r["deliveries"]:
            style = {"delivered": "green", "failed": "red"}.get(d["state"], "yellow")
            line = Text(f"    {clean(d['channel'])}  ")
            line.append(clean(_delivery_words(d, now, zone)), style=style)
            console.print(line, no_wrap=True, overflow="ellipsis")


def retried(out: Output, doc: dict) -> None:
    if out.as_json:
        out.json(doc)
        return
    for attempt in doc["attempts"]:
        if not attempt["delivered"]:
            sys.stderr.write(
                f"notify: {clean(attempt['channel'])} failed for #{attempt['case']} "
                f"({attempt['id']}): {clean(attempt['error'])}\n"
            )
    if not doc["attempts"]:
        out.line(
            "nothing to deliver"
            if doc["channels"]
            else "no notification channel configured; nothing to deliver"
        )
        return
    out.line(f"notify: {doc['delivered']} delivered, {doc['failed']} failed")
