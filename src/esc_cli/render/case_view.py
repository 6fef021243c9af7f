"""One case as `esc show` prints it: on a terminal a panel of its facts and SLA
clocks with its timeline below, in a pipe its fields, clocks and events as TSV, with
--json its document."""

from __future__ import annotations

from esc_cli.render.output import Output, clean, duration, parse_iso, relative, short_time
from esc_cli.render.views import PRIORITY_STYLE, STATE_STYLE, _text

# A terminal's timeline shows the latest events, as `gh issue view` does with comments;
# `esc show ID --all` (and every pipe and --json) has all of them.
TIMELINE_LATEST = 20
# and each event's text as far as a person reads it there: a note pasted whole (a log,
# 100 KB) took thousands of lines at 80 columns; the pipe and --json keep all of it
DETAIL_MAX_CHARS = 1200
DETAIL_MAX_LINES = 24


def case_detail(out: Output, doc: dict, latest: int | None = None) -> None:
    now, zone = out.env.now, out.env.tz
    if out.as_json:
        out.json(doc)
        return
    if not out.tty:
        _case_plain(out, doc)
        return
    from rich import box
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    # a title longer than the border is cut with an ellipsis, never silently
    head = Text(no_wrap=True, overflow="ellipsis")
    head.append(f"#{doc['id']} ", style="bold")
    head.append(clean(doc["title"]), style="bold")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="dim", justify="right")
    facts.add_column()
    facts.add_column(style="dim", justify="right")
    facts.add_column()
    owner = doc["owner"] or "(unassigned)"
    facts.add_row(
        "state",
        Text(doc["state"], style=STATE_STYLE.get(doc["state"], "")),
        "priority",
        Text(doc["priority"], style=PRIORITY_STYLE.get(doc["priority"], "")),
    )
    facts.add_row("tier", _text(f"{doc['tier']} {doc['tier_name'] or ''}"), "owner", _text(owner))
    facts.add_row("customer", _text(doc["customer"]), "team", _text(doc["team"] or "-"))
    facts.add_row("category", _text(doc["category"]), "channel", _text(doc["channel"]))
    facts.add_row(
        "opened",
        _text(short_time(parse_iso(doc["opened_at"]), zone, now)),
        "tags",
        _text(", ".join(doc["tags"]) or "-"),
    )
    extra = []
    if doc["csat"] is not None:
        extra.append(f"CSAT {doc['csat']}/5")
    if doc["escalations"]:
        extra.append(f"{doc['escalations']} escalation(s)")
    if doc["reopened"]:
        extra.append(f"reopened {doc['reopened']}x")

    # one line per clock inside the panel (its border and padding take 4 cells): the
    # calendar's name gives way first, the due instant and its status last
    from esc_cli.render.tables import fitted

    console = out.console()
    clock_rows = [
        [
            Text(clock["clock"]),
            Text(clock["target"] or "-"),
            _text(clock["calendar"]),
            Text(short_time(parse_iso(clock["due_at"]), zone, now)),
            _clock_status(clock, now),
        ]
        for clock in doc.get("clocks", [])
    ]
    clocks = fitted(
        console,
        ["clock", "target", "calendar", "due", "status"],
        clock_rows,
        (("calendar", 10), ("calendar", 0), ("target", 0), ("status", 16)),
        right=(),
        width=console.width - 4,
    )

    # when, who and what stay on one line each; the detail takes the rest of the width
    timeline = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    timeline.add_column("when", no_wrap=True)
    timeline.add_column("who", no_wrap=True, overflow="ellipsis", max_width=12)
    timeline.add_column("what", no_wrap=True, overflow="ellipsis", max_width=15)
    timeline.add_column("detail", ratio=1, overflow="fold")
    events = doc.get("events", [])
    hidden = max(0, len(events) - latest) if latest is not None else 0
    for event in events[hidden:]:
        timeline.add_row(
            _when(parse_iso(event["at"]), zone, now),  # type: ignore[arg-type]
            _text(event["actor"]),
            event["kind"],
            _text(_shortened(_event_detail(event, zone, now), doc["id"]), multiline=True),
        )
    parts: list = [facts]
    if extra:  # a line of its own: in the grid's last column it broke mid-item
        parts.append(Text(" · ".join(extra), style="dim"))
    if doc["description"]:
        parts += [Text(""), _text(doc["description"], multiline=True)]
    parts += [Text(""), Text("SLA clocks", style="bold"), clocks]
    console.print(Panel(Group(*parts), title=head, title_align="left", box=box.ROUNDED))
    # the timeline goes below the panel: its detail column gets the whole width
    console.print(Text("Timeline", style="bold"))
    if hidden:
        console.print(
            Text(
                f"{hidden} earlier event{'s' if hidden > 1 else ''} hidden: "
                f"esc show {doc['id']} --all",
                style="dim",
            )
        )
    console.print(timeline)


