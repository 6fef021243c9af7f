"""`esc import` on both stores, for the path PostgreSQL takes (store/pg_bulk.py: COPY
with the per-row triggers skipped, the search index built per batch): the rows that
go in are the rows that come out (`esc export` gives the same bytes as the store the
file came from), a bad row anywhere still imports nothing and is named by its line,
and the triggers work again for the next write."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EscRunner

NOW = "2026-11-02T10:00:00Z"
# text COPY's format must escape, or that looks like its escapes
AWKWARD = ["tab\there", "two\nlines", "carriage\rreturn", "back\\slash", "a literal \\N",
           "\\t not a tab", "ends with \\", "quotes ' and \"", "Über café ✓ 日本語", "%s %(x)s ?"]


def _source(tmp_path) -> EscRunner:
    """A SQLite store holding every awkward text in titles, descriptions, customers,
    tags, owners' names, reasons and notes."""
    lite = EscRunner(tmp_path / "source.db", now=NOW)
    lite.ok("init")
    lite.ok("owner", "add", "bob", "--tier", "1", "--name", "Bob\tthe \\ builder",
            "--email", "bob@example.com")
    for n, text in enumerate(AWKWARD):
        at = f"2026-10-{n + 10:02d}T09:00:00Z"
        lite.ok("open", f"Case {text}", "--customer", f"Cust {text}", "--priority", "high",
                "--description", f"about {text}", "--tag", f"t{n}", "--owner", "bob", now=at)
        case = str(n + 1)
        lite.ok("note", case, f"note {text} quokka{n}", now=at.replace("09:00", "09:30"))
        lite.ok("escalate", case, "--reason", f"why {text}", now=at.replace("09:00", "10:00"))
    lite.ok("resolve", "1", "--resolution", "fixed \\ for\tgood", now="2026-10-25T10:00:00Z")
    return lite


def _export(runner: EscRunner, *args: str) -> str:
    return runner.ok("export", *args).out


def test_an_exported_store_imported_exports_the_same_bytes(esc, tmp_path):
    source = _source(tmp_path)
    document = tmp_path / "team.json"
    document.write_text(_export(source), encoding="utf-8")
    summary = esc.doc("import", str(document))
    assert (summary["cases"], summary["owners"]) == (len(AWKWARD), 1)
    assert _export(esc) == _export(source)
    assert _export(esc, "--format", "csv") == _export(source, "--format", "csv")
    # the search index was built for the imported cases, notes included
    for n in (0, 3, len(AWKWARD) - 1):
        assert [c["id"] for c in esc.doc("search", f"quokka{n}")] == [n + 1]
    assert esc.doc("search", "builder") == source.doc("search", "builder")
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), doctor


def _csv(rows: int, bad_at: int | None = None) -> str:
    # a long description per row: a file past the size that hands rows to worker processes
    lines = ["title,customer,priority,description,opened_at"]
    for n in range(rows):
        priority = "urgent" if n != bad_at else "p9"
        lines.append(f"Outage {n},cust{n % 97},{priority},\"Kerberos ticket {n} refused; "
                     f"{'details ' * 12}\",2026-11-01T{n % 24:02d}:00:00Z")
    return "\n".join(lines) + "\n"


def test_a_bad_row_after_thousands_imports_nothing_and_names_its_line(esc, tmp_path):
    esc.ok("open", "Already here", "--customer", "Acme", "--priority", "low")
    before = esc.rows("SELECT count(*) FROM events")
    path = tmp_path / "big.csv"
    rows = 6_500  # more than one written batch (5,000 on one process, 2,000 a worker)
    path.write_text(_csv(rows, bad_at=rows - 1), encoding="utf-8")
    assert path.stat().st_size > 512 << 10
    result = esc("import", str(path))
    assert result.code == 2, result.err
    assert f"error: line {rows + 1}: unknown priority 'p9'" in result.err
    assert result.err.splitlines()[-1].endswith("nothing imported")
    assert esc.rows("SELECT count(*) FROM cases") == [(1,)]
    assert esc.rows("SELECT count(*) FROM events") == before
    assert "Traceback" not in result.err


