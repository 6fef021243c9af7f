"""esc doctor: a clean store passes; every kind of damage is named, by case, with exit 5."""

import shutil
from pathlib import Path

import pytest

from tests.conftest import EscRunner, run_process

CHECKS = ["integrity", "schema", "indexes", "policy", "hash_chain", "due_times",
          "search_index", "notifications"]


@pytest.fixture
def worked(esc):
    """Three cases with some history: #1 open with notes, #2 pending, #3 resolved."""
    first = esc.doc("open", "Printer on fire", "--customer", "Globex", "--priority", "high")["id"]
    esc.ok("ack", str(first), now="2026-11-02T10:05:00Z")
    esc.ok("note", str(first), "checked the fuser", now="2026-11-02T10:10:00Z")
    esc.ok("note", str(first), "ordered a new one", "--customer", now="2026-11-02T10:20:00Z")
    esc.ok("escalate", str(first), "--reason", "needs a technician", now="2026-11-02T10:30:00Z")
    second = esc.doc("open", "Invoice wrong", "--customer", "Initech", "--priority", "medium")["id"]
    esc.ok("ack", str(second), now="2026-11-02T11:00:00Z")
    esc.ok("pending", str(second), "--reason", "waiting for the PO", now="2026-11-02T11:10:00Z")
    third = esc.doc("open", "Password reset", "--customer", "Hooli", "--priority", "low")["id"]
    esc.ok("resolve", str(third), "--resolution", "reset it", now="2026-11-02T12:00:00Z")
    esc.now = "2026-11-02T13:00:00Z"
    return esc


def _sql(esc, *statements):
    esc.sql(*statements)


def _doctor(esc, *args):
    result = esc("doctor", "--json", *args)
    return result, result.json()


def _check(doc, name):
    return next(c for c in doc["checks"] if c["name"] == name)


def test_a_clean_store_passes_every_check(worked):
    result, doc = _doctor(worked)
    assert result.code == 0, result.err
    assert result.err == ""
    assert doc["ok"] is True
    assert [c["name"] for c in doc["checks"]] == CHECKS
    for check in doc["checks"]:
        assert set(check) == {"name", "ok", "detail", "cases"}
        assert check["ok"] is True and check["cases"] == [] and check["detail"]


def test_an_empty_store_passes(esc):
    assert _doctor(esc)[0].code == 0


def _assert_names(worked, check_name, case_id, *words):
    result, doc = _doctor(worked)
    assert result.code == 5
    assert result.err.startswith("error:") and check_name in result.err
    assert "Traceback" not in result.err
    assert doc["ok"] is False
    check = _check(doc, check_name)
    assert check["ok"] is False and check["cases"] == [case_id]
    assert f"#{case_id}" in check["detail"]
    for word in words:
        assert word in check["detail"]
    failed = [c["name"] for c in doc["checks"] if not c["ok"]]
    return failed


def test_an_edited_event_is_named(worked):
    _sql(worked, "UPDATE events SET reason = 'checked nothing' WHERE reason = 'checked the fuser'")
    failed = _assert_names(worked, "hash_chain", 1, "event 3 of", "note", "What to do")
    assert failed == ["hash_chain"]


def test_a_deleted_event_is_named(worked):
    _sql(worked, "DELETE FROM events WHERE case_id = 1 AND kind = 'acknowledged'")
    assert "hash_chain" in _assert_names(worked, "hash_chain", 1, "event 2 of")


def test_deleting_the_newest_event_is_named(worked):
    # the chain of what is left still verifies: the count of events written catches it
    _sql(worked, "DELETE FROM events WHERE id = (SELECT max(id) FROM events WHERE case_id = 3)")
    assert "hash_chain" in _assert_names(worked, "hash_chain", 3, "missing")


def test_deleting_every_event_of_a_case_is_named(worked):
    _sql(worked, "DELETE FROM events WHERE case_id = 2")
    assert "hash_chain" in _assert_names(worked, "hash_chain", 2, "no history")


def test_reordered_events_are_named(worked):
    [(ack, pend)] = worked.rows(
        "SELECT (SELECT id FROM events WHERE case_id = 2 AND kind = 'acknowledged'), "
        "(SELECT id FROM events WHERE case_id = 2 AND kind = 'pending')")
    # swap the ids of #2's acknowledged and pending events
    _sql(worked, f"UPDATE events SET id = -2 WHERE id = {pend}",
         f"UPDATE events SET id = {pend} WHERE id = {ack}",
         f"UPDATE events SET id = {ack} WHERE id = -2")
    assert "hash_chain" in _assert_names(worked, "hash_chain", 2, "event 2 of 3")