def _clock_status(clock: dict, now: int):
    from rich.text import Text

    status, due = clock["status"], parse_iso(clock["due_at"])
    stopped = parse_iso(clock.get("stopped_at"))
    if clock["state"] == "off":
        return Text("no target" if clock["target"] is None else "not started", style="dim")
    if status == "breached":
        # a breached, missed or met clock has its due instant
        return Text(f"BREACHED {duration(now - due)} overdue", style="bold red")  # type: ignore[operator]
    if status == "at_risk":
        return Text(f"at risk, {relative(due, now)}", style="yellow")
    if status == "missed":
        return Text(f"missed by {duration(stopped - due)}" if stopped else "missed", style="red")  # type: ignore[operator]
    if status == "met":
        if stopped and stopped > due:  # type: ignore[operator]
            # resolved straight from pending past a due time its wait never moved
            return Text("met (pending not counted)", style="green")
        return Text(f"met, {duration(due - stopped)} to spare" if stopped else "met", style="green")  # type: ignore[operator]
    if clock["state"] == "frozen":
        return Text("paused", style="magenta")
    return Text(relative(due, now), style="green")


def _when(instant: int, zone: str, now: int) -> str:
    """`02 Nov 14:18` in the current year, `2025-11-02 14:18` outside it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp(instant, tz)
    if moment.year == datetime.fromtimestamp(now, tz).year:
        return moment.strftime("%d %b %H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def _shortened(detail: str, case_id: int) -> str:
    """An event's text cut to what a terminal's timeline shows, saying how much is left
    and where it is."""
    lines = detail.split("\n")
    cut = "\n".join(lines[:DETAIL_MAX_LINES])[:DETAIL_MAX_CHARS]
    if len(cut) == len(detail):
        return detail
    return f"{cut}… ({len(detail) - len(cut):,} more characters: esc show {case_id} --json)"


def _event_detail(event: dict, zone: str, now: int) -> str:
    if event["kind"] in ("warned", "breached") and event["field"]:
        # `to` holds the clock's due instant: say it in the display zone, as the clocks do
        due = short_time(parse_iso(event["to"]), zone, now) if event["to"] else "?"
        state = "at risk" if event["kind"] == "warned" else "breached"
        return f"{event['field']} due {due} — {state}"
    parts = []
    if event["field"] and (event["from"] is not None or event["to"] is not None):
        parts.append(f"{event['field']}: {event['from'] or '-'} → {event['to'] or '-'}")
    if event["reason"]:
        parts.append(event["reason"])
    return "  ".join(parts)


def _case_plain(out: Output, doc: dict) -> None:
    fields = (
        "id",
        "title",
        "state",
        "priority",
        "tier",
        "tier_name",
        "owner",
        "team",
        "customer",
        "category",
        "channel",
        "tags",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "respond_by",
        "update_by",
        "resolve_by",
        "at_risk",
        "breached",
        "missed",
        "escalations",
        "reopened",
        "csat",
    )
    out.line("field\tvalue")  # every table in a pipe starts with a header row
    for name in fields:
        value = doc[name]
        if isinstance(value, list):
            value = ",".join(value)
        out.line(f"{name}\t{clean(value) if value is not None else ''}")
    out.line(f"description\t{clean(doc['description'])}")
    out.line("")
    out.tsv(
        ["clock", "target", "calendar", "zone", "due_at", "state", "status"],
        [
            [
                c["clock"],
                c["target"],
                c["calendar"],
                c["zone"],
                c["due_at"],
                c["state"],
                c["status"],
            ]
            for c in doc.get("clocks", [])
        ],
    )
    out.line("")
    out.tsv(
        ["at", "actor", "kind", "field", "from", "to", "reason"],
        [
            [e["at"], e["actor"], e["kind"], e["field"], e["from"], e["to"], e["reason"]]
            for e in doc.get("events", [])
        ],
    )
