"""Views of cases, queues, the ladder, people and the policy. Each receives documents
and prints them: Rich on a terminal, TSV in a pipe, JSON with --json."""

from __future__ import annotations

from esc_cli.render.output import (
    Output, clean, duration, local_time, parse_iso, relative, short_time,
)

PRIORITY_STYLE = {"urgent": "bold white on red", "high": "bold red", "medium": "yellow",
                  "low": "cyan"}
STATE_STYLE = {"new": "bold", "open": "green", "pending": "magenta", "resolved": "dim",
               "closed": "dim"}


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
    style = "bold red" if doc["breached"] else ("yellow" if doc["at_risk"] else "")
    return Text(relative(due, now), style=style)


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

def case_detail(out: Output, doc: dict) -> None:
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
    facts.add_row("state", Text(doc["state"], style=STATE_STYLE.get(doc["state"], "")),
                  "priority", Text(doc["priority"], style=PRIORITY_STYLE.get(doc["priority"], "")))
    facts.add_row("tier", _text(f"{doc['tier']} {doc['tier_name'] or ''}"), "owner", _text(owner))
    facts.add_row("customer", _text(doc["customer"]), "team", _text(doc["team"] or "-"))
    facts.add_row("category", _text(doc["category"]), "channel", _text(doc["channel"]))
    facts.add_row("opened", _text(local_time(parse_iso(doc["opened_at"]), zone)),
                  "tags", _text(", ".join(doc["tags"]) or "-"))
    extra = []
    if doc["csat"] is not None:
        extra.append(f"CSAT {doc['csat']}/5")
    if doc["escalations"]:
        extra.append(f"{doc['escalations']} escalation(s)")
    if doc["reopened"]:
        extra.append(f"reopened {doc['reopened']}x")
    if extra:
        facts.add_row("", "", "", _text(" · ".join(extra)))

    clocks = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("clock", "target", "calendar", "due", "status"):
        # the due instant and its status must stay on one line each to be read at a glance
        clocks.add_column(column, no_wrap=column != "calendar", overflow="ellipsis",
                          max_width=14 if column == "calendar" else None)
    for clock in doc.get("clocks", []):
        clocks.add_row(clock["clock"], clock["target"] or "-", clean(clock["calendar"]),
                       short_time(parse_iso(clock["due_at"]), zone, now),
                       _clock_status(clock, now))

    timeline = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in ("when", "who", "what", "detail"):
        timeline.add_column(column, overflow="fold")
    for event in doc.get("events", []):
        timeline.add_row(short_time(parse_iso(event["at"]), zone, now), _text(event["actor"]),
                         event["kind"], _text(_event_detail(event), multiline=True))
    parts = [facts]
    if doc["description"]:
        parts += [Text(""), _text(doc["description"], multiline=True)]
    parts += [Text(""), Text("SLA clocks", style="bold"), clocks,
              Text(""), Text("Timeline", style="bold"), timeline]
    out.console().print(Panel(Group(*parts), title=head, title_align="left", box=box.ROUNDED))


def _clock_status(clock: dict, now: int):
    from rich.text import Text

    status, due = clock["status"], parse_iso(clock["due_at"])
    stopped = parse_iso(clock.get("stopped_at"))
    if clock["state"] == "off":
        return Text("no target" if clock["target"] is None else "not started", style="dim")
    if status == "breached":
        return Text(f"BREACHED {duration(now - due)} overdue", style="bold red")
    if status == "at_risk":
        return Text(f"at risk, {relative(due, now)}", style="yellow")
    if status == "missed":
        return Text(f"missed by {duration(stopped - due)}" if stopped else "missed", style="red")
    if status == "met":
        return Text(f"met, {duration(due - stopped)} to spare" if stopped else "met", style="green")
    if clock["state"] == "frozen":
        return Text("paused", style="magenta")
    return Text(relative(due, now), style="green")


def _event_detail(event: dict) -> str:
    parts = []
    if event["field"] and (event["from"] is not None or event["to"] is not None):
        parts.append(f"{event['field']}: {event['from'] or '-'} → {event['to'] or '-'}")
    if event["reason"]:
        parts.append(event["reason"])
    return "  ".join(parts)


def _case_plain(out: Output, doc: dict) -> None:
    fields = ("id", "title", "state", "priority", "tier", "tier_name", "owner", "team",
              "customer", "category", "channel", "tags", "opened_at", "acknowledged_at",
              "resolved_at", "closed_at", "respond_by", "update_by", "resolve_by", "at_risk",
              "breached", "missed", "escalations", "reopened", "csat")
    out.line("field\tvalue")  # every table in a pipe starts with a header row
    for name in fields:
        value = doc[name]
        if isinstance(value, list):
            value = ",".join(value)
        out.line(f"{name}\t{clean(value) if value is not None else ''}")
    out.line(f"description\t{clean(doc['description'])}")
    out.line("")
    out.tsv(["clock", "target", "calendar", "zone", "due_at", "state", "status"],
            [[c["clock"], c["target"], c["calendar"], c["zone"], c["due_at"], c["state"],
              c["status"]] for c in doc.get("clocks", [])])
    out.line("")
    out.tsv(["at", "actor", "kind", "field", "from", "to", "reason"],
            [[e["at"], e["actor"], e["kind"], e["field"], e["from"], e["to"], e["reason"]]
             for e in doc.get("events", [])])


