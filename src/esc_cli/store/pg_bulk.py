"""An import's rows into PostgreSQL with COPY: the batch's events, then its cases, each
table in one `COPY ... FROM STDIN` round trip, inside the import's one transaction.

Row by row, an import into PostgreSQL waited on the server: one INSERT per row (500 a
round trip) and, per row, the triggers that keep the search index and the event counts
(a PL/pgSQL call each, and a search document per case built by a query planned before
the table had statistics). So the batch sets `esc.bulk` for its COPYs, which the
triggers skip (migration 0014), and does their work itself: each case row carries its
event count (as on SQLite), and one statement indexes the batch's cases for search
(esc_index_split from the words esc cut and split itself for all-ASCII texts, esc_index_texts
from the texts sent with the batch for the rest: the same documents esc_search_row
makes). The setting is transaction
local and is cleared after the COPYs: nothing else in the transaction, and no other
session, ever skips a trigger.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import NamedTuple

from esc_cli.store import owner_times
from esc_cli.store.cases import CASE_COLUMNS
from esc_cli.store.migrations import SEARCHED_EVENT_KINDS
from esc_cli.store.pg_search_sql import HUGE, stemmed
from esc_cli.store.two_readers import wait_interruptibly

_EVENT_COLUMNS = (
    "case_id",
    "at",
    "actor",
    "kind",
    "field",
    "from_value",
    "to_value",
    "reason",
    "hash",
)
_OWNER_TIME_COLUMNS = ("case_id", "escalation", "escalated_at", "settled_at", "owned", "priority")
# COPY's text format: a backslash, a tab, a newline or a carriage return in a value is
# escaped; NULL is \N. (NUL cannot be stored at all: the import refuses it first.)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value) -> str:
    kind = type(value)
    if kind is str:
        if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
            return value.translate(_ESCAPES)
        return value
    if value is None:
        return "\\N"
    if kind is int:
        return str(value)
    if kind is bytes:
        return "\\\\x" + value.hex()  # bytea's hex input, its backslash escaped for COPY
    if kind is bool:
        return "1" if value else "0"
    return repr(value)  # float


# COPY text of the strings an import's events repeat (actors, kinds, fields, states,
# reasons), None's too: looked up rather than checked again for every event.
_TEXTS: dict[str | None, str] = {None: "\\N"}
_TEXTS_MAX = 50_000


def _text(value: str | None) -> str:
    text = _field(value)
    if len(_TEXTS) < _TEXTS_MAX:
        _TEXTS[value] = text
    return text


def events_text(rows) -> bytes:
    """copy_text of event rows (bulk_rows.event_rows: two integers, six texts or None, the
    hash), a third faster: one format per row, the texts looked up."""
    known = _TEXTS.get
    return "".join(
        [
            "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\\\\x%s\n"
            % (
                case_id,
                at,
                known(actor) or _text(actor),
                known(kind) or _text(kind),
                known(field) or _text(field),
                known(before) or _text(before),
                known(after) or _text(after),
                known(reason) or _text(reason),
                digest.hex(),
            )
            for case_id, at, actor, kind, field, before, after, reason, digest in rows
        ]
    ).encode("utf-8")


def copy_text(rows) -> bytes:
    """Rows (tuples of str, int, float, bytes or None) in COPY's text format.

    Most values are plain text, integers and None: each row is joined with those
    written inline (a function call per value was most of the time), then checked as a
    whole: a row whose texts hold a tab, a newline, a carriage return or a backslash
    has more of them than its columns and Nones make, and is written again value by
    value (_field escapes)."""
    field = _field
    lines = []
    for row in rows:
        line = "\t".join(
            [
                v
                if type(v) is str
                else "\\N"
                if v is None
                else str(v)
                if type(v) is int
                else field(v)
                for v in row
            ]
        )
        if (
            line.count("\\") != row.count(None)
            or line.count("\t") != len(row) - 1
            or "\n" in line
            or "\r" in line
        ):
            line = "\t".join([field(v) for v in row])
        lines.append(line)
    return ("\n".join(lines) + "\n" if lines else "").encode("utf-8")


class Encoded(NamedTuple):
    """A batch of new cases and their events as COPY text, and the texts of each case's
    search document (`encode`), ready to send."""

    cases: bytes
    events: bytes
    # each escalation's wait for an owner (store/owner_times.py), made with the rows
    owner_times: bytes
    case_count: int
    event_count: int
    # esc_index_split's arguments (ids; each text's words to stem and to keep; token counts) as
    # array literals, for the cases whose texts are all ASCII: their words, cut here
    words: tuple[str, ...] | None
    # esc_index_texts' (ids, titles, descriptions, notes): the others' texts as they are
    texts: tuple[str, ...] | None


_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+")
_TITLE = CASE_COLUMNS.index("title")
_PRIORITY = CASE_COLUMNS.index("priority")
_OWNER = CASE_COLUMNS.index("owner")
_DESCRIPTION = CASE_COLUMNS.index("description")
_SEARCHED = frozenset(SEARCHED_EVENT_KINDS)


_SHORT = re.compile(r"\b[A-Za-z0-9]{1,2}\b")
_LONG = re.compile(r"[A-Za-z0-9]{65}")


def _cut(text: str) -> tuple[str, int]:
    """esc_words(text) for ASCII text, as the server's function cuts it through this same
    regular expression (its shortcut, migration 0021), and the count of its words
    (esc_words_count): the runs between the single spaces the breaks became."""
    words = _WORD_BREAK.sub(" ", text)
    if not words:
        return words, 0
    return words, words.count(" ") + 1 - words.startswith(" ") - words.endswith(" ")


def _split(words: str) -> tuple[str, str]:
    """The words to stem and the words to keep as they are (store/pg_search_sql.py:
    FTS5 stems only words of 3 to 64 bytes), in order: what esc_stemmed and esc_kept
    make of the same words."""
    if _LONG.search(words):
        every = words.split()
        return (
            " ".join(w for w in every if stemmed(w)),
            " ".join(w for w in every if not stemmed(w)),
        )
    return _SHORT.sub("", words), " ".join(_SHORT.findall(words))


def _texts_array(values: list[str]) -> str:
    """A text[] literal: one string the server reads with array_in. As ARRAY[...] of
    parameters, each element was a constant for the SQL parser to read, type and
    evaluate (a fifth of the documents' time on a 2,000-case batch)."""
    return (
        "{"
        + ",".join(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values])
        + "}"
    )


