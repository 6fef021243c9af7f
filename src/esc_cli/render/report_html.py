"""The report as one self-contained HTML page (`esc report --format html`): headline
tiles, the breakdown table, inline SVG charts of the trend and the backlog's age, light
and dark, printable, no script and nothing fetched."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from esc_cli.render.figures import (
    SERIES,
    change,
    fmt_figure,
    fmt_pair,
    fmt_rate,
    partial_days,
    window_days,
    window_text,
)
from esc_cli.render.output import clean
from esc_cli.render.figures import BREAKDOWN_KEYS, BREAKDOWN_LABELS, KPIS


COLOURS = {"opened": "#2563eb", "resolved": "#16a34a", "escalated": "#dc2626"}

_CSS = """
:root { color-scheme: light; --ink: #1f2937; --muted: #6b7280; --line: #e5e7eb;
        --good: #15803d; --bad: #b91c1c; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--ink); margin: 2rem auto; max-width: 1100px; padding: 0 1.5rem; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; }
.window { color: var(--muted); margin: 0; }
.kpis { display: grid; grid-template-columns: repeat(auto-fill, minmax(165px, 1fr)); gap: .75rem;
        margin-top: 1.5rem; }
.kpi { border: 1px solid var(--line); border-radius: 8px; padding: .75rem .9rem; }
.kpi .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
.kpi .value { font-size: 1.7rem; font-weight: 650; margin: .15rem 0; }
.kpi .sub { color: var(--muted); font-size: .8rem; margin-top: -.2rem; }
.kpi .change { font-size: .85rem; color: var(--muted); }
.kpi .change.good { color: var(--good); } .kpi .change.bad { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { padding: .35rem .6rem; border-bottom: 1px solid var(--line); text-align: right;
         white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { color: var(--muted); font-weight: 600; font-size: .85rem; white-space: normal;
     vertical-align: bottom; }
.scroll { overflow-x: auto; }
#breakdown table { font-size: .85rem; }
#breakdown th, #breakdown td { padding: .3rem .45rem; }
.note { color: var(--muted); font-size: .8rem; margin: .25rem 0 0; }
tr.total td { font-weight: 650; }
.charts { display: grid; grid-template-columns: 2fr 1fr; gap: 1.5rem; }
svg.chart { width: 100%; height: auto; font: 11px system-ui, sans-serif; }
svg .axis { stroke: #9ca3af; stroke-width: 1; } svg .grid { stroke: var(--line); stroke-width: 1; }
svg text { fill: var(--muted); }
.legend span { margin-right: 1rem; } .legend i { display: inline-block; width: .8rem; height: .8rem;
        border-radius: 2px; margin-right: .3rem; vertical-align: -1px; }
footer { color: var(--muted); font-size: .8rem; margin-top: 2rem; }
@media (max-width: 800px) { .charts { grid-template-columns: 1fr; } }
@media print {
  body { margin: 0; max-width: none; font-size: 11px; }
  .kpis { grid-template-columns: repeat(5, 1fr); }
  .kpi, section, svg.chart { break-inside: avoid; }
  .charts { grid-template-columns: 2fr 1fr; }
  @page { margin: 1.2cm; }
}
"""


def _e(value) -> str:
    return html.escape(clean(value), quote=True)


def _trend_svg(trend: list[dict]) -> str:
    width, height, left, right, top, bottom = 720, 260, 40, 12, 12, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((d[s] for d in trend for s in SERIES), default=0)
    scale_top = max(1, peak)
    n = len(trend)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / scale_top

    parts = [
        f'<svg id="trend-chart" class="chart trend" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Cases opened, resolved and escalated per day">'
    ]
    ticks = sorted({0, scale_top, scale_top // 2}) if scale_top > 1 else [0, 1]
    for tick in ticks:
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/>'
        )
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    parts.append(
        f'<line class="axis" x1="{left}" x2="{width - right}" y1="{top + plot_h}" '
        f'y2="{top + plot_h}"/>'
    )
    if n:
        step = max(1, -(-n // 8))
        for i in range(0, n, step):
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                f"{_e(trend[i]['date'][5:])}</text>"
            )
    for series in SERIES:
        colour = COLOURS[series]
        points = " ".join(f"{x(i):.1f},{y(d[series]):.1f}" for i, d in enumerate(trend))
        parts.append(
            f'<polyline class="series series-{series}" data-series="{series}" '
            f'fill="none" stroke="{colour}" stroke-width="2" points="{points}">'
            f"<title>{series}</title></polyline>"
        )
        if n <= 62:
            for i, d in enumerate(trend):
                parts.append(
                    f'<circle class="point point-{series}" cx="{x(i):.1f}" '
                    f'cy="{y(d[series]):.1f}" r="2.5" fill="{colour}">'
                    f"<title>{_e(d['date'])}: {d[series]} {series}</title></circle>"
                )
    parts.append("</svg>")
    return "".join(parts)


def _aging_svg(aging: dict) -> str:
    width, row, left, right = 360, 40, 52, 44
    height = row * len(aging) + 8
    top_count = max(aging.values(), default=0)
    parts = [
        f'<svg id="aging-chart" class="chart aging" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Backlog by age">'
    ]
    span = width - left - right
    for i, (label, count) in enumerate(aging.items()):
        y = 4 + i * row
        bar = span * count / top_count if top_count else 0
        parts.append(f'<text x="{left - 8}" y="{y + 22}" text-anchor="end">{_e(label)}</text>')
        parts.append(
            f'<rect class="bar" data-bucket="{_e(label)}" data-count="{count}" '
            f'x="{left}" y="{y + 6}" width="{bar:.1f}" height="{row - 14}" rx="3" '
            f'fill="#6366f1"><title>{_e(label)}: {count}</title></rect>'
        )
        parts.append(f'<text class="count" x="{left + bar + 6:.1f}" y="{y + 22}">{count}</text>')
    parts.append("</svg>")
    return "".join(parts)


def to_html(document: dict, dimension: str | None, zone: str, now: int) -> str:
    prev = document["previous"]
    tiles = []
    for key, label in KPIS:
        moved, mood = change(key, document[key], prev[key])
        value = fmt_figure(key, document[key])
        extra = (
            f'<div class="sub">{document["csat_count"]} responses</div>'
            if key == "csat_avg"
            else ""
        )
        raw = "" if document[key] is None else document[key]
        tiles.append(
            f'<div class="kpi" id="kpi-{key.replace("_", "-")}" data-key="{key}" '
            f'data-value="{raw}"><div class="label">{label}</div>'
            f'<div class="value">{_e(value)}</div>{extra}'
            f'<div class="change {mood}">{_e(moved) if moved else "no previous figure"}'
            + (
                f' <span class="was">(was {_e(fmt_figure(key, prev[key]))})</span>'
                if prev[key] is not None
                else ""
            )
            + "</div></div>"
        )
    priority_rows = []
    for p, f in document["by_priority"].items():
        priority_rows.append(
            f"<tr><td>{_e(p)}</td><td>{f['opened']}</td><td>{f['resolved']}</td>"
            f"<td>{f['backlog']}</td><td>{fmt_rate(f['response_sla_met'])}</td>"
            f"<td>{fmt_rate(f['resolution_sla_met'])}</td><td>{_e(fmt_pair(f['time_to_respond']))}</td>"
            f"<td>{_e(fmt_pair(f['time_to_resolve']))}</td><td>{_e(fmt_pair(f['time_to_owner']))}</td></tr>"
        )
    d = document
    priority_rows.append(
        f'<tr class="total"><td>all</td><td>{d["opened"]}</td><td>{d["resolved"]}</td>'
        f"<td>{d['backlog']}</td><td>{fmt_rate(d['response_sla_met'])}</td>"
        f"<td>{fmt_rate(d['resolution_sla_met'])}</td><td>{_e(fmt_pair(d['time_to_respond']))}</td>"
        f"<td>{_e(fmt_pair(d['time_to_resolve']))}</td><td>{_e(fmt_pair(d['time_to_owner']))}</td></tr>"
    )
    legend = "".join(
        f'<span><i style="background:{COLOURS[s]}"></i>{s} ({sum(t[s] for t in d["trend"])})</span>'
        for s in SERIES
    )
    breakdown = ""
    if d.get("by") is not None:
        head = "".join(f"<th>{BREAKDOWN_LABELS[k]}</th>" for k in BREAKDOWN_KEYS)
        body = "".join(
            "<tr><td>"
            + _e(e["value"])
            + "</td>"
            + "".join(f"<td>{_e(fmt_figure(k, e[k]))}</td>" for k in BREAKDOWN_KEYS)
            + "</tr>"
            for e in d["by"]
        )
        breakdown = (
            f'<section id="breakdown"><h2>By {_e(dimension)}</h2><div class="scroll">'
            f"<table><thead><tr><th>{_e(dimension)}</th>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table></div></section>"
        )
    generated = datetime.fromtimestamp(now, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")
    partial = partial_days(d, zone)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Escalation report · {_e(window_text(d, zone))}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>Escalation report</h1>
<p class="window">{_e(window_text(d, zone))} · compared with the {_e(window_days(d))} before</p>
</header>
<section class="kpis" id="kpis">
{"".join(tiles)}
</section>
<section id="sla">
<h2>SLA and times by priority</h2>
<table><thead><tr><th>Priority</th><th>Opened</th><th>Resolved</th><th>Backlog</th>
<th>Response SLA</th><th>Resolution SLA</th><th>Respond p50 / p90</th><th>Resolve p50 / p90</th>
<th>Owner p50 / p90</th></tr></thead>
<tbody>{"".join(priority_rows)}</tbody></table>
</section>
<div class="charts">
<section id="trend">
<h2>Daily trend</h2>
{_trend_svg(d["trend"])}
<div class="legend">{legend}</div>
{f'<p class="note">{_e(partial)}</p>' if partial else ""}
</section>
<section id="aging">
<h2>Backlog age ({d["backlog"]} cases)</h2>
{_aging_svg(d["aging"])}
</section>
</div>
{breakdown}
<footer>Generated by esc at {_e(generated)}. Rates are shares of the cases they count;
– means there was nothing to count.</footer>
</body>
</html>
"""
