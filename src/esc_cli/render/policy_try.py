"""`esc policy try`: the current policy and FILE side by side, as a Rich table on a
terminal, tab-separated rows in a pipe, one JSON document, or a Markdown table a lead
pastes into a change request. Decides nothing: services/policy_try.py computed it all."""

from __future__ import annotations

from esc_cli.render.output import Output, clean

SHOWN_CHANGES = 20


def _percent(share) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def _points(delta, unit: bool = True) -> str:
    if delta is None:
        return "–"
    points = "±0.0" if abs(delta) < 0.0005 else f"{delta * 100:+.1f}"
    return f"{points} pts" if unit else points


def _signed(delta: int) -> str:
    return f"{delta:+d}" if delta else "±0"


def sla_rows(doc: dict) -> list[list[str]]:
    """One row per group and one for all: cases, then response and resolution met % as
    current, candidate and the difference."""
    rows = []
    for label, entry in [*[(str(g["value"]), g) for g in doc["groups"]], ("all", doc["all"])]:
        old, new, diff = entry["current"], entry["candidate"], entry["difference"]
        rows.append(
            [
                label,
                str(old["cases"]),
                _percent(old["response_sla_met"]),
                _percent(new["response_sla_met"]),
                _points(diff["response_sla_met"]),
                _percent(old["resolution_sla_met"]),
                _percent(new["resolution_sla_met"]),
                _points(diff["resolution_sla_met"]),
            ]
        )
    return rows


SLA_HEADERS = [
    "group",
    "cases",
    "response now",
    "response try",
    "Δ",
    "resolution now",
    "resolution try",
    "Δ",
]
SWEEP_HEADERS = ["what the sweep and rules do", "now", "try", "Δ"]


def sweep_rows(doc: dict) -> list[list[str]]:
    old, new, diff = doc["all"]["current"], doc["all"]["candidate"], doc["all"]["difference"]
    rows = []
    for clock in ("response", "update", "resolution"):
        rows.append(
            [
                f"breaches: {clock}",
                str(old["breaches"][clock]),
                str(new["breaches"][clock]),
                _signed(diff["breaches"][clock]),
            ]
        )
    for clock in ("response", "update", "resolution", "owner"):
        rows.append(
            [
                f"warnings: {clock}",
                str(old["warnings"][clock]),
                str(new["warnings"][clock]),
                _signed(diff["warnings"][clock]),
            ]
        )
    rows.append(
        [
            "escalations on breach",
            str(old["escalations"]["breach"]),
            str(new["escalations"]["breach"]),
            _signed(diff["escalations"]["breach"]),
        ]
    )
    rows.append(
        [
            "escalations when stale",
            str(old["escalations"]["stale"]),
            str(new["escalations"]["stale"]),
            _signed(diff["escalations"]["stale"]),
        ]
    )
    for name, delta in diff["rule_firings"].items():
        rows.append(
            [
                f"rule {clean(name)}",
                str(old["rule_firings"].get(name, 0)),
                str(new["rule_firings"].get(name, 0)),
                _signed(delta),
            ]
        )
    return rows


CHANGE_HEADERS = ["case", "clock", "now", "try", "due now", "due try", "title"]


def change_rows(doc: dict, limit: int | None, when=None) -> list[list[str]]:
    """`when`: how a due time is shown (ISO UTC in a pipe and in Markdown)."""
    shown = doc["changed"] if limit is None else doc["changed"][:limit]
    when = when or (lambda text: text or "")
    return [
        [
            f"#{c['case']}",
            c["clock"],
            c["current"],
            c["candidate"],
            when(c["current_due"]),
            when(c["candidate_due"]),
            clean(c["title"]),
        ]
        for c in shown
    ]


def _heading(doc: dict) -> str:
    return (
        f"{clean(doc['file'])} against policy v{doc['current_policy_version']}, "
        f"{doc['since']} → {doc['until']}: {doc['cases']} case"
        f"{'s' if doc['cases'] != 1 else ''} replayed, by {doc['by']}"
    )