def test_events_of_a_deleted_case_are_named(worked):
    _sql(worked, "DELETE FROM cases WHERE id = 3")
    result, doc = _doctor(worked)
    assert result.code == 5
    check = _check(doc, "hash_chain")
    assert check["cases"] == [3] and "does not exist" in check["detail"]


@pytest.mark.parametrize("column", ["respond_by", "update_by", "resolve_by", "due_at",
                                    "warn_at", "resolve_warn"])
def test_a_corrupted_due_time_is_caught_and_repaired(worked, column):
    _sql(worked, f"UPDATE cases SET {column} = {column} + 3600 WHERE id = 1")
    failed = _assert_names(worked, "due_times", 1, column, "stored", "recomputed", "--repair")
    assert failed == ["due_times"]

    repaired = worked("doctor", "--repair", "--json")
    assert repaired.code == 0, repaired.err
    assert "recomputed the due times of 1 case" in _check(repaired.json(), "due_times")["detail"]
    assert _doctor(worked)[0].code == 0


def test_a_lost_sweep_time_is_caught_but_an_early_one_is_not(worked):
    _sql(worked, "UPDATE cases SET sweep_at = sweep_at - 600 WHERE id = 1")
    assert _doctor(worked)[0].code == 0  # the sweep looks early, finds nothing, reschedules
    _sql(worked, "UPDATE cases SET sweep_at = NULL WHERE id = 1")
    _assert_names(worked, "due_times", 1, "sweep_at")


def test_resolved_cases_due_times_are_not_checked(worked):
    _sql(worked, "UPDATE cases SET resolve_by = resolve_by + 3600 WHERE id = 3")
    assert _doctor(worked)[0].code == 0


def test_an_invalid_policy_version_is_named(worked):
    _sql(worked, "UPDATE policy_versions SET toml = 'warn_at = \"soon\"' WHERE id = 1")
    result, doc = _doctor(worked)
    assert result.code == 5
    policy = _check(doc, "policy")
    assert policy["ok"] is False and "version 1" in policy["detail"]
    assert policy["cases"] == [1, 2, 3]


def test_a_damaged_search_index_is_caught_and_rebuilt(worked, backend):
    if backend == "postgres":  # case #1's document emptied: "fuser" is no longer found
        _sql(worked, "UPDATE case_search SET document = ''::tsvector WHERE id = 1")
    else:
        _sql(worked, "UPDATE cases_fts_data SET block = zeroblob(length(block)) "
                     "WHERE id = (SELECT max(id) FROM cases_fts_data)")
    result, doc = _doctor(worked)
    assert result.code == 5
    assert [c["name"] for c in doc["checks"] if not c["ok"]] == ["search_index"]
    assert worked("doctor", "--repair").code == 0
    assert [d["id"] for d in worked.doc("search", "fuser")] == [1]


def test_a_missing_index_is_named_and_made_again(worked):
    _sql(worked, "DROP INDEX events_case", "DROP INDEX cases_sweep_at")
    result, doc = _doctor(worked)
    assert result.code == 5 and "indexes" in result.err
    assert [c["name"] for c in doc["checks"] if not c["ok"]] == ["indexes"]
    detail = _check(doc, "indexes")["detail"]
    assert "2 of " in detail and "cases_sweep_at" in detail and "events_case" in detail
    assert "esc doctor --repair" in detail
    repaired = worked("doctor", "--repair", "--json")
    assert repaired.code == 0, repaired.out
    assert "made 2 missing indexes again" in _check(repaired.json(), "indexes")["detail"]
    assert {("cases_sweep_at",), ("events_case",)} <= set(worked.rows(
        "SELECT indexname FROM pg_indexes" if worked.is_pg else
        "SELECT name FROM sqlite_master WHERE type = 'index'"))
    assert _doctor(worked)[0].code == 0


def test_doctor_expects_exactly_the_indexes_a_new_store_has(worked):
    """The indexes check knows every index the migrations leave (none missed, as
    cases_unresolved_due was on PostgreSQL behind a comment), and the migrations leave
    no index doctor does not know of (as events_kind_at was)."""
    from esc_cli.store.integrity import expected_indexes

    if worked.is_pg:
        present = worked.rows(
            "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)")
    else:
        present = worked.rows("SELECT name FROM sqlite_master WHERE type = 'index' "
                              "AND sql IS NOT NULL")
    expected = expected_indexes("postgres" if worked.is_pg else "sqlite")
    assert {name for (name,) in present} == set(expected)
    assert {"cases_unresolved_due", "cases_sweep_at", "events_case"} <= set(expected)
    assert "events_kind_at" not in expected