def test_a_big_import_indexes_every_case_and_the_triggers_work_after_it(esc, tmp_path):
    esc.ok("open", "Printer jam", "--customer", "Acme", "--priority", "low")
    path = tmp_path / "big.csv"
    rows = 6_500
    path.write_text(_csv(rows), encoding="utf-8")
    summary = esc.doc("import", str(path))
    assert summary["cases"] == rows
    assert esc.rows("SELECT min(id), max(id), count(*) FROM cases") == [(1, rows + 1, rows + 1)]
    assert esc.rows("SELECT count(*) FROM events") == \
        esc.rows("SELECT coalesce(sum(event_count), 0) FROM cases")
    found = esc.doc("search", "kerberos", "--limit", "0")
    assert len(found) == rows
    assert [c["id"] for c in esc.doc("search", "printer")] == [1]
    # a later write fires the triggers again: its note is searchable, its count kept
    esc.ok("note", "2", "zebra crossing")
    assert [c["id"] for c in esc.doc("search", "zebra")] == [2]
    assert esc.rows("SELECT event_count FROM cases WHERE id = 2") == \
        esc.rows("SELECT count(*) FROM events WHERE case_id = 2")
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), json.dumps(doctor)[:2000]


def _indexes(esc) -> list[tuple]:
    return esc.rows("SELECT tablename, indexname, indexdef FROM pg_indexes "
                    "WHERE schemaname = current_schema() ORDER BY 1, 2")


def test_an_import_into_an_empty_store_builds_its_indexes_once_and_keeps_them(pg_store, tmp_path):
    # PostgreSQL: an empty store's big import drops the secondary indexes and builds them
    # at the end (pg_bulk.deferred_indexes); a refused one rolls the drops back
    esc = EscRunner(pg_store)
    before = _indexes(esc)
    assert any(name == "cases_report" for _, name, _ in before)
    bad = tmp_path / "bad.csv"
    bad.write_text(_csv(6_500, bad_at=6_499), encoding="utf-8")
    assert esc("import", str(bad)).code == 2
    assert _indexes(esc) == before and esc.rows("SELECT count(*) FROM cases") == [(0,)]
    good = tmp_path / "good.csv"
    good.write_text(_csv(6_500), encoding="utf-8")
    assert esc.doc("import", str(good))["cases"] == 6_500
    assert _indexes(esc) == before
    assert len(esc.doc("search", "kerberos", "--limit", "0")) == 6_500
    assert esc.rows("SELECT count(*) FROM case_search") == [(6_500,)]
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), json.dumps(doctor)[:2000]


def test_the_ascii_shortcut_of_esc_words_cuts_text_as_the_unicode_path_does(pg_store):
    # migration 0021: all-ASCII text skips normalize() and ICU's [[:alnum:]]; a text with
    # one more character, "é", takes the Unicode path, which cuts "é" + x as "e" + x's words
    # (lower-cased there since 0030; to_tsvector lower-cases ASCII under any LC_CTYPE)
    import random

    esc = EscRunner(pg_store)
    rng = random.Random(18)
    ascii_ = [chr(c) for c in range(1, 128)]
    texts = ascii_ + ["".join(ascii_), "", " ", "Printer-jam #42: a_b c.d ", "x1y2\tZ9\n\r",
                      "--lead and trail--", "ÀB"]
    texts += ["".join(rng.choice(ascii_) for _ in range(rng.randrange(1, 40))) for _ in range(500)]
    assert "octet_length" in esc.rows("SELECT prosrc FROM pg_proc WHERE proname = 'esc_words'")[0][0]
    differ = esc.rows("SELECT x, esc_words(x), esc_words('é' || x) FROM unnest(CAST(? AS text[])) x "
                      "WHERE 'e' || lower(esc_words(x)) IS DISTINCT FROM esc_words('é' || x)", (texts,))
    assert differ == []
    assert esc.rows("SELECT esc_words(NULL), esc_words('Crème brûlée, 漢字!')") == [("", "creme brulee 漢字 ")]


def test_search_documents_from_words_cut_by_esc_are_the_servers_own(esc, tmp_path):
    # store/pg_bulk.py cuts the words of all-ASCII texts itself (esc_index_words) and
    # sends the others' texts for the server to cut (esc_index_texts), in the same
    # batches, each column as one array literal: doctor compares every document and
    # token count with esc_search_row's
    texts = ["Printer-jam #42: a_b--c.d", "Crème brûlée machine", "tab\tand \\ back",
             "  spaced   out  ", "Grüße aus Köln", "x1y2 Z9!", "日本語 ticket",
             'say ""hi"" {now}, \\""x\\', 'Çà ""va"" {bien}, \\ non\\',
             # FTS5 stems only words of 3 to 64 bytes: short ones and one of 80 kept
             "is us as ay 2s " + "Supercalifragilisticexpialidocious" * 2 + "ings x"]
    lines = ["title,customer,priority,description,state,opened_at,acknowledged_at,resolved_at"]
    for n in range(6_500):
        title, body = texts[n % len(texts)], texts[(n * 2 + 1) % len(texts)]
        state, times = ("resolved", "2026-11-01T01:00:00Z,2026-11-01T02:00:00Z") if n % 2 else \
            ("new", ",")
        lines.append(f'"{title} {n}",cust{n % 13},high,"{body} {"details " * 12}",{state},'
                     f'2026-11-01T00:00:00Z,{times}')
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 512 << 10  # import workers
    assert esc.doc("import", str(path))["cases"] == 6_500
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), json.dumps(doctor)[:2000]
    per_text = 6_500 // len(texts)
    assert per_text <= len(esc.doc("search", "creme", "--limit", "0")) <= 3 * per_text
    assert len(esc.doc("search", "jam", "--limit", "0")) >= per_text
    assert len(esc.doc("search", "imported", "--limit", "0")) == 3_250  # the notes