def markdown(doc: dict) -> str:
    def table(headers: list[str], rows: list[list[str]]) -> list[str]:
        def cell(value: str) -> str:
            return value.replace("|", "\\|")

        return ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)] + [
            "| " + " | ".join(cell(v) for v in row) + " |" for row in rows
        ]

    lines = ["# Policy try", "", _heading(doc) + ".", "", "## SLA met", ""]
    lines += table(SLA_HEADERS, sla_rows(doc))
    lines += ["", "## Sweep and rules", ""]
    lines += table(SWEEP_HEADERS, sweep_rows(doc))
    lines += ["", f"## Outcomes that change ({len(doc['changed'])})", ""]
    if doc["changed"]:
        lines += table(CHANGE_HEADERS, change_rows(doc, None))
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def render(out: Output, doc: dict, fmt: str | None) -> None:
    import sys

    if out.as_json or fmt == "json":
        out.json(doc)
        return
    if fmt == "markdown":
        sys.stdout.write(markdown(doc))
        return
    if not out.tty:
        out.tsv(SLA_HEADERS, sla_rows(doc))
        out.line()
        out.tsv(SWEEP_HEADERS, sweep_rows(doc))
        out.line()
        out.tsv(CHANGE_HEADERS, change_rows(doc, None))
        return
    terminal(out.console(), doc, out.env.tz, out.env.now)


# -- on a terminal -----------------------------------------------------------------------
# Each table comes in forms, each narrower than the one before, and the first that fits
# the terminal is drawn, as the report's SLA table does: a figure, a case id, a clock, an
# outcome or a due time is never cut. A title gives way on a one-line row down to
# TITLE_FLOOR characters, then the row takes two lines (three on a narrow terminal) and
# the title gets a line of its own; a group or a rule name is cut only when no form fits.

SLA_FORMS = ("wide", "two-line heads", "short heads", "stacked")
CLOCKS = ("response", "resolution")
TITLE_FLOOR = 30


def terminal(console, doc: dict, zone: str, now: int) -> None:
    from rich.text import Text

    width = console.width
    for line in _heading_lines(doc, width):
        console.print(Text(line, style="bold"))
    # no box around the tables (its rules and padding took 25 of 80 columns from the SLA
    # figures): a blank line sets each one apart
    console.print()
    console.print(_sla(console, doc, width))
    console.print()
    console.print(_sweep(console, doc, width))
    console.print()
    changes = doc["changed"]
    if not changes:
        console.print(Text("No case's outcome changes."))
        return
    console.print(Text(f"Outcomes that change ({len(changes)}), worst first", style="bold"))
    for line in _changes(console, changes[:SHOWN_CHANGES], width, zone, now):
        console.print(line, no_wrap=True, overflow="ellipsis", crop=True)
    if len(changes) > SHOWN_CHANGES:
        console.print(
            Text(f"… and {len(changes) - SHOWN_CHANGES} more (--json lists them all)", style="dim")
        )


def _heading_lines(doc: dict, width: int) -> list[str]:
    """The heading on one line where it fits, else broken between its phrases (the
    window's two stamps stay together)."""
    what = f"{clean(doc['file'])} against policy v{doc['current_policy_version']}"
    window = f"{doc['since']} → {doc['until']}"
    count = f"{doc['cases']} case{'s' if doc['cases'] != 1 else ''} replayed, by {doc['by']}"
    for lines in (
        [f"{what}, {window}: {count}"],
        [f"{what},", f"{window}: {count}"],
        [f"{what},", f"{window}:", count],
    ):
        if all(len(line) <= width for line in lines):
            return lines
    return lines


def _sla(console, doc: dict, width: int):
    from esc_cli.render.tables import natural_width

    for form in SLA_FORMS:
        table = _sla_table(doc, form)
        over = natural_width(console, table) - width
        if over <= 0:
            return table
    # not even the stacked form fits: the group's name alone is cut
    labels = [clean(str(g["value"])) for g in doc["groups"]] + ["all", "group"]
    return _sla_table(doc, "stacked", group_width=max(4, max(map(len, labels)) - over))


