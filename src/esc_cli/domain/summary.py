"""The per-case figures `esc report` needs from a case's history, settled with its other
derived fields (sla.project) so every writer stores the same values and the report
aggregates columns instead of replaying events.

- resolution_at: the instant of the case's latest resolution (it stays after a reopen:
  "resolved in a window" means the latest resolution falls in it).
- resolve_secs: wall-clock seconds from opened_at to that resolution, less the time
  spent pending (SPEC: "from opened_at, in wall-clock seconds with pending time
  excluded"): a reopened case counts the time it sat resolved before the reopen, as a
  customer waited through it (until schema 29 that was left out too).
- fcr: 1 when that resolution is a first-contact resolution: the case is at tier 1,
  never escalated, never reopened, and not de-escalated since (the tier then was 1).
- feedback_at / feedback_score: the case's latest CSAT feedback and its score.

The arithmetic is the one the report used when it read the events itself (and the SQL
backfill of migration 0008), so upgraded and newly written stores agree to the second.
"""

from __future__ import annotations

import re

from esc_cli.domain.model import Event

SUMMARY_FIELDS = ("resolution_at", "resolve_secs", "fcr", "feedback_at", "feedback_score")

_SQL_INTEGER = re.compile(r"\s*([+-]?\d+)")


def sql_integer(text: str | None) -> int | None:
    """SQLite's CAST(text AS INTEGER): the leading integer, 0 when there is none."""
    if text is None:
        return None
    match = _SQL_INTEGER.match(text)
    if not match:
        return 0
    return max(-(1 << 63), min((1 << 63) - 1, int(match[1])))  # SQLite saturates, too


def summarise(
    events: list[Event], opened_at: int, tier: int, escalations: int, reopened: int
) -> dict:
    """The SUMMARY_FIELDS of a history (tier/escalations/reopened: the case's current ones)."""
    final = feedback = None
    for index, event in enumerate(events):
        if event.kind == "resolved":
            final = index
        elif event.kind == "feedback":
            feedback = event
    result = {
        "resolution_at": None,
        "resolve_secs": None,
        "fcr": 0,
        "feedback_at": None,
        "feedback_score": None,
    }
    if feedback is not None:
        result["feedback_at"] = feedback.at
        result["feedback_score"] = sql_integer(feedback.to_value)
    if final is None:
        return result
    stop = events[final]
    # A pause is entered at one instant and left at another, so the time paused is the
    # sum of the instants pending was left less the sum of those it was entered; a
    # resolution straight from pending leaves it (migration 0029 sums the same in SQL).
    paused = 0
    for e in events[: final + 1]:
        if e.field != "state":
            continue
        if e.from_value == "pending":
            paused += e.at
        elif e.to_value == "pending":
            paused -= e.at
    secs = stop.at - opened_at - paused
    result["resolution_at"] = stop.at
    result["resolve_secs"] = secs
    result["fcr"] = int(
        tier == 1
        and escalations == 0
        and reopened == 0
        and not any(e.kind == "deescalated" for e in events[final + 1 :])
    )
    return result