def test_undelivered_notifications_are_reported_not_damage(worked, tmp_path):
    policy = worked.ok("policy", "export").out
    path = tmp_path / "policy.toml"
    path.write_text(policy + '\n[[channels]]\ntype = "command"\nargv = ["/bin/false"]\n')
    worked.ok("policy", "load", str(path))
    worked.ok("escalate", "2", "--reason", "customer called the CEO")
    result, doc = _doctor(worked)
    assert result.code == 0, result.err
    notifications = _check(doc, "notifications")
    assert notifications["ok"] is True
    assert "1 notification waiting" in notifications["detail"]


def test_a_foreign_store_exits_5(bare_esc):
    # a SQLite file, or a database, holding a table esc did not make
    bare_esc.sql("CREATE TABLE things (x INTEGER)")
    result, doc = _doctor(bare_esc)
    assert result.code == 5 and result.err.startswith("error:")
    assert doc["ok"] is False
    assert _check(doc, "schema")["ok"] is False
    assert "not an esc store" in _check(doc, "schema")["detail"]


@pytest.mark.sqlite_only("a file that is not a SQLite database")
def test_a_file_that_is_not_a_sqlite_database_exits_5(tmp_path):
    db = tmp_path / "notes.txt"
    db.write_text("hello, this is not SQLite\n" * 100)
    result = run_process("--db", str(db), "doctor")
    assert result.code == 5
    assert result.err.startswith("error:") and "Traceback" not in result.err
    assert "integrity\tno" in result.out


def test_a_missing_store_exits_5(bare_esc):
    # never initialised: no file, or an empty database (there, as with an empty SQLite
    # file, doctor runs its checks and the schema check says what to do)
    result = bare_esc("doctor")
    assert result.code == 5 and "esc init" in result.err + result.out
    assert not bare_esc.exists()


def test_a_newer_schema_exits_5(worked, backend):
    _sql(worked, "UPDATE esc_store SET version = 99" if backend == "postgres"
         else "PRAGMA user_version = 99")
    result, doc = _doctor(worked)
    assert result.code == 5
    assert "upgrade esc" in _check(doc, "schema")["detail"]


@pytest.mark.sqlite_only("damages the SQLite file's pages")
def test_a_damaged_sqlite_file_is_reported_without_a_traceback(worked, tmp_path):
    _sql(worked, "PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(Path(worked.db).read_bytes())
    page = 4096
    for offset in range(page * 2, min(len(data), page * 6), 7):
        data[offset] = 0xA5
    copy = tmp_path / "damaged.db"
    copy.write_bytes(bytes(data))
    result = run_process("--db", str(copy), "doctor", "--json")
    assert result.code == 5
    assert result.err.startswith("error:") and "Traceback" not in result.err
    doc = result.json()
    assert doc["ok"] is False
    assert [c for c in doc["checks"] if not c["ok"]]


@pytest.mark.sqlite_only("a SQLite file made by the first schema (a PostgreSQL store starts at the newest)")
def test_a_first_schema_sqlite_file_upgrades_and_passes(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(Path(__file__).parent / "fixtures" / "schema_v1.db", db)
    esc = EscRunner(db, now="2026-10-03T09:00:00Z")
    result, doc = _doctor(esc)
    assert result.code == 0, doc
    assert "upgraded from version 1" in _check(doc, "schema")["detail"]
    # the backfilled event counts hold: deleting a case's newest event is caught
    _sql(esc, "DELETE FROM events WHERE id = (SELECT max(id) FROM events WHERE case_id = 1)")
    assert _check(_doctor(esc)[1], "hash_chain")["cases"] == [1]
    # and the upgrade left every index a new store has
    assert "all " in _check(_doctor(esc)[1], "indexes")["detail"]


def test_terminal_output_names_cases_and_what_to_do(worked):
    _sql(worked, "UPDATE events SET reason = 'x' WHERE reason = 'reset it'")
    result = worked("doctor")
    assert result.code == 5
    lines = result.out.splitlines()
    assert lines[0].split("\t") == ["check", "ok", "detail", "cases"]
    row = next(line.split("\t") for line in lines if line.startswith("hash_chain"))
    assert row[1] == "no" and row[3] == "#3" and "restore" in row[2]
