"""The report as files: JSON (SPEC §4), CSV (one row per breakdown value), Markdown for
a wiki, one self-contained HTML page with inline SVG charts, and the plain tab-separated
tables a pipe gets. The terminal dashboard lives in render/dashboard.py; both take their
number formats from render/figures.py, so every view shows the same figures the same way."""

from __future__ import annotations

import html
import io
import json
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

from esc_cli.domain.report import FORMATS, HEADLINE, PERCENTILES
from esc_cli.errors import UsageError
from esc_cli.render.figures import (
    SERIES,
    change,
    fmt_figure,
    fmt_pair,
    fmt_rate,
    partial_days,
    sparkline,
    window_days,
    window_text,
)
from esc_cli.render.output import clean

# Headline tiles, in the order every view shows them.
KPIS = (
    ("opened", "Opened"),
    ("resolved", "Resolved"),
    ("backlog", "Backlog"),
    ("escalation_rate", "Escalation rate"),
    ("fcr_rate", "First-contact resolution"),
    ("reopen_rate", "Reopen rate"),
    ("csat_avg", "CSAT"),
    ("response_sla_met", "Response SLA met"),
    ("resolution_sla_met", "Resolution SLA met"),
    ("unowned", "Unowned escalations"),
)
SHORT = {
    "escalation_rate": "Escalated",
    "fcr_rate": "FCR",
    "reopen_rate": "Reopened",
    "response_sla_met": "Response SLA",
    "resolution_sla_met": "Resolution SLA",
}

# The flat columns of CSV and of the pipe tables: the headline figures in their order,
# each time_to_* split into its percentiles (time_to_respond_p50, time_to_respond_p90, ...).
FLAT = tuple(
    column
    for key in HEADLINE
    for column in (
        [f"{key}_p{pct}" for pct in PERCENTILES] if key.startswith("time_to_") else [key]
    )
)


def check_format(name: str | None, as_json: bool) -> str:
    chosen = (name or "table").lower()
    if chosen == "md":
        chosen = "markdown"
    if chosen not in FORMATS:
        raise UsageError(f"unknown --format '{name}' (use {', '.join(FORMATS)})")
    if as_json:
        if name is not None and chosen != "json":
            raise UsageError(f"--json and --format {chosen} disagree (give one of them)")
        chosen = "json"
    return chosen


def flat(figures: dict) -> list:
    """The FLAT columns of one set of headline figures, raw numbers."""
    row = []
    for key in FLAT:
        if key.startswith("time_to_"):
            name, pct = key.rsplit("_", 1)
            row.append(figures[name][pct])
        else:
            row.append(figures[key])
    return row


def _raw(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def breakdown_rows(document: dict) -> list[tuple[object, dict]]:
    if document.get("by") is None:
        return [("all", document)]
    return [(entry["value"], entry) for entry in document["by"]]


# -- emitting --------------------------------------------------------------------


def emit(env, document: dict, fmt: str, dimension: str | None, path: str | None) -> None:
    if fmt == "table" and path is None and env.stdout_tty:
        from esc_cli.render.dashboard import dashboard
        from esc_cli.render.output import Output

        dashboard(Output(env).console(), document, dimension, env.tz)
        return
    if fmt == "json":
        from esc_cli.text import json_escape

        # as --json: C1 controls and bidi overrides in untrusted values as \uXXXX
        text = json_escape(json.dumps(document, ensure_ascii=False, indent=2)) + "\n"
    elif fmt == "csv":
        text = to_csv(document)
    elif fmt == "markdown":
        text = to_markdown(document, dimension, env.tz)
    elif fmt == "html":
        text = to_html(document, dimension, env.tz, env.now)
    else:
        text = to_plain(document, dimension)
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except OSError as err:
        raise UsageError(f"cannot write {path}: {err.strerror or err}") from None
    if env.stderr_tty:
        sys.stderr.write(f"report written to {clean(path)}\n")


# -- CSV and plain tables -------------------------------------------------------------


def _formula_safe(value) -> str:
    # A spreadsheet runs a cell that starts with = + - @ as a formula; customer and
    # owner names are untrusted, so such a value gets a leading apostrophe.
    # and, like every other output, no escape sequence or control character
    text = clean(_raw(value)) if isinstance(value, str) else _raw(value)
    if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def to_csv(document: dict) -> str:
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("value",) + FLAT)
    for value, figures in breakdown_rows(document):
        writer.writerow([_formula_safe(value)] + [_raw(v) for v in flat(figures)])
    return buffer.getvalue()


def _tsv(headers, rows) -> list[str]:
    lines = ["\t".join(headers)]
    lines += ["\t".join(str(v) if type(v) is int else clean(_raw(v)) for v in row) for row in rows]
    return lines


def to_plain(document: dict, dimension: str | None) -> str:
    """What a pipe gets: tab-separated tables with a header row each, blank-line
    separated, raw numbers (rates as fractions, times in seconds, empty for null)."""
    previous = document["previous"]
    summary = [[key, v, p] for key, v, p in zip(FLAT, flat(document), flat(previous))]
    blocks = [
        _tsv(
            ["figure", "value", "previous"],
            [["since", document["since"], ""], ["until", document["until"], ""]] + summary,
        ),
        _tsv(["priority", *FLAT], [[p, *flat(f)] for p, f in document["by_priority"].items()]),
        _tsv(["age", "backlog"], [[k, v] for k, v in document["aging"].items()]),
        _tsv(["date", *SERIES], [[d["date"], *(d[s] for s in SERIES)] for d in document["trend"]]),
    ]
    if document.get("by") is not None:
        blocks.append(
            _tsv([dimension or "value", *FLAT], [[e["value"], *flat(e)] for e in document["by"]])
        )
    return "\n\n".join("\n".join(block) for block in blocks) + "\n"


