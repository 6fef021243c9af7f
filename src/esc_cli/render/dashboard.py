"""The report as a terminal dashboard: KPI tiles with the change against the previous
window, SLA and times per priority, backlog age bars, a sparkline per trend series and
the breakdown table. It fits 80 columns and spreads out on a wider terminal."""

from __future__ import annotations

from esc_cli.render.figures import (
    SERIES,
    change,
    fmt_figure,
    fmt_pair,
    fmt_rate,
    fmt_seconds,
    partial_days,
    sparkline,
    window_days,
    window_text,
)
from esc_cli.render.output import clean
from esc_cli.render.tables import natural_width

TILES = (
    ("opened", "Opened"),
    ("resolved", "Resolved"),
    ("backlog", "Backlog"),
    ("escalation_rate", "Escalation"),
    ("fcr_rate", "FCR"),
    ("reopen_rate", "Reopens"),
    ("csat_avg", "CSAT"),
    ("response_sla_met", "Response SLA"),
    ("resolution_sla_met", "Resolution SLA"),
    ("unowned", "Unowned"),
)
MOOD = {"good": "bold green", "bad": "bold red", "neutral": "dim", "none": "dim"}
PRIORITY_STYLE = {"urgent": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
COLUMN_LABELS = {
    "opened": "opened",
    "resolved": "resolved",
    "backlog": "backlog",
    "escalation_rate": "escal.",
    "fcr_rate": "FCR",
    "reopen_rate": "reopen",
    "csat_avg": "CSAT",
    "response_sla_met": "resp.\nSLA",
    "resolution_sla_met": "resol.\nSLA",
    "time_to_respond": "respond\np50 / p90",
    "time_to_resolve": "resolve\np50 / p90",
    "time_to_owner": "owner\np50 / p90",
    "unowned": "unowned",
}
# Breakdown columns in the order they are dropped last-first when the terminal is narrow.
COLUMN_ORDER = (
    "opened",
    "resolved",
    "backlog",
    "escalation_rate",
    "fcr_rate",
    "response_sla_met",
    "resolution_sla_met",
    "csat_avg",
    "reopen_rate",
    "time_to_respond",
    "time_to_resolve",
    "time_to_owner",
    "unowned",
)
PRIORITY_FORMS = ("wide", "short heads", "stacked", "split", "split stacked")
BREAKDOWN_ROWS = 20
WIDE = 110


def dashboard(console, document: dict, dimension: str | None, zone: str) -> None:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    width = console.width
    parts: list = []  # renderables
    parts.append(Text("Escalation report", style="bold"))
    # one line where it fits; the window and the comparison on two lines where it would
    # wrap mid-phrase (80 columns, a long zone name)
    window = window_text(document, zone)
    against = f"▲/▼ against the {window_days(document)} before"
    if len(window) + 3 + len(against) <= width:
        parts.append(Text(f"{window} · {against}", style="dim"))
    else:
        parts += [Text(window, style="dim"), Text(against, style="dim")]
    parts.append(_tiles(document, width))

    # the table beside the backlog's ages where both fit whole, else above them; and
    # its times stacked (p90 under p50), then in a table of their own, where side by
    # side they would be cut
    for form in PRIORITY_FORMS:
        sla = _priority_table(document, form)
        sla_width = natural_width(console, sla)
        if sla_width <= width:
            break
    if sla_width + 4 + 24 <= width:
        side = width - sla_width - 4
        row = Table.grid(padding=(0, 4))
        row.add_column()
        row.add_column()
        row.add_row(sla, _aging(document, side))
        parts += [Text(""), row]
    else:
        parts += [Text(""), sla, Text(""), _aging(document, width)]
    parts += [Text(""), _trend(document, width, partial_days(document, zone))]
    if document.get("by") is not None:
        parts += [Text(""), *_breakdown(console, document, dimension, width)]
    console.print(Group(*parts))


def _tiles(document: dict, width: int):
    from rich import box
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    per_row = 9 if width >= 170 else (5 if width >= WIDE else 3)
    previous = document["previous"]
    grid = Table.grid(expand=True, padding=(0, 1))
    for _ in range(per_row):
        grid.add_column(ratio=1)
    cells: list = []  # panels, then blank Texts to fill the last row
    for key, label in TILES:
        moved, mood = change(key, document[key], previous[key])
        body = Text(no_wrap=True, overflow="ellipsis")
        body.append(fmt_figure(key, document[key]), style="bold")
        if key == "csat_avg":
            body.append(f"  n={document['csat_count']}", style="dim")
        body.append("\n")
        body.append(moved or "–", style=MOOD[mood])
        body.append("\n")
        body.append(f"was {fmt_figure(key, previous[key])}", style="dim")
        cells.append(Panel(body, title=label, title_align="left", box=box.ROUNDED, padding=(0, 1)))
    while len(cells) % per_row:
        cells.append(Text(""))
    for start in range(0, len(cells), per_row):
        grid.add_row(*cells[start : start + per_row])
    return grid


def _priority_table(document: dict, form: str):
    """The table in one of five forms, each narrower than the one before: "wide",
    "short heads" (resp./resol.), "stacked" (short heads, and p90 under p50), "split"
    (the times in a table of their own under the counts and SLA), "split stacked" (that,
    p90 under p50). Below 67 columns the stacked table still cut "100.0%" and "18h 5m"."""
    if not form.startswith("split"):
        return _priority_figures(document, form, counts=True, times=True)
    from rich.console import Group
    from rich.text import Text

    pairs = "stacked" if form == "split stacked" else "wide"
    return Group(
        _priority_figures(document, "wide", counts=True, times=False),
        Text(""),
        _priority_figures(document, pairs, counts=False, times=True),
    )


def _priority_figures(document: dict, form: str, counts: bool, times: bool):
    """A table per priority and for all: the counts and SLA shares, the times, or both
    (the title goes on the table that has the counts)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    narrow = form != "wide"
    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=narrow,
        title="SLA and times by priority" if counts else None,
        title_justify="left",
        title_style="bold",
    )
    table.add_column("priority", no_wrap=True)
    sla_names = ("resp.\nSLA", "resol.\nSLA") if narrow else ("response\nSLA", "resolution\nSLA")
    # narrow, each time's p90 goes under its p50: side by side the three pairs took 48
    # columns and at 80 Rich cut every figure ("2h 28m / 4h 2…")
    stacked = form == "stacked"
    pair_head = "\np50\np90" if stacked else "\np50 / p90"
    names = ["opened", "backlog", *sla_names] if counts else []
    if times:
        names += [f"respond{pair_head}", f"resolve{pair_head}", f"owner{pair_head}"]
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)

    def pair(figures: dict):
        if not stacked:
            return fmt_pair(figures)
        return Text(fmt_seconds(figures["p50"])) + Text(
            f"\n{fmt_seconds(figures['p90'])}", style="dim"
        )

    def row(name, style, figures):
        cells: list = [Text(name, style=style)]
        if counts:
            cells += [
                str(figures["opened"]),
                str(figures["backlog"]),
                fmt_rate(figures["response_sla_met"]),
                fmt_rate(figures["resolution_sla_met"]),
            ]
        if times:
            cells += [
                pair(figures["time_to_respond"]),
                pair(figures["time_to_resolve"]),
                pair(figures["time_to_owner"]),
            ]
        table.add_row(*cells)

    for priority, figures in document["by_priority"].items():
        row(priority, PRIORITY_STYLE.get(priority, ""), figures)
    table.add_section()
    row("all", "bold", document)
    return table


def _aging(document: dict, width: int):
    from rich.table import Table
    from rich.text import Text

    aging = document["aging"]
    top = max(aging.values(), default=0)
    digits = max(len(str(v)) for v in aging.values()) if aging else 1
    room = max(4, min(48, width - 6 - digits - 2))
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(justify="right", no_wrap=True)
    for label, count in aging.items():
        length = round(room * count / top) if top else 0
        if count and not length:
            length = 1
        grid.add_row(
            label,
            Text("█" * length, style="magenta") if length else Text("·", style="dim"),
            str(count),
        )
    title = Text(f"Backlog age ({document['backlog']} open cases)", style="bold")
    return _stack(title, grid)


def _trend(document: dict, width: int, partial: str):
    from rich.table import Table
    from rich.text import Text

    trend = document["trend"]
    totals = {s: sum(d[s] for d in trend) for s in SERIES}
    peaks = {s: max((d[s] for d in trend), default=0) for s in SERIES}
    tail = max(len(f"{totals[s]} total, max {peaks[s]}/day") for s in SERIES)
    room = max(8, width - 10 - tail - 2)
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    grid.add_column(no_wrap=True)
    styles = {"opened": "blue", "resolved": "green", "escalated": "red"}
    # A wide terminal gets up to three columns a day; a long window, days per column.
    stretch = max(1, min(3, room // max(1, len(trend))))
    spark_width = 0
    for series in SERIES:
        line = sparkline([d[series] for d in trend], room)
        spark_width = len(line)
        grid.add_row(
            series,
            Text("".join(ch * stretch for ch in line), style=styles[series]),
            Text(f"{totals[series]} total, max {peaks[series]}/day", style="dim"),
        )
    per = -(-len(trend) // spark_width) if spark_width else 1
    unit = "by day" if per == 1 else f"by {per} days"
    first = trend[0]["date"] if trend else ""
    last = trend[-1]["date"] if trend else ""
    title = Text()
    title.append("Daily trend", style="bold")
    title.append(f"  {first} → {last}, {unit}", style="dim")
    if partial:
        return _stack(title, grid, Text(partial, style="dim"))
    return _stack(title, grid)


def _breakdown(console, document: dict, dimension: str | None, width: int) -> list:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    entries = document["by"]
    dimension = dimension or "value"
    hidden = 0
    if len(entries) > BREAKDOWN_ROWS:
        busiest = sorted(entries, key=lambda e: -(e["opened"] + e["resolved"] + e["backlog"]))
        keep = {id(e) for e in busiest[:BREAKDOWN_ROWS]}
        hidden = len(entries) - BREAKDOWN_ROWS
        entries = [e for e in entries if id(e) in keep]
    columns = list(COLUMN_ORDER)
    while True:
        table = Table(
            box=box.SIMPLE_HEAD,
            show_edge=False,
            pad_edge=False,
            collapse_padding=True,
            title=f"By {dimension}",
            title_justify="left",
            title_style="bold",
        )
        table.add_column(
            dimension, no_wrap=True, max_width=max(12, min(28, width // 5)), overflow="ellipsis"
        )
        for key in columns:
            table.add_column(COLUMN_LABELS[key], justify="right", no_wrap=True)
        for entry in entries:
            table.add_row(
                Text(clean(entry["value"])), *(fmt_figure(key, entry[key]) for key in columns)
            )
        if natural_width(console, table) <= width or len(columns) <= 3:
            break
        columns.pop()
    parts: list = [table]
    if hidden:
        parts.append(
            Text(
                f"… and {hidden} more {dimension} values with less activity "
                f"(all of them: --format csv)",
                style="dim",
            )
        )
    dropped = [COLUMN_LABELS[k].replace("\n", " ") for k in COLUMN_ORDER if k not in columns]
    if dropped:
        parts.append(Text(f"(on a wider terminal also: {', '.join(dropped)})", style="dim"))
    return parts


def _stack(*renderables):
    from rich.console import Group

    return Group(*renderables)
