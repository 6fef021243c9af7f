"""The histories `esc policy try` replays: every case that can count in a report window
with its events, streamed by two ordered queries (no query per case) merged by id."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

from esc_cli.domain.model import _CASE_TEMPLATE, SWEEP_ACTOR, Case, Event
from esc_cli.store.migrations_report import HORIZON
from esc_cli.store.report_queries import _PRIORITIES

# The report's candidates (report_queries): a case whose horizon (the last instant it can
# count in a window: its opening, responses, due times, resolutions) is before the window
# has nothing to decide in it under any policy, as a clock is decided by its stop at the
# latest and an unresolved case's horizon is forever.
# Per priority, a range of the index cases_report (as report_queries reads it): the
# table's rows are read only for the cases chosen.
_WHERE = f"priority IN (SELECT priority FROM stored) AND {HORIZON} >= :since AND opened_at < :until"
_CHOSEN = f"SELECT id FROM cases INDEXED BY cases_report WHERE {_WHERE}"
# The sweep's warnings, breaches and closes are left out: a replay makes its own, and of
# the moves it did not make it reads only the changes of a field (whatif.initial_case:
# the value a case had before a sweep escalated or unassigned it). Notes' texts (reason)
# are read by nothing in a replay.
_LEFT_OUT = f"NOT (actor = '{SWEEP_ACTOR}' AND kind IN ('warned', 'breached', 'closed'))"


# What of a case a replay reads (whatif.initial_case sets the rest as at its opening;
# the clocks, the sweep and the rules read nothing else): its other fields are left at
# their defaults
_COLUMNS = (
    "id",
    "title",
    "customer",
    "priority",
    "category",
    "channel",
    "opened_at",
    "policy_version",
    "tier",
    "team",
    "owner",
    "tags",
)
_TAGS = _COLUMNS.index("tags")


def count(conn: sqlite3.Connection, since: int, until: int) -> int:
    return conn.execute(
        f"{_PRIORITIES} SELECT count(*) FROM ({_CHOSEN})", {"since": since, "until": until}
    ).fetchone()[0]


def hold_commits(store) -> sqlite3.Connection | None:
    """A connection holding the SQLite store's write lock: no commit lands until it is
    closed, so connections whose first reads happen meanwhile read one snapshot (as
    Store.read_pair does, across processes here). None when the lock cannot be had at
    once (a writer mid-transaction, a file this user cannot write): never waited for."""
    from esc_cli.store.db import StoreError, _connect

    lock = None
    try:
        lock = _connect(store.path)
        lock.execute("PRAGMA busy_timeout = 0")
        lock.execute("BEGIN IMMEDIATE")
        return lock
    except (sqlite3.Error, StoreError):
        if lock is not None:
            lock.close()
        return None


def histories(
    conn: sqlite3.Connection, since: int, until: int, part: int = 0, parts: int = 1
) -> Iterator[tuple[Case, list[Event]]]:
    """(case, its events in order) for every chosen case whose id is `part` modulo
    `parts` (all of them: 0, 1), by id. The events hold what a replay reads (see
    _LEFT_OUT): each is built straight into its fields, as a million of them are."""
    chosen = _CHOSEN if parts == 1 else f"{_CHOSEN} AND id % :parts = :part"
    params = {"since": since, "until": until, "part": part, "parts": parts}
    cases = conn.execute(
        f"""{_PRIORITIES} SELECT {", ".join(_COLUMNS)} FROM cases
            WHERE id IN ({chosen}) ORDER BY id""",
        params,
    )
    events = iter(
        conn.execute(
            f"""{_PRIORITIES} SELECT case_id, at, actor, kind, field, from_value, to_value
            FROM events WHERE case_id IN ({chosen}) AND {_LEFT_OUT}
            ORDER BY case_id, id""",
            params,
        )
    )
    new = object.__new__
    loads = json.loads
    # as store.cases.case_from_row, for 200,000 rows: a case's tags are one of a few
    # dozen lists, each parsed once
    tag_lists: dict[str, tuple[str, ...]] = {}
    row = next(events, None)
    for case_row in cases:
        case_id = case_row[0]
        case = new(Case)
        fields = case.__dict__
        fields.update(_CASE_TEMPLATE)
        fields.update(zip(_COLUMNS, case_row))
        tags = case_row[_TAGS]
        if tags and tags != "[]":
            listed = tag_lists.get(tags)
            if listed is None:
                listed = tag_lists[tags] = tuple(loads(tags))
            fields["tags"] = listed
        else:
            fields["tags"] = ()
        fields["extra"] = {}
        batch: list[Event] = []
        # both streams are in id order and every case has its `opened` event
        while row is not None and row[0] <= case_id:
            if row[0] == case_id:
                event = new(Event)
                event.__dict__.update(
                    {
                        "at": row[1],
                        "actor": row[2],
                        "kind": row[3],
                        "field": row[4],
                        "from_value": row[5],
                        "to_value": row[6],
                        "reason": None,
                    }
                )
                batch.append(event)
            row = next(events, None)
        yield case, batch