# -- lists of cases ------------------------------------------------------------------

def case_list(out: Output, docs: list[dict], empty: str = "no cases") -> None:
    now = out.env.now
    if out.as_json:
        out.json(docs)
        return
    if not out.tty:
        out.tsv(["id", "priority", "state", "tier", "owner", "team", "due_at", "due_clock",
                 "status", "customer", "title"],
                [[d["id"], d["priority"], d["state"], d["tier"], d["owner"], d["team"],
                  d["due_at"], d["due_clock"], _status_word(d), d["customer"], d["title"]]
                 for d in docs])
        return
    from rich.table import Table
    from rich.text import Text

    console = out.console()
    if not docs:
        console.print(Text(empty, style="dim"))
        return
    headers = ("id", "pri", "state", "tier", "owner", "due", "clock", "customer", "title")
    rows = [
        (
            Text(f"#{d['id']}"),
            Text(d["priority"], style=PRIORITY_STYLE.get(d["priority"], "")),
            Text(d["state"], style=STATE_STYLE.get(d["state"], "")),
            _text(f"{d['tier']} {d['tier_name'] or ''}".strip()),
            _text(d["owner"] or "-", None if d["owner"] else "dim"),
            _due_cell(d, now),
            Text(d.get("due_clock") or "" if d["state"] != "pending" else "", style="dim"),
            _text(d["customer"]),
            _text(d["title"]),
        )
        for d in docs
    ]
    natural = [max([len(h)] + [row[i].cell_len for row in rows]) for i, h in enumerate(headers)]
    widths = _fit(natural, console.width - 2 * (len(headers) - 1), QUEUE_SHRINK)
    # box=None keeps two spaces between columns: at 80 columns every one counts
    table = Table(box=None, pad_edge=False, padding=(0, 1), header_style="bold")
    for index, header in enumerate(headers):
        table.add_column(header, justify="right" if header == "id" else "left", no_wrap=True,
                         overflow="ellipsis", width=widths[index])
    for row in rows:
        table.add_row(*row)
    console.print(table)


# Which queue columns give up width first on a narrow terminal, and how far: the clock
# name, then the tier name, customer, owner, the title; the due time never shrinks.
QUEUE_SHRINK = ((6, 4), (3, 8), (7, 12), (4, 8), (8, 20), (7, 8), (6, 0), (3, 6), (4, 6), (8, 10))


def _fit(natural: list[int], available: int, stages) -> list[int]:
    """Column widths that fit `available` cells, shrinking columns stage by stage, each
    down to its floor; a terminal too narrow even then gets the floors."""
    widths = list(natural)
    for column, floor in stages:
        excess = sum(widths) - available
        if excess <= 0:
            break
        if widths[column] > floor:
            widths[column] -= min(excess, widths[column] - floor)
    return widths


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
    data = [[r["level"], r["name"], r["stale_after"] or "none", ", ".join(r["owners"]),
             ", ".join(r["teams"]), ", ".join(r["rules"])] for r in rows]
    _table(out, headers, data)


def owner_list(out: Output, rows: list[dict]) -> None:
    if out.as_json:
        out.json(rows)
        return
    headers = ["handle", "name", "email", "tier", "teams", "capacity", "load", "active"]
    data = [[r["handle"], r["name"], r["email"], r["tier"], ", ".join(r["teams"]),
             r["capacity"] if r["capacity"] is not None else "", r["load"],
             "yes" if r["active"] else "no"] for r in rows]
    _table(out, headers, data)


def owner_written(out: Output, doc: dict, verb: str) -> None:
    if out.as_json:
        out.json(doc)
    elif out.tty:
        out.console().print(_text(f"owner {doc['handle']} {verb}"))
    else:
        out.line(clean(doc["handle"]))


def _table(out: Output, headers: list[str], rows: list[list]) -> None:
    if not out.tty:
        out.tsv(headers, rows)
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header in headers:
        table.add_column(header)
    for row in rows:
        table.add_row(*[_text("" if v is None else v) for v in row])
    out.console().print(table)


def policy_text(out: Output, version: int, text: str, document: dict | None) -> None:
    if out.as_json:
        out.json({"version": version, "policy": document})
        return
    if out.tty:
        from rich.syntax import Syntax

        out.console().print(f"# policy version {version}", style="dim", markup=False)
        out.console().print(Syntax(text, "toml", theme="ansi_dark", background_color="default"))
    else:
        out.line(text.rstrip("\n"))