def _sla_table(doc: dict, form: str, group_width: int | None = None):
    """SLA met per group in one of four forms, each narrower than the one before: "wide"
    (a column per figure), "two-line heads" (Δ in points without the unit), "short heads"
    (resp./resol.), "stacked" (a row per clock: response above resolution)."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=form != "wide",
        title="SLA met",
        title_justify="left",
        title_style="bold",
    )
    table.add_column("group", no_wrap=True, overflow="ellipsis", width=group_width)
    if form == "stacked":
        heads = ["cases", "clock", "now", "try", "Δ pts"]
    elif form in ("two-line heads", "short heads"):
        response, resolution = ("resp.", "resol.") if form == "short heads" else CLOCKS
        heads = ["\ncases", f"{response}\nnow", f"{response}\ntry", "\nΔ pts"]
        heads += [f"{resolution}\nnow", f"{resolution}\ntry", "\nΔ pts"]
    else:
        heads = SLA_HEADERS[1:]
    for head in heads:
        table.add_column(head, justify="left" if head == "clock" else "right", no_wrap=True)
    unit = form == "wide"
    for row in _sla_entries(doc):
        label, cases, clocks = row
        if form == "stacked":
            for index, (clock, old, new, diff) in enumerate(clocks):
                first = index == 0
                table.add_row(
                    Text(label if first else ""),
                    cases if first else "",
                    clock,
                    old,
                    new,
                    _points(diff, unit=False),
                )
            continue
        cells: list[Text | str] = [Text(label), cases]
        for _, old, new, diff in clocks:
            cells += [old, new, _points(diff, unit=unit)]
        table.add_row(*cells)
    return table


def _sla_entries(doc: dict) -> list[tuple[str, str, list[tuple[str, str, str, object]]]]:
    entries = []
    for label, entry in [*[(str(g["value"]), g) for g in doc["groups"]], ("all", doc["all"])]:
        old, new, diff = entry["current"], entry["candidate"], entry["difference"]
        clocks = [
            (
                clock,
                _percent(old[f"{clock}_sla_met"]),
                _percent(new[f"{clock}_sla_met"]),
                diff[f"{clock}_sla_met"],
            )
            for clock in CLOCKS
        ]
        entries.append((clean(label), str(old["cases"]), clocks))
    return entries


def _sweep(console, doc: dict, width: int):
    """The sweep's and the rules' counts; a long rule name is cut, never a count."""
    from esc_cli.render.tables import natural_width

    rows = sweep_rows(doc)
    table = _sweep_table(rows)
    over = natural_width(console, table) - width
    if over <= 0:
        return table
    natural = max(len(row[0]) for row in [SWEEP_HEADERS, *rows])
    return _sweep_table(rows, label_width=max(8, natural - over))


def _sweep_table(rows: list[list[str]], label_width: int | None = None):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        title="Sweep and rules (whole window)",
        title_justify="left",
        title_style="bold",
    )
    table.add_column(SWEEP_HEADERS[0], no_wrap=True, overflow="ellipsis", width=label_width)
    for head in SWEEP_HEADERS[1:]:
        table.add_column(head, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(Text(row[0]), *row[1:])
    return table


def _changes(console, changes: list[dict], width: int, zone: str, now: int) -> list:
    """The cases whose outcome changes: one line each where the title keeps TITLE_FLOOR
    characters, else a block each with the title on a line of its own."""
    from rich.text import Text

    from esc_cli.render.output import parse_iso, short_time
    from esc_cli.render.tables import GAP, column_widths, fitted

    def when(text):
        return short_time(parse_iso(text), zone, now) if text else "–"

    rows = change_rows({"changed": changes}, None, when)
    natural = column_widths(CHANGE_HEADERS, rows)
    if sum(natural[:-1]) + GAP * (len(natural) - 1) + min(natural[-1], TITLE_FLOOR) <= width:
        cells = [
            [Text(v, style="bold" if i == 0 else "") for i, v in enumerate(row)] for row in rows
        ]
        return [fitted(console, CHANGE_HEADERS, cells, (("title", 1),), right=("case",))]
    return _change_blocks(rows, width)


def _change_blocks(rows: list[list[str]], width: int) -> list:
    """Two lines a case (its facts, then its title under them) where the facts fit on
    one line, else three (the due times on a line of their own): the title, alone on
    its line, is all that is ever cut."""
    from rich.text import Text

    from esc_cli.render.tables import GAP

    moves = [f"{row[2]} → {row[3]}" for row in rows]
    case_w = max(len(v) for v in ["case", *(row[0] for row in rows)])
    clock_w = max(len(v) for v in ["clock", *(row[1] for row in rows)])
    move_w = max(len(v) for v in ["now → try", *moves])
    due_w = max(len(v) for v in ["due now", *(row[4] for row in rows)])
    try_w = max(len(v) for v in ["due try", *(row[5] for row in rows)])
    gap = " " * GAP
    indent = " " * (case_w + GAP)
    two = case_w + clock_w + move_w + due_w + try_w + 4 * GAP <= width
    head = f"{'case':>{case_w}}{gap}{'clock':<{clock_w}}{gap}"
    head += f"{'now → try':<{move_w}}{gap}{'due now':<{due_w}}{gap}due try" if two else "now → try"
    lines = [Text(head, style="bold")]
    for row, move in zip(rows, moves):
        facts = Text(f"{row[0]:>{case_w}}", style="bold")
        facts.append(f"{gap}{row[1]:<{clock_w}}{gap}")
        if two:
            facts.append(f"{move:<{move_w}}{gap}{row[4]:<{due_w}}{gap}{row[5]}")
            lines.append(facts)
        else:
            facts.append(move)
            lines += [facts, Text(f"{indent}due {row[4]} → {row[5]}")]
        title = Text(row[6])
        title.truncate(max(1, width - len(indent)), overflow="ellipsis")
        lines.append(Text(indent) + title)
    return lines
