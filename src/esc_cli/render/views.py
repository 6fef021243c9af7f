"""Views of cases, queues, the ladder, people and the policy. Each receives documents
and prints them: Rich on a terminal, TSV in a pipe, JSON with --json."""

from __future__ import annotations

from esc_cli.render.output import (
    Output,
    clean,
    duration,
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
STATE_STYLE = {
    "new": "bold",
    "open": "green",
    "pending": "magenta",
    "resolved": "dim",
    "closed": "dim",
}


def _text(value, style: str | None = None, multiline: bool = False):
    from rich.text import Text

    return Text(clean(value, multiline), style=style or "")


def _due_cell(doc: dict, now: int):
    from rich.text import Text

    due = parse_iso(doc.get("due_at"))
    if doc["state"] == "pending":
        return Text("paused", style="magenta")
    if due is None:
        return Text("")
    from esc_cli.render.tables import compact_due

    style = "bold red" if doc["breached"] else ("yellow" if doc["at_risk"] else "")
    return Text(compact_due(due, now), style=style)


# -- writes --------------------------------------------------------------------


def written(out: Output, doc: dict, verb: str, detail: str | None = None) -> None:
    if out.as_json:
        out.json(doc)
    elif out.tty:
        suffix = f" {clean(detail)}" if detail else ""
        out.console().print(_text(f"#{doc['id']} {verb}{suffix}"))
    else:
        out.line(str(doc["id"]))


# -- one case --------------------------------------------------------------------

# A terminal's timeline shows the latest events, as `gh issue view` does with comments;
# `esc show ID --all` (and every pipe and --json) has all of them.
TIMELINE_LATEST = 20


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

    head = Text()
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
    if extra:
        facts.add_row("", "", "", _text(" · ".join(extra)))

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
            _text(_event_detail(event, zone, now), multiline=True),
        )
    parts: list = [facts]
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


# -- lists of cases ------------------------------------------------------------------


def case_list(out: Output, docs: list[dict], empty: str = "no cases") -> None:
    now = out.env.now
    if out.as_json:
        out.json(docs)
        return
    if not out.tty:
        plain_cases(
            out,
            docs,
            ["due_at", "due_clock", "status"],
            lambda d: [d["due_at"], d["due_clock"], _status_word(d)],
        )
        return
    from rich.text import Text

    console = out.console()
    if not docs:
        console.print(Text(empty, style="dim"))
        return
    console.print(case_table(console, docs, now))


# A case in a pipe, in every list of cases (queue, search, overdue): who has it and
# where, then the list's own columns, then whose case it is and what.
PLAIN_FIRST = ("id", "priority", "state", "tier", "owner", "team")
PLAIN_LAST = ("customer", "title")


def plain_cases(out: Output, docs: list[dict], headers: list[str], cells) -> None:
    """A list of cases as tab-separated rows: each case's PLAIN_FIRST fields, the list's
    own `headers` (each row's from `cells(doc)`), then its PLAIN_LAST fields."""
    out.tsv(
        [*PLAIN_FIRST, *headers, *PLAIN_LAST],
        [[*(d[k] for k in PLAIN_FIRST), *cells(d), *(d[k] for k in PLAIN_LAST)] for d in docs],
    )


NEW_BREACH_STYLE = "reverse"


def case_table(console, docs: list[dict], now: int, marked: frozenset = frozenset()):
    """The queue's table fitted to `console`; rows of the case ids in `marked` stand
    out (the wallboard's new breaches)."""
    from rich.text import Text

    from esc_cli.render.tables import fitted

    headers = ["id", "pri", "state", "tier", "owner", "due", "clock", "team", "customer", "title"]
    rows = [
        [
            Text(f"#{d['id']}"),
            Text(d["priority"], style=PRIORITY_STYLE.get(d["priority"], "")),
            Text(d["state"], style=STATE_STYLE.get(d["state"], "")),
            Text(str(d["tier"])),
            # unowned past own_within (issue 21): `-!` in red
            _text(
                d["owner"] or ("-!" if d.get("unowned_overdue") else "-"),
                None if d["owner"] else ("bold red" if d.get("unowned_overdue") else "dim"),
            ),
            _due_cell(d, now),
            Text(d.get("due_clock") or "" if d["state"] != "pending" else "", style="dim"),
            _text(d["team"] or "-", None if d["team"] else "dim"),
            _text(d["customer"]),
            _text(d["title"]),
        ]
        for d in docs
    ]
    styles = [NEW_BREACH_STYLE if d["id"] in marked else "" for d in docs]
    return fitted(console, headers, rows, QUEUE_SHRINK, row_styles=styles)