def _words_array(values: list[str]) -> str:
    """_texts_array of texts _cut made: letters, digits and spaces only, nothing to
    escape inside the quotes."""
    return '{"' + '","'.join(values) + '"}'


def _numbers_array(values: list[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def encode(case_rows: list[list], events: list[tuple]) -> Encoded:
    """The COPY text of a batch and its search texts: pure computation, so an import
    worker process makes it and the process holding the connection only sends it.

    The server builds each case's search document from three texts (title, description
    and the notes of its events, joined by a space in event order: esc_search_row) cut
    into words by esc_words. Sending them with the batch spares the server the read of
    the batch's events (so events_case, like the other indexes, can wait for the end of
    an import into an empty store); cutting the all-ASCII ones here spares it the
    regular expressions too. to_tsvector still makes every document, so each is the
    one esc_search_row makes (doctor compares)."""
    notes: dict[int, list[str]] = {}
    for row in events:
        if row[3] in _SEARCHED and row[7] is not None:
            notes.setdefault(row[0], []).append(row[7])
    cut: tuple[list, ...] = ([], [], [], [], [], [], [], [])
    whole: tuple[list, list, list, list] = ([], [], [], [])
    for case in case_rows:
        case_id = case[0]
        found = notes.get(case_id)
        texts = (case[_TITLE] or "", case[_DESCRIPTION] or "", " ".join(found) if found else "")
        if all(text.isascii() for text in texts):
            (title, title_words), (description, description_words), (note, note_words) = map(
                _cut, texts
            )
            # a huge case's document keeps only its first HUGE bytes of words, which the
            # server's document expression picks: it goes with the texts (esc_index_texts).
            # In ASCII a character is a byte, as octet_length counts them there.
            if len(title) + len(description) + len(note) <= HUGE:
                for column, value in zip(
                    cut,
                    (
                        case_id,
                        *_split(title),
                        *_split(description),
                        *_split(note),
                        title_words + description_words + note_words,
                    ),
                ):
                    column.append(value)
                continue
        for column, value in zip(whole, (case_id, *texts)):
            column.append(value)
    waits = owner_times.rows_for(
        events, {case[0]: (case[_PRIORITY], case[_OWNER]) for case in case_rows}
    )
    return Encoded(
        copy_text(case_rows),
        events_text(events),
        copy_text(waits),
        len(case_rows),
        len(events),
        (
            _numbers_array(cut[0]),
            *(_words_array(column) for column in cut[1:7]),
            _numbers_array(cut[7]),
        )
        if cut[0]
        else None,
        (_numbers_array(whole[0]), *(_texts_array(column) for column in whole[1:]))
        if whole[0]
        else None,
    )


def insert_counted(conn, case_rows: list[list], events: list[tuple]) -> None:
    """bulk.insert_counted on PostgreSQL: new cases (each with its event count) and their
    events, the search index of the cases made once for the batch."""
    if case_rows:
        insert_encoded(conn, encode(case_rows, events))


def insert_encoded(conn, batch: Encoded) -> None:
    """A batch `encode` made: its events, its cases (CASE_COLUMNS and the event count),
    their escalations' waits for an owner, then their search documents: one statement
    for the words cut here, one for the texts the server cuts."""
    if not batch.case_count:
        return
    conn.execute("SET LOCAL esc.bulk = 'on'")
    if batch.event_count:
        conn.copy_in(f"COPY events ({', '.join(_EVENT_COLUMNS)}) FROM STDIN", batch.events)
    conn.copy_in(f"COPY cases ({', '.join(CASE_COLUMNS)}, event_count) FROM STDIN", batch.cases)
    if batch.owner_times:
        conn.copy_in(
            f"COPY owner_times ({', '.join(_OWNER_TIME_COLUMNS)}) FROM STDIN", batch.owner_times
        )
    # Not in a `finally`: a COPY that fails (a Ctrl-C in it too) leaves the transaction
    # aborted, and a statement sent then would fail in its turn and hide why (exit 5
    # instead of 130); the import's transaction rolls back whole, the setting with it.
    conn.execute("SET LOCAL esc.bulk = 'off'")
    if batch.words:
        conn.execute(
            "SELECT esc_index_split(CAST(? AS bigint[]), CAST(? AS text[]), "
            "CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]), CAST(? AS text[]), "
            "CAST(? AS text[]), CAST(? AS bigint[]))",
            batch.words,
        )
    if batch.texts:
        conn.execute(
            "SELECT esc_index_texts(CAST(? AS bigint[]), CAST(? AS text[]), "
            "CAST(? AS text[]), CAST(? AS text[]))",
            batch.texts,
        )


class Sender:
    """Writes an import's batches on its one connection from a second thread, in order,
    so the process goes on reading the file and handing rows to the workers while the
    server loads and indexes the batch before. Waiting on the server one batch at a time
    made an import the sum of esc's work and the server's instead of the larger of the
    two. psycopg2 lets other threads run while it waits on the socket.

    Only this thread uses the connection until the sender is closed (the import does
    nothing else with it meanwhile); at most `ahead` batches wait, so memory stays
    bounded. A failure is raised in the importing thread at its next `send` or at
    `close`; leaving the `with` on an error (a bad row, Ctrl-C) stops the thread first,
    cancelling what the server is doing, so the rollback that follows is the only
    statement on the connection."""

    def __init__(self, conn, ahead: int = 2):
        import queue
        import threading

        self.conn = conn
        self.batches: queue.Queue = queue.Queue(maxsize=ahead)
        self.failure: BaseException | None = None
        self.stopping = False
        self.busy = False
        # set by the thread as it ends: waited on instead of Thread.join, which a
        # Ctrl-C can interrupt and leave saying the thread has ended while it still
        # sends (Python 3.11's join releases the running thread's lock then)
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._run, name="esc-import-sender", daemon=True)

    def __enter__(self) -> Sender:
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            self._send_all()
        finally:
            self.finished.set()

    def _send_all(self) -> None:
        while True:
            batch = self.batches.get()
            if batch is None:
                return
            if self.failure is not None or self.stopping:
                continue  # drained, not sent: the import is failing
            try:
                self.busy = True
                if not self.stopping:
                    if callable(batch):
                        batch()
                    else:
                        insert_encoded(self.conn, batch)
            except BaseException as err:  # noqa: BLE001 - handed to the importing thread
                self.failure = err
            finally:
                self.busy = False

    def _raise(self) -> None:
        if self.failure is not None:
            failure, self.failure = self.failure, None
            self.stopping = True
            raise failure

    def send(self, batch: Encoded) -> None:
        self._raise()
        self.batches.put(batch)

    def call(self, work) -> None:
        """Run `work()` (statements on the connection) on the thread, after the batches
        sent before it: the import's other rows (resolution cycles, notifications) go
        in the order the single-process import writes them."""
        self._raise()
        self.batches.put(work)

    def close(self) -> None:
        """Wait until every batch is written (raising the first failure)."""
        self.batches.put(None)
        wait_interruptibly(self.finished)
        self._raise()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            try:
                self.close()
            except BaseException:
                # a failure, or a Ctrl-C while waiting for the last batches: the thread
                # may still be sending, and the rollback must find it stopped
                self._stop()
                raise
            return
        self._stop()

    def _stop(self) -> None:
        import queue

        self.stopping = True
        while True:  # forget the batches not sent; the thread ends at the None
            try:
                self.batches.get_nowait()
            except queue.Empty:
                break
        self.batches.put(None)
        while not self.finished.is_set():
            if self.busy:
                self.conn.interrupt()  # the statement fails, the transaction with it
            self.finished.wait(0.05)


# The tables whose secondary indexes an import into an empty store builds once at the
# end (nothing reads them back meanwhile: each batch brings its search texts along)
_DEFERRED_TABLES = ("cases", "events", "case_search", "owner_times")


@contextmanager
def deferred_indexes(conn):
    """bulk.deferred_indexes on PostgreSQL: for an import into a store without cases,
    drop the secondary indexes of cases, events, case_search and owner_times (not the
    primary keys), let every batch's COPY go in without them, then build each once
    from its own definition (pg_get_indexdef), inside the import's transaction: a
    failure rolls the drops back with the rows. Keeping a dozen indexes up to date row
    by row cost more than the COPYs themselves (100,000 cases: ~12 s of ~19 s of the
    server's time). DROP INDEX locks the table against every other session until the
    import commits, which only an empty store's import may do; and only the tables'
    owner may, so for anyone else the indexes stay. Yields whether they are deferred."""
    tables = ", ".join(f"'{t}'::regclass" for t in _DEFERRED_TABLES)
    owned = conn.execute(
        f"SELECT count(*) FROM pg_class WHERE oid IN ({tables}) AND pg_has_role(relowner, 'USAGE')"
    ).fetchone()[0]
    if owned != len(_DEFERRED_TABLES):
        yield False
        return
    indexes = conn.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid "
        f"WHERE i.indrelid IN ({tables}) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) "
        "ORDER BY c.relname"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    yield True
    # not reached after an error: the rollback brings the indexes back
    for _, definition in indexes:
        conn.execute(definition)
