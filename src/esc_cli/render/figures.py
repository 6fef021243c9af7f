"""Numbers as people read them, shared by every view of the report (the terminal
dashboard and the files of render/report_formats.py): rates, CSAT, percentile pairs,
the change against the previous window, sparklines and the window's wording."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from esc_cli.domain.report import GOOD_WHEN_UP
from esc_cli.render.output import duration

RATES = ("escalation_rate", "fcr_rate", "reopen_rate", "response_sla_met", "resolution_sla_met")
SERIES = ("opened", "resolved", "escalated")
SPARKS = "▁▂▃▄▅▆▇█"


def fmt_rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def fmt_csat(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def fmt_seconds(value: int | None) -> str:
    return "–" if value is None else duration(value)


def fmt_pair(pair: dict) -> str:
    return f"{fmt_seconds(pair['p50'])} / {fmt_seconds(pair['p90'])}"


def fmt_figure(key: str, value) -> str:
    if key in RATES:
        return fmt_rate(value)
    if key == "csat_avg":
        return fmt_csat(value)
    if key in ("time_to_respond", "time_to_resolve", "time_to_owner"):
        return fmt_pair(value)
    return "–" if value is None else str(value)


def change(key: str, current, previous) -> tuple[str, str]:
    """(text, mood) of the move against the previous window: `▲ 3`, `▼ 5.0 pts`;
    mood is good, bad, neutral or none (nothing to compare)."""
    if current is None or previous is None:
        return "", "none"
    delta = current - previous
    if key in RATES:
        delta_text = f"{abs(delta) * 100:.1f} pts"
        delta = round(delta * 1000)  # below 0.1 point reads as no change
    elif key == "csat_avg":
        delta_text = f"{abs(delta):.2f}"
        delta = round(delta * 100)
    else:
        delta_text = str(abs(delta))
    if delta == 0:
        return "= no change", "neutral"
    up = delta > 0
    good = GOOD_WHEN_UP.get(key)
    mood = "neutral" if good is None else ("good" if up == good else "bad")
    return f"{'▲' if up else '▼'} {delta_text}", mood


def sparkline(values: list[int], width: int) -> str:
    """One character per day, or per group of days when there are more days than room."""
    if not values:
        return ""
    if len(values) > width > 0:
        size = -(-len(values) // width)
        values = [sum(values[i : i + size]) for i in range(0, len(values), size)]
    top = max(values)
    if top == 0:
        return SPARKS[0] * len(values)
    # ceil, so any non-zero day shows above the zero bar
    return "".join(SPARKS[(v * (len(SPARKS) - 1) + top - 1) // top] for v in values)


def window_text(document: dict, zone: str) -> str:
    since = _parse(document["since"])
    until = _parse(document["until"])
    local = ZoneInfo(zone)
    start = datetime.fromtimestamp(since, local)
    end = datetime.fromtimestamp(until, local)
    return f"{start:%a %d %b %Y %H:%M} → {end:%a %d %b %Y %H:%M} ({zone})"


def partial_days(document: dict, zone: str) -> str:
    """A note when the window does not start or end at a local midnight, so a short
    first or last day in the trend is not read as a drop."""
    local = ZoneInfo(zone)
    notes = []
    for key, which in (("since", "first"), ("until", "last")):
        moment = datetime.fromtimestamp(_parse(document[key]), local)
        if (moment.hour, moment.minute, moment.second) != (0, 0, 0):
            notes.append(
                f"the {which} day is partial ({'from' if key == 'since' else 'until'} "
                f"{moment:%H:%M})"
            )
    return ("; ".join(notes)).capitalize() + "." if notes else ""


def window_days(document: dict) -> str:
    seconds = _parse(document["until"]) - _parse(document["since"])
    return duration(seconds)


def _parse(text: str) -> int:
    return int(
        datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
    )


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

# The columns of a breakdown table (Markdown, HTML), in order, and their headings.
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
BREAKDOWN_KEYS = tuple(BREAKDOWN_LABELS)
