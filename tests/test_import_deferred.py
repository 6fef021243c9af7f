"""An import into a store without cases drops the case and event indexes and the
search triggers, writes every batch, then builds them all once from their own SQL
(store/bulk.deferred_indexes): the schema ends exactly as it began, the search index
and event counts come out as the triggers would have made them, and a bad row still
leaves the store untouched."""

from __future__ import annotations

import json

from esc_cli.services import importer
from esc_cli.store import bulk
from tests import stress

_schema = stress.schema


def _rows(esc) -> tuple:
    # the search index's rows too: FTS5's per-case sizes, PostgreSQL's case_search
    index = "case_search" if stress.is_pg(esc.db) else "cases_fts_docsize"
    return tuple(tuple(esc.rows(f"SELECT * FROM {t} ORDER BY 1"))
                 for t in ("cases", "events", "notifications", index))


def _spy(monkeypatch) -> list[bool]:
    seen: list[bool] = []
    real = bulk.deferred_indexes

    def spy(conn, wanted, one_process=False):
        seen.append(wanted)
        return real(conn, wanted, one_process)

    monkeypatch.setattr(bulk, "deferred_indexes", spy)
    return seen


def test_an_empty_store_builds_its_indexes_once_and_ends_with_the_same_schema(esc, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 2)
    monkeypatch.setattr(importer, "DEFER_INDEXES_BYTES", 0)
    seen = _spy(monkeypatch)
    schema = _schema(esc.db)
    path = tmp_path / "c.json"
    path.write_text(json.dumps([
        {"title": f"Toaster {i} smoking", "customer": "Globex", "priority": "high",
         "events": [
             {"at": "2026-11-01T09:00:00Z", "actor": "ann", "kind": "opened", "field": "state",
              "from": None, "to": "new", "reason": None},
             {"at": "2026-11-01T09:05:00Z", "actor": "ann", "kind": "note", "field": None,
              "from": None, "to": None, "reason": f"crumb tray {i} melted"},
         ]} for i in range(5)]), encoding="utf-8")
    esc.ok("import", str(path))
    assert seen == [True]
    assert _schema(esc.db) == schema
    assert len(esc.doc("search", "toaster")) == 5
    assert sorted(c["id"] for c in esc.doc("search", "melted")) == [1, 2, 3, 4, 5]
    assert esc.rows("SELECT count(*) FROM cases WHERE event_count != "
                    "(SELECT count(*) FROM events WHERE case_id = cases.id)") == [(0,)]
    assert stress.integrity(esc.db) == []
    # the triggers are back: a new note and a new case reach the index
    esc.ok("note", "2", "customer reports burnt crumbs")
    assert [c["id"] for c in esc.doc("search", "burnt")] == [2]
    esc.ok("open", "Kettle whistles", "--customer", "Initech", "--priority", "low")
    assert len(esc.doc("search", "kettle")) == 1
    assert esc("doctor").code == 0


def test_a_bad_row_after_written_batches_leaves_an_empty_store_as_it_was(esc, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 3)
    monkeypatch.setattr(importer, "DEFER_INDEXES_BYTES", 0)
    seen = _spy(monkeypatch)
    rows = [f"Printer {i} jammed,Globex,low" for i in range(7)] + ["Bad,Globex,p9", "Late,Globex,low"]
    path = tmp_path / "c.csv"
    path.write_text("title,customer,priority\n" + "\n".join(rows) + "\n", encoding="utf-8")
    schema, before = _schema(esc.db), _rows(esc)
    result = esc("import", str(path))
    assert result.code == 2
    assert seen == [True]
    assert _schema(esc.db) == schema
    assert _rows(esc) == before


def test_a_store_with_cases_keeps_its_indexes_while_importing(esc, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "DEFER_INDEXES_BYTES", 0)
    seen = _spy(monkeypatch)
    esc.ok("open", "Existing kettle", "--customer", "Initech", "--priority", "low")
    path = tmp_path / "c.csv"
    path.write_text("title,customer,priority\n" + "".join(
        f"Toaster {i} smoking,Globex,high\n" for i in range(3)), encoding="utf-8")
    esc.ok("import", str(path))
    assert seen == [False]
    assert len(esc.doc("search", "toaster")) == 3
    assert esc("doctor").code == 0
