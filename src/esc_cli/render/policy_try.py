"""`esc policy try`: the current policy and FILE side by side, as a Rich table on a
terminal, tab-separated rows in a pipe, one JSON document, or a Markdown table a lead
pastes into a change request. Decides nothing: services/policy_try.py computed it all."""

from __future__ import annotations

from esc_cli.render.output import Output, clean

SHOWN_CHANGES = 20


def _percent(share) -> str:
    return "–" if share is None else f"{share * 100:.1f}%"


def _points(delta) -> str:
    if delta is None:
        return "–"
    return "±0.0 pts" if abs(delta) < 0.0005 else f"{delta * 100:+.1f} pts"


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
    for clock in ("response", "update", "resolution"):
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
    from rich.table import Table
    from rich.text import Text

    console = out.console()
    console.print(Text(_heading(doc), style="bold"))
    for title, headers, rows in (
        ("SLA met", SLA_HEADERS, sla_rows(doc)),
        ("Sweep and rules (whole window)", SWEEP_HEADERS, sweep_rows(doc)),
    ):
        table = Table(title=title, title_justify="left")
        for index, header in enumerate(headers):
            table.add_column(header, justify="left" if index == 0 else "right")
        for row in rows:
            table.add_row(*[Text(v) for v in row])
        console.print(table)
    changes = doc["changed"]
    if not changes:
        console.print(Text("No case's outcome changes."))
        return
    table = Table(title=f"Outcomes that change ({len(changes)}), worst first", title_justify="left")
    for header in CHANGE_HEADERS:
        table.add_column(header, overflow="ellipsis", no_wrap=header != "title")
    from esc_cli.render.output import local_time, parse_iso

    def when(text):
        return local_time(parse_iso(text), out.env.tz) if text else ""

    for row in change_rows(doc, SHOWN_CHANGES, when):
        table.add_row(*[Text(v) for v in row])
    console.print(table)
    if len(changes) > SHOWN_CHANGES:
        console.print(
            Text(f"… and {len(changes) - SHOWN_CHANGES} more (--json lists them all)", style="dim")
        )