# -- Markdown ----------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]<>|~"})


def md_text(value) -> str:
    return clean(value).translate(_MD_SPECIAL)


def _md_table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    marks = {"l": "---", "r": "---:"}
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(marks[a] for a in align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def to_markdown(document: dict, dimension: str | None, zone: str) -> str:
    prev = document["previous"]
    lines = [
        "# Escalation report",
        "",
        f"**Window:** {window_text(document, zone)} — compared with the "
        f"{window_days(document)} before.",
        "",
        "## Headline",
        "",
    ]
    rows = []
    for key, label in KPIS:
        moved, _ = change(key, document[key], prev[key])
        value = fmt_figure(key, document[key])
        if key == "csat_avg":
            value += f" ({document['csat_count']} responses)"
        rows.append([label, value, fmt_figure(key, prev[key]), moved or "–"])
    for key, label in (
        ("time_to_respond", "Time to respond p50 / p90"),
        ("time_to_resolve", "Time to resolve p50 / p90"),
        ("time_to_owner", "Time to owner p50 / p90"),
    ):
        rows.append([label, fmt_pair(document[key]), fmt_pair(prev[key]), "–"])
    lines += _md_table(["Figure", "This window", "Previous", "Change"], rows, "lrrr")
    lines += ["", "## SLA by priority", ""]
    rows = [
        [
            p,
            str(f["opened"]),
            str(f["backlog"]),
            fmt_rate(f["response_sla_met"]),
            fmt_rate(f["resolution_sla_met"]),
            fmt_pair(f["time_to_respond"]),
            fmt_pair(f["time_to_resolve"]),
            fmt_pair(f["time_to_owner"]),
        ]
        for p, f in document["by_priority"].items()
    ]
    rows.append(
        [
            "**all**",
            str(document["opened"]),
            str(document["backlog"]),
            fmt_rate(document["response_sla_met"]),
            fmt_rate(document["resolution_sla_met"]),
            fmt_pair(document["time_to_respond"]),
            fmt_pair(document["time_to_resolve"]),
            fmt_pair(document["time_to_owner"]),
        ]
    )
    lines += _md_table(
        [
            "Priority",
            "Opened",
            "Backlog",
            "Response SLA",
            "Resolution SLA",
            "Respond p50 / p90",
            "Resolve p50 / p90",
            "Owner p50 / p90",
        ],
        rows,
        "lrrrrrrr",
    )
    lines += ["", "## Backlog age", ""]
    top = max(document["aging"].values(), default=0)
    rows = [
        [age, str(n), "█" * (round(20 * n / top) if top else 0)]
        for age, n in document["aging"].items()
    ]
    lines += _md_table(["Age", "Cases", ""], rows, "lrl")
    lines += ["", "## Daily trend", ""]
    for series in SERIES:
        values = [d[series] for d in document["trend"]]
        lines.append(
            f"- {series}: `{sparkline(values, 60)}` {sum(values)} in total, "
            f"at most {max(values, default=0)} a day"
        )
    lines.append("")
    rows = [[d["date"], *(str(d[s]) for s in SERIES)] for d in document["trend"]]
    lines += _md_table(["Date", "Opened", "Resolved", "Escalated"], rows, "lrrr")
    if document.get("by") is not None:
        name = (dimension or "value").capitalize()
        lines += ["", f"## By {dimension or 'value'}", ""]
        rows = [
            [md_text(e["value"]), *(fmt_figure(k, e[k]) for k in BREAKDOWN_KEYS)]
            for e in document["by"]
        ]
        lines += _md_table(
            [name, *(BREAKDOWN_LABELS[k] for k in BREAKDOWN_KEYS)],
            rows,
            "l" + "r" * len(BREAKDOWN_KEYS),
        )
    return "\n".join(lines) + "\n"


BREAKDOWN_KEYS = (
    "opened",
    "resolved",
    "backlog",
    "escalation_rate",
    "fcr_rate",
    "reopen_rate",
    "csat_avg",
    "response_sla_met",
    "resolution_sla_met",
    "time_to_respond",
    "time_to_resolve",
    "time_to_owner",
    "unowned",
)
BREAKDOWN_LABELS = {
    "opened": "Opened",
    "resolved": "Resolved",
    "backlog": "Backlog",
    "escalation_rate": "Escalation rate",
    "fcr_rate": "FCR",
    "reopen_rate": "Reopen rate",
    "csat_avg": "CSAT",
    "response_sla_met": "Response SLA",
    "resolution_sla_met": "Resolution SLA",
    "time_to_respond": "Respond p50 / p90",
    "time_to_resolve": "Resolve p50 / p90",
    "time_to_owner": "Owner p50 / p90",
    "unowned": "Unowned",
}


# -- HTML --------------------------------------------------------------------------

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
