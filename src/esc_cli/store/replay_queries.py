"""The histories `esc policy try` replays: every case that can count in a report window
with its events, streamed by one ordered query (no query per case)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from esc_cli.domain.model import Case, Event
from esc_cli.domain.values import filled
from esc_cli.store.cases import CASE_COLUMNS, case_from_row
from esc_cli.store.migrations import _HORIZON as HORIZON

_EVENT_COLUMNS = ("at", "actor", "kind", "field", "from_value", "to_value", "reason")
_EVENT_FIELDS = ("at", "actor", "kind", "field", "from_value", "to_value", "reason")
# The report's candidates (report_queries): a case whose horizon (the last instant it can
# count in a window: its opening, responses, due times, resolutions) is before the window
# has nothing to decide in it under any policy, as a clock is decided by its stop at the
# latest and an unresolved case's horizon is forever.
_CHOSEN = f"SELECT id FROM cases WHERE {HORIZON} >= :since AND opened_at < :until"


def count(conn: sqlite3.Connection, since: int, until: int) -> int:
    return conn.execute(f"SELECT count(*) FROM ({_CHOSEN})",
                        {"since": since, "until": until}).fetchone()[0]


def histories(conn: sqlite3.Connection, since: int, until: int) -> Iterator[tuple[Case, list[Event]]]:
    """(case, its events in order) for every chosen case, by id."""
    columns = ", ".join(f"c.{name}" for name in CASE_COLUMNS)
    events = ", ".join(f"e.{name}" for name in _EVENT_COLUMNS)
    rows = conn.execute(
        f"""SELECT {columns}, {events} FROM cases c JOIN events e ON e.case_id = c.id
            WHERE c.id IN ({_CHOSEN}) ORDER BY c.id, e.id""",
        {"since": since, "until": until})
    width = len(CASE_COLUMNS)
    current_id = None
    case_row = None
    batch: list[Event] = []
    for row in rows:
        if row[0] != current_id:
            if case_row is not None:
                yield case_from_row(case_row), batch
            current_id, case_row, batch = row[0], row[:width], []
        batch.append(filled(Event, dict(zip(_EVENT_FIELDS, row[width:]))))
    if case_row is not None:
        yield case_from_row(case_row), batch