def test_words_cut_by_esc_count_as_the_servers_runs_of_letters_and_digits():
    # pg_bulk._cut counts a text's words from the spaces its breaks became; the count
    # must be the runs of letters and digits (esc_words_count), whatever the text's
    # edges, and the words must fit an array literal without escaping
    import random
    import re

    from esc_cli.store import pg_bulk

    rng = random.Random(18)
    pieces = ["a", "Zz9", "0", " ", "  ", "-", "_", "\\", '"', "{", ",", "\t", "\n", "#42"]
    texts = ["", " ", "-", "a", " a ", "a b", "--x--"]
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 12))) for _ in range(2_000)]
    for text in texts:
        words, count = pg_bulk._cut(text)
        assert count == len(re.findall("[A-Za-z0-9]+", text)), text
        assert words == re.sub("[^A-Za-z0-9]+", " ", text) and not re.search('[\\\\"{},]', words)
    assert pg_bulk._words_array(["a b", "", " c "]) == '{"a b",""," c "}'


def test_copy_text_writes_every_value_as_the_value_by_value_writer_does():
    # copy_text joins plain rows at once and falls back to _field for a row whose texts
    # need escaping: the bytes must be those of the plain value-by-value writer
    import random

    from esc_cli.store import pg_bulk

    rng = random.Random(18)
    pieces = ["plain", "", "\t", "\n", "\r", "\\", "\\N", "N", "é", "日本", " ", "\\t"]
    values = [None, 0, -7, 2**40, True, False, 1.5, b"\x00\xff", *pieces]

    def value():
        if rng.random() < 0.5:
            return rng.choice(values)
        return "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 5)))

    for _ in range(300):
        rows = [[value() for _ in range(rng.randrange(1, 8))] for _ in range(rng.randrange(0, 6))]
        expected = "".join("\t".join(pg_bulk._field(v) for v in row) + "\n" for row in rows)
        assert pg_bulk.copy_text(rows) == expected.encode("utf-8"), rows


class _Interrupted(BaseException):
    """Stands for the KeyboardInterrupt a Ctrl-C raises (without pytest taking it as one)."""


def test_a_ctrl_c_while_the_import_waits_for_its_last_batches_stops_the_sender_first():
    # the single-process import's writer (bulk.case_writer) waits in Sender.close for its
    # last batches; a Ctrl-C there once left the sender thread writing while the import
    # rolled back on the same connection, and the process hung (Python 3.11's
    # Thread.join, interrupted, reports the thread ended): the sender must be stopped,
    # its statement cancelled, before the exception leaves
    import signal
    import threading

    from esc_cli.store import pg_bulk

    started, released = threading.Event(), threading.Event()

    class Raw:
        cancels = 0

        def cancel(self):  # what conn.raw.cancel() does to a running statement
            Raw.cancels += 1
            released.set()

    class Conn:
        raw = Raw()

        def interrupt(self):  # PgConnection.interrupt: raw.cancel(), errors swallowed
            self.raw.cancel()

    def statement():  # a batch the server is still writing
        started.set()
        assert released.wait(30), "never cancelled"

    closing = threading.Event()

    class Sender(pg_bulk.Sender):
        def close(self):
            closing.set()
            super().close()

    def ctrl_c():  # once the import waits in close() for the batch being written
        started.wait(30)
        closing.wait(30)
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)

    def interrupted(signum, frame):
        raise _Interrupted

    previous = signal.signal(signal.SIGINT, interrupted)
    sender = Sender(Conn())
    try:
        with pytest.raises(_Interrupted):
            with sender:
                sender.call(statement)
                threading.Thread(target=ctrl_c, daemon=True).start()
            # left normally: close() waits for the batch, and the Ctrl-C comes
    finally:
        signal.signal(signal.SIGINT, previous)
    assert sender.finished.is_set() and not sender.thread.is_alive()
    assert Raw.cancels >= 1
