"""Views of lists of cases (queue, search, overdue), the ladder, people and the policy,
and the line a write prints. Each receives documents and prints them: Rich on a
terminal, TSV in a pipe, JSON with --json. One case's view is case_view.py's."""

from __future__ import annotations

from esc_cli.render.output import Output, clean, parse_iso

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
    if not out.tty:
        out.tsv(headers, data)
        return
    from esc_cli.render.tables import GAP, column_widths

    console = out.console()
    if sum(column_widths(headers, data)) + GAP * (len(headers) - 1) <= console.width:
        _table(out, headers, data)
    else:
        # a ladder is a handful of rows whose every word counts (a tier's name, who is
        # on it): where a row does not fit whole, each tier gets a few lines, its lists
        # wrapping between names under their own column, rather than a cut
        console.print(_tier_blocks(rows))


def _tier_blocks(rows: list[dict]):
    """Each tier as a headline (level, name, stale_after) and a line for each of its
    lists: owners always, teams and rules where it has any."""
    from rich.console import Group
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    parts: list = []
    for r in rows:
        headline = Text(f"tier {r['level']}  ", style="bold")
        headline.append(clean(r["name"]), style="bold")
        headline.append(f"  stale_after {r['stale_after'] or 'none'}", style="dim")
        details = Table.grid(padding=(0, 2))
        details.add_column(no_wrap=True)
        details.add_column(overflow="fold")
        for label in ("owners", "teams", "rules"):
            if r[label]:
                details.add_row(label, _text(", ".join(r[label])))
            elif label == "owners":
                details.add_row(label, Text("none", style="dim"))
        parts += [headline, Padding(details, (0, 0, 0, 2), expand=False)]
    return Group(*parts)


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
        # the columns scripts read stay where they were; who is away until when comes
        # last (issue 21: owner list shows it), as --json's away_until, empty if not away
        _table(
            out,
            [*headers, "away_until"],
            [[*row, r.get("away_until") or ""] for row, r in zip(data, rows)],
        )
        return
    # on a terminal load and capacity share a column (`2/12`): the email stays whole at
    # 80 columns, where a person copies it from, and at 60 where it can. Away shows in
    # the active column, as short as it can be said (`away to 08 Dec`, `away to 17:00`
    # today, `away` where even that would be cut).
    from rich.cells import cell_len

    from esc_cli.render.tables import column_widths, widths_for

    headers = ["handle", "name", "email", "tier", "teams", "load", "active"]
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
    # the email goes last: the teams leave, then an away date, before an address is cut.
    # A team's name is never cut: the column narrows to each owner's first team and how
    # many more (`platform +1`), then leaves.
    whole_teams = max(
        [len("teams")]
        + [
            cell_len(r["teams"][0] + (f" +{len(r['teams']) - 1}" if len(r["teams"]) > 1 else ""))
            for r in rows
            if r["teams"]
        ]
    )
    stages = (
        ("teams", whole_teams),
        ("name", 10),
        ("name", 0),
        ("teams", 0),
        ("active", len("active")),
        ("email", 20),
        ("handle", 8),
        ("email", 12),
    )
    natural = column_widths(headers, terminal)
    if widths_for(out.console().width, headers, natural, stages)[-1] < natural[-1]:
        terminal = [
            [*row[:-1], "away" if row[-1].startswith("away") else row[-1]] for row in terminal
        ]
    _table(out, headers, terminal, stages, lists=("teams",))


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


def _table(out: Output, headers: list[str], rows: list[list], stages=(), lists=()) -> None:
    """TSV in a pipe; on a terminal one line per row, fitted by `stages` (tables.fitted;
    `lists`: its columns of names)."""
    if not out.tty:
        out.tsv(headers, rows)
        return
    from esc_cli.render.tables import fitted

    console = out.console()
    cells = [[_text("" if v is None else v) for v in row] for row in rows]
    console.print(
        fitted(
            console,
            headers,
            cells,
            stages,
            right=("level", "tier", "capacity", "load"),
            lists=lists,
        )
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
