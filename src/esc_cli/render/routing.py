"""`esc oncall`: who is on call per tier and team, and the next handoffs."""

from __future__ import annotations

from esc_cli.render.output import Output, clean, parse_iso, short_time


def oncall(out: Output, rows: list[dict]) -> None:
    if out.as_json:
        out.json(rows)
        return
    if not out.tty:
        out.tsv(
            ["scope", "on_call", "takes_cases", "away_until", "until", "next", "timezone"],
            [
                [
                    r["scope"],
                    r["on_call"],
                    r["takes_cases"],
                    r["away_until"],
                    r["until"],
                    r["next"][0]["handle"] if r["next"] else None,
                    r["timezone"],
                ]
                for r in rows
            ],
        )
        return
    console = out.console()
    if not rows:
        console.print(
            "no on-call rotation: add [tiers.N.oncall] or [teams.NAME.oncall] to the policy",
            markup=False,
            style="dim",
        )
        return
    from rich import box
    from rich.table import Table
    from rich.text import Text

    zone, now = out.env.tz, out.env.now
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for header in ("scope", "on call", "until", "then"):
        table.add_column(header, no_wrap=True)
    for r in rows:
        scope = f"tier {r['tier']} {r['name']}" if r["tier"] is not None else f"team {r['team']}"
        who = r["on_call"] + (" (override)" if r["override"] else "")
        if r["away_until"]:
            who += f" (away; {r['takes_cases'] or 'nobody'} takes cases)"
        table.add_row(
            Text(clean(scope)),
            Text(clean(who)),
            Text(short_time(parse_iso(r["until"]), zone, now)),
            Text(clean(r["next"][0]["handle"]) if r["next"] else ""),
        )
    console.print(table)
