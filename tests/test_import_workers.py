"""A big CSV import is checked and settled in worker processes (services/import_workers):
the store it leaves is the one the single-process import leaves, byte for byte, bad
rows are named in file order and leave the store untouched, and a bad
ESC_IMPORT_WORKERS is one error line."""

from __future__ import annotations

import random

import pytest

from esc_cli.domain.model import iso
from esc_cli.services import import_workers, importer
from tests import stress
from tests.conftest import EscRunner

NOW = 1793613600  # 2026-11-02T10:00:00Z, the runner's default now


def _store(runner: EscRunner) -> tuple:
    """What an import writes (cases, events, notifications and the search index, whose
    SQLite segments follow the batches) and the schema, on either store."""
    search = ("case_search",) if runner.is_pg else ("cases_fts_data", "cases_fts_idx",
                                                     "cases_fts_docsize")
    tables = tuple(tuple(runner.rows(f"SELECT * FROM {t} ORDER BY 1"))
                   for t in ("cases", "events", "notifications", "owner_times", *search))
    return tables, stress.schema(runner.db)


def _fresh(new_store) -> EscRunner:
    runner = new_store()
    runner.ok("owner", "add", "chen", "--name", "Chen Wu")
    return runner


def _csv(tmp_path, rows: int, seed: int = 7):
    """Cases of every state and priority, some owned, pending and with feedback."""
    rng = random.Random(seed)
    path = tmp_path / "cases.csv"
    lines = ["title,customer,priority,category,channel,state,owner,tags,csat,tier,"
             "opened_at,acknowledged_at,resolved_at,closed_at"]
    for number in range(rows):
        opened = NOW - rng.randrange(3600, 60 * 86400)
        ack = opened + rng.randrange(60, 8 * 3600)
        resolved = ack + rng.randrange(60, 5 * 86400)
        closed = resolved + rng.randrange(60, 5 * 86400)
        state = rng.choice(("new", "open", "pending", "resolved", "closed"))
        times = {"new": (None, None, None), "open": (ack, None, None),
                 "pending": (ack, None, None), "resolved": (ack, resolved, None),
                 "closed": (ack, resolved, closed)}[state]
        times = tuple(t if t is not None and t <= NOW else None for t in times)
        if state in ("resolved", "closed") and times[1] is None:
            state, times = "open", (times[0], None, None)
        if state == "closed" and times[2] is None:
            state = "resolved"
        if times[0] is None:
            state = "new"
        csat = rng.choice(("", "", "4", "1")) if state in ("resolved", "closed") else ""
        lines.append(",".join([
            f"Case {number} of the batch", rng.choice(("Globex", "Initech", "Hooli")),
            rng.choice(("urgent", "high", "medium", "low")), rng.choice(("technical", "billing", "other")),
            rng.choice(("email", "chat", "phone")), state, rng.choice(("", "chen")),
            # escalated cases have waits for an owner (store/owner_times.py)
            rng.choice(("", "vip", "vip;eu")), csat, rng.choice(("1", "1", "2", "3")), iso(opened),
            *(iso(t) if t is not None else "" for t in times)]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def small_batches(monkeypatch):
    """Workers for any file, in small batches; the runs that used them, counted."""
    monkeypatch.setattr(import_workers, "WORKERS_MIN_BYTES", 0)
    monkeypatch.setattr(import_workers, "BATCH", 97)
    # the single-process import in batches of the same size: the search index's
    # segments (compared byte for byte) follow the batches
    monkeypatch.setattr(importer, "BATCH", 97)
    runs = []
    real = import_workers.write

    def spy(*args, **kwargs):
        runs.append(import_workers.worker_count())
        return real(*args, **kwargs)

    monkeypatch.setattr(import_workers, "write", spy)
    return runs


@pytest.mark.parametrize("store_has_cases", [False, True])
def test_workers_write_the_store_the_single_process_import_writes(tmp_path, new_store, small_batches,
                                                                   store_has_cases):
    path = _csv(tmp_path, 1500)
    alone, parallel = _fresh(new_store), _fresh(new_store)
    for runner in (alone, parallel):
        if store_has_cases:
            runner.ok("open", "Existing kettle", "--customer", "Initech", "--priority", "low")
    one = alone("import", str(path), env={"ESC_IMPORT_WORKERS": "0"})
    many = parallel("import", str(path), env={"ESC_IMPORT_WORKERS": "3"})
    assert one.code == many.code == 0, (one.err, many.err)
    assert one.out == many.out
    assert "imported 1500 cases" in many.out
    assert small_batches == [3]  # the single-process import was single-process
    assert _store(alone) == _store(parallel)
    assert parallel.rows("SELECT count(*) FROM owner_times")[0][0] > 100
    assert parallel("doctor").code == 0
    assert len(parallel.doc("search", "case")) > 0


def test_bad_rows_in_many_batches_are_named_in_file_order_and_nothing_is_written(tmp_path, new_store,
                                                                                small_batches):
    path = _csv(tmp_path, 700)
    lines = path.read_text(encoding="utf-8").splitlines()
    for number in (5, 250, 251, 699):  # line numbers of the file, header = 1
        fields = lines[number - 1].split(",")
        fields[2] = "p9"
        lines[number - 1] = ",".join(fields)
    lines[400 - 1] = "too,few"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    alone, parallel = _fresh(new_store), _fresh(new_store)
    before = _store(parallel)
    one = alone("import", str(path), env={"ESC_IMPORT_WORKERS": "0"})
    many = parallel("import", str(path), env={"ESC_IMPORT_WORKERS": "2"})
    assert one.code == many.code == 2
    assert many.err == one.err
    assert small_batches == [2]
    named = [line.split(":")[1].strip() for line in many.err.splitlines()[:-1]]
    assert named == ["line 5", "line 250", "line 251", "line 400", "line 699"]
    assert many.err.splitlines()[-1] == f"error: 5 bad rows in {path}; nothing imported"
    assert _store(parallel) == before


@pytest.mark.parametrize("setting", ["many", "-"])
def test_a_bad_worker_setting_is_one_error_line(esc, tmp_path, setting):
    path = _csv(tmp_path, 5)
    result = esc("import", str(path), env={"ESC_IMPORT_WORKERS": setting})
    assert result.code == 2
    assert result.err == f"error: ESC_IMPORT_WORKERS='{setting}' is not a number of workers\n"
    assert esc.doc("queue") == []


def test_an_import_with_workers_as_a_process_is_complete_and_replays(esc, tmp_path):
    """The installed esc, with the default threshold: a file past it uses workers."""
    rng = random.Random(stress.seed())
    rows = 8000
    big = stress.write_cases_csv(tmp_path / "big.csv", rows, NOW, rng)
    assert big.stat().st_size >= 512 << 10  # past WORKERS_MIN_BYTES as shipped
    env = stress.process_env(esc.db, ESC_NOW=iso(NOW), ESC_USER="importer", ESC_TZ="UTC",
                             ESC_IMPORT_WORKERS="2")
    import subprocess

    done = subprocess.run([stress.ESC, "import", str(big)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"imported {rows} cases")
    assert stress.replay_problems(esc.db) == []


def test_workers_that_cannot_start_leave_the_import_to_one_process(tmp_path, new_store, small_batches,
                                                                    monkeypatch):
    def no_processes(workers):
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(import_workers, "_start_pool", no_processes)
    path = _csv(tmp_path, 300)
    esc = _fresh(new_store)
    result = esc("import", str(path), env={"ESC_IMPORT_WORKERS": "2"})
    assert result.code == 0, result.err
    assert small_batches == [2]  # tried, then fell back
    assert result.out.startswith("imported 300 cases")
    assert esc("doctor").code == 0
