"""`esc import` of a CSV without ids checks and writes in one pass, and writes cases a
batch at a time with the row-by-row triggers set aside: a bad row anywhere still
leaves the store untouched, and the search index and schema come out as if the
triggers had fired."""

from __future__ import annotations

from esc_cli.services import importer
from tests import stress
from tests.conftest import EscRunner


def _state(db) -> tuple:
    store = EscRunner(db)
    tables = tuple(tuple(store.rows(f"SELECT * FROM {t} ORDER BY 1"))
                   for t in ("cases", "events", "notifications"))
    triggers = tuple((name, sql) for kind, name, _, sql in stress.schema(db) if kind == "trigger")
    return tables, triggers


def test_a_bad_row_after_a_written_batch_leaves_the_store_as_it_was(esc, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 3)
    rows = [f"Printer {i} jammed,Globex,low" for i in range(7)] + ["Bad,Globex,p9", "Late,Globex,low"]
    path = tmp_path / "c.csv"
    path.write_text("title,customer,priority\n" + "\n".join(rows) + "\n", encoding="utf-8")
    before = _state(esc.db)
    result = esc("import", str(path))
    assert result.code == 2
    assert "error: line 9: " in result.err and "unknown priority 'p9'" in result.err
    assert result.err.splitlines()[-1] == f"error: 1 bad row in {path}; nothing imported"
    assert _state(esc.db) == before


def test_batched_cases_are_searchable_counted_and_doctor_agrees(esc, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "BATCH", 2)
    esc.ok("open", "Existing kettle", "--customer", "Initech", "--priority", "low")
    triggers = _state(esc.db)[1]
    path = tmp_path / "c.csv"
    path.write_text("title,customer,priority\n" + "".join(
        f"Toaster {i} smoking,Globex,high\n" for i in range(5)), encoding="utf-8")
    esc.ok("import", str(path))
    assert _state(esc.db)[1] == triggers
    assert len(esc.doc("search", "toaster")) == 5
    assert len(esc.doc("search", "kettle")) == 1
    assert esc.rows("SELECT count(*) FROM cases WHERE event_count != "
                    "(SELECT count(*) FROM events WHERE case_id = cases.id)") == [(0,)]
    # a note on an imported case reaches the index through the triggers made again
    esc.ok("note", "2", "customer reports burnt crumbs")
    assert [c["id"] for c in esc.doc("search", "crumbs")] == [2]
    assert esc("doctor").code == 0