# Which queue columns give way on a narrow terminal, in order, and down to what (0: the
# column goes): team and customer first, then the clock name; the title keeps 30
# characters (and its ellipsis) at 80 columns; the due time never shrinks.
QUEUE_SHRINK = (
    ("team", 10),
    ("customer", 14),
    ("title", 41),
    ("team", 0),
    ("customer", 0),
    ("clock", 0),
    ("title", 31),
    ("owner", 6),
    ("state", 0),
    ("title", 20),
    ("owner", 0),
    ("title", 12),
)


def _status_word(doc: dict) -> str:
    if doc["state"] == "pending":
        return "paused"
    if doc["breached"]:
        return "breached"
    if doc["at_risk"]:
        return "at_risk"
    return "ok"


# -- ladder, people, policy ------------------------------------------------------------


def tier_list(out: Output, rows: list[dict]) -> None:
    if out.as_json:
        out.json(rows)
        return
    headers = ["level", "name", "stale_after", "owners", "teams", "rules"]
    data = [
        [
            r["level"],
            r["name"],
            r["stale_after"] or "none",
            ", ".join(r["owners"]),
            ", ".join(r["teams"]),
            ", ".join(r["rules"]),
        ]
        for r in rows
    ]
    _table(
        out,
        headers,
        data,
        (
            ("rules", 16),
            ("teams", 14),
            ("owners", 20),
            ("name", 10),
            ("rules", 8),
            ("teams", 8),
            ("owners", 12),
        ),
    )


def owner_list(out: Output, rows: list[dict]) -> None:
    if out.as_json:
        out.json(rows)
        return
    headers = ["handle", "name", "email", "tier", "teams", "capacity", "load", "active"]
    data = [
        [
            r["handle"],
            r["name"],
            r["email"],
            r["tier"],
            ", ".join(r["teams"]),
            r["capacity"] if r["capacity"] is not None else "",
            r["load"],
            "yes" if r["active"] else "no",
        ]
        for r in rows
    ]
    if not out.tty:
        # scripts read these columns as they were; who is away is in --json (away_until)
        _table(out, headers, data)
        return
    # on a terminal load and capacity share a column (`2/12`): the email stays whole at
    # 80 columns, where a person copies it from. Away shows in the active column, as
    # short as it can be said (`away to 08 Dec`, `away to 17:00` today).
    terminal = [
        [
            r["handle"],
            r["name"],
            r["email"],
            r["tier"],
            ", ".join(r["teams"]),
            f"{r['load']}/{r['capacity']}" if r["capacity"] is not None else r["load"],
            _active_cell(r, out.env.tz, out.env.now),
        ]
        for r in rows
    ]
    _table(
        out,
        ["handle", "name", "email", "tier", "teams", "load", "active"],
        terminal,
        (
            ("teams", 10),
            ("name", 10),
            ("teams", 6),
            ("name", 0),
            ("email", 20),
            ("handle", 8),
            ("teams", 0),
            ("email", 12),
        ),
    )


def _active_cell(row: dict, zone: str, now: int) -> str:
    if not row["active"]:
        return "no"
    if not row.get("away_until"):
        return "yes"
    return f"away to {_day_or_time(parse_iso(row['away_until']), zone, now)}"  # type: ignore[arg-type]  # set


def _day_or_time(instant: int, zone: str, now: int) -> str:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp(instant, tz)
    if moment.date() == datetime.fromtimestamp(now, tz).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%d %b")


def owner_written(out: Output, doc: dict, verb: str) -> None:
    if out.as_json:
        out.json(doc)
    elif out.tty:
        out.console().print(_text(f"owner {doc['handle']} {verb}"))
    else:
        out.line(clean(doc["handle"]))


def _table(out: Output, headers: list[str], rows: list[list], stages=()) -> None:
    """TSV in a pipe; on a terminal one line per row, fitted by `stages` (tables.fitted)."""
    if not out.tty:
        out.tsv(headers, rows)
        return
    from esc_cli.render.tables import fitted

    console = out.console()
    cells = [[_text("" if v is None else v) for v in row] for row in rows]
    console.print(
        fitted(console, headers, cells, stages, right=("level", "tier", "capacity", "load"))
    )


def policy_text(out: Output, version: int, text: str, document: dict | None) -> None:
    if out.as_json:
        out.json({"version": version, "policy": document})
        return
    if out.tty:
        from rich.syntax import Syntax

        out.console().print(f"# policy version {version}", style="dim", markup=False)
        from esc_cli.render.output import visible

        # a policy's comments and strings may hold C1 controls and bidi overrides
        out.console().print(
            Syntax(visible(text), "toml", theme="ansi_dark", background_color="default")
        )
    else:
        out.line(clean(text, multiline=True).rstrip("\n"))
