"""An import's rows, made in memory for the bulk writes (bulk.py): each event's row
with its hash chain, each case's row with its event count, and a batch of them encoded
for the store's backend. None of it needs a connection, so import workers make them
in their own processes and the process holding the connection only writes.
"""

from __future__ import annotations

import json
from hashlib import sha256 as _sha256

from esc_cli.domain.model import Case, Event, event_hash
from esc_cli.store.cases import _COLUMN_VALUES, _TAGS, _UPDATE_MISSED

_TAGS_JSON = json.JSONEncoder(ensure_ascii=False)  # as cases._row_values encodes them


# JSON of each text value an event holds, UTF-8 encoded: an import's events repeat a
# handful of actors, kinds, fields and states, and encoding them once instead of once
# per event is most of the cost of the hash chain.
_FRAGMENTS: dict[str | None, bytes] = {None: b"null"}
_FRAGMENTS_MAX = 50_000
_JSON_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _fragment(value) -> bytes:
    if value is None:
        return b"null"
    if type(value) is str:
        found = _FRAGMENTS.get(value)
        if found is None:
            found = _JSON_TEXT.encode(value).encode("utf-8", "surrogatepass")
            if len(_FRAGMENTS) < _FRAGMENTS_MAX:
                _FRAGMENTS[value] = found
        return found
    return _JSON_TEXT.encode(value).encode("utf-8", "surrogatepass")


def event_rows(case_id: int, events: list[Event]) -> list[tuple]:
    """Rows for the events table, hash-chained from the case's first event (the case is
    new, so there is no earlier hash to continue from).

    Each hash is `model.event_hash`'s, with the JSON array it hashes put together from
    cached fragments: the array of (case id, at, actor, kind, field, from, to, reason)
    with "," between elements is exactly what the compact encoder writes."""
    previous = b""
    rows = []
    fragment = _fragment
    cached = _FRAGMENTS.get
    for event in events:
        at = event.at
        if type(at) is not int:
            previous = event_hash(previous, case_id, event)
        else:
            actor, kind, field = event.actor, event.kind, event.field
            before, after, reason = event.from_value, event.to_value, event.reason
            body = b"[%d,%d,%s,%s,%s,%s,%s,%s]" % (
                case_id,
                at,
                cached(actor) or fragment(actor),
                cached(kind) or fragment(kind),
                cached(field) or fragment(field),
                cached(before) or fragment(before),
                cached(after) or fragment(after),
                cached(reason) or fragment(reason),
            )
            previous = _sha256(previous + body).digest()
        rows.append(
            (
                case_id,
                at,
                event.actor,
                event.kind,
                event.field,
                event.from_value,
                event.to_value,
                event.reason,
                previous,
            )
        )
    return rows


# An import's cases share a few tag lists (most have none): each encoded once.
_TAG_TEXTS: dict[tuple, str] = {(): "[]"}
_TAG_TEXTS_MAX = 10_000


def _import_row(case: Case, event_count: int) -> list:
    """`cases._row_values(case)` and the event count, with the tags' JSON cached."""
    values = _COLUMN_VALUES(case)
    tags = values[_TAGS]
    text = _TAG_TEXTS.get(tags) if type(tags) is tuple else None
    if text is None:
        text = _TAGS_JSON.encode(list(tags))
        if type(tags) is tuple and len(_TAG_TEXTS) < _TAG_TEXTS_MAX:
            _TAG_TEXTS[tags] = text
    row = list(values)
    row[_TAGS] = text
    row[_UPDATE_MISSED] = int(row[_UPDATE_MISSED])
    row.append(event_count)
    return row


def counted_case_rows(cases: list[Case], events: list[tuple]) -> list[list]:
    """The cases table's rows for `cases`, each with its count of `events` (rows from
    `event_rows`), for `bulk.insert_counted`."""
    counts: dict[int | None, int] = {}
    for row in events:
        counts[row[0]] = counts.get(row[0], 0) + 1
    return [_import_row(case, counts.get(case.id, 0)) for case in cases]


def encode_batch(case_rows: list[list], events: list[tuple], dialect: str):
    """`bulk.insert_counted`'s rows made ready for `bulk.batch_writer`: as they are for
    SQLite, as COPY text for PostgreSQL."""
    if dialect == "postgres":
        from esc_cli.store import pg_bulk

        return pg_bulk.encode(case_rows, events)
    return case_rows, events
