"""The report as files: JSON (SPEC §4), CSV (one row per breakdown value), Markdown for
a wiki, one self-contained HTML page with inline SVG charts, and the plain tab-separated
tables a pipe gets. The terminal dashboard lives in render/dashboard.py; both take their
number formats from render/figures.py, so every view shows the same figures the same way."""

from __future__ import annotations

import io
import json
import sys

from esc_cli.domain.report import FORMATS, HEADLINE, PERCENTILES
from esc_cli.errors import UsageError
from esc_cli.render.figures import (
    SERIES,
    change,
    fmt_figure,
    fmt_pair,
    fmt_rate,
    sparkline,
    window_days,
    window_text,
)
from esc_cli.render.figures import BREAKDOWN_KEYS as BREAKDOWN_KEYS
from esc_cli.render.figures import BREAKDOWN_LABELS as BREAKDOWN_LABELS
from esc_cli.render.figures import KPIS as KPIS
from esc_cli.render.output import clean

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
        from esc_cli.render.report_html import to_html

        text = to_html(document, dimension, env.tz, env.now)
    else:
        text = to_plain(document, dimension)
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
    except BrokenPipeError:
        raise  # `--output /dev/stdout | head`: quiet, as a pipe on stdout is
    except OSError as err:
        from pathlib import Path

        from esc_cli.outfile import cannot_write

        raise cannot_write(Path(path), err) from None
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
    from esc_cli.text import CsvWriter

    buffer = io.StringIO()
    writer = CsvWriter(buffer)
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
