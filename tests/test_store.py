"""The store file (SPEC §5) and global options (SPEC §4): init, refusals, modes, env vars."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from esc_cli import __version__
from esc_cli.store.db import APPLICATION_ID
from esc_cli.store.migrations import MIGRATIONS, SCHEMA_VERSION
from tests import stress
from tests.conftest import EscRunner, run_process


def one_error_line(result, code: int, *words: str) -> str:
    assert result.code == code, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.err
    assert "Traceback" not in result.err and result.out == ""
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.mark.sqlite_only("an empty file, PRAGMAs, WAL")
def test_init_migrates_an_empty_sqlite_file_and_records_it(bare_esc):
    bare_esc.db.write_bytes(b"")  # an empty file is as good as none
    result = bare_esc.ok("init")
    assert "initialised" in result.out
    conn = sqlite3.connect(str(bare_esc.db))
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
        recorded = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
        assert recorded == [name for name, _ in MIGRATIONS]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"cases", "events", "owners", "policy_versions"} <= tables
        assert conn.execute("SELECT count(*) FROM policy_versions").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
    assert [t["name"] for t in bare_esc.doc("tier", "list")] == [
        "Frontline", "Specialist", "Manager", "Senior management"]


def test_init_twice_changes_nothing(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    before = stress.dump(esc.db)
    result = esc.ok("init")
    assert "already initialised" in result.out and "nothing changed" in result.out
    assert esc.doc("init") == {"created": False, "db": str(esc.db)}
    assert esc.doc("queue")[0]["title"] == "t"
    assert esc.rows("SELECT count(*) FROM policy_versions") == [(1,)]
    assert stress.dump(esc.db) == before


def test_init_with_a_policy_file(bare_esc, new_place, tmp_path):
    from esc_cli.domain.policy import DEFAULT_POLICY_TOML

    path = tmp_path / "p.toml"
    path.write_text(DEFAULT_POLICY_TOML.replace('respond = "15m"', 'respond = "5m"'))
    bare_esc.ok("init", "--policy", str(path))
    doc = bare_esc.doc("open", "t", "--customer", "c", "--priority", "urgent")
    assert doc["respond_by"] == "2026-11-02T10:05:00Z"
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_POLICY_TOML.replace('respond = "15m"', 'respond = "soon"'))
    other = EscRunner(new_place())
    one_error_line(other("init", "--policy", str(bad)), 2, "priorities.urgent.respond")
    assert not other.exists()


@pytest.mark.sqlite_only("a missing file")
def test_missing_sqlite_file(bare_esc):
    one_error_line(bare_esc("queue"), 5, "esc init")
    assert not bare_esc.db.exists()  # reading never creates a store


@pytest.mark.sqlite_only("an empty file")
def test_uninitialised_sqlite_file(bare_esc):
    bare_esc.db.write_bytes(b"")
    one_error_line(bare_esc("queue"), 5, "not initialised", "esc init")
    one_error_line(bare_esc("open", "t", "--customer", "c", "--priority", "high"), 5)
    assert bare_esc.db.read_bytes() == b""


@pytest.mark.sqlite_only("a foreign SQLite file (tests/test_pg_store.py has the PostgreSQL one)")
def test_foreign_sqlite_file(bare_esc):
    conn = sqlite3.connect(str(bare_esc.db))
    conn.execute("CREATE TABLE recipes (name TEXT)")
    conn.commit()
    conn.close()
    before = bare_esc.db.read_bytes()
    one_error_line(bare_esc("queue"), 5, "not an esc store")
    one_error_line(bare_esc("init"), 5, "not an esc store")  # init never adopts it
    assert bare_esc.db.read_bytes() == before


@pytest.mark.sqlite_only("a file that is not a database")
def test_not_a_sqlite_database(bare_esc):
    bare_esc.db.write_text("these are my notes, not a database\n" * 100)
    one_error_line(bare_esc("queue"), 5, "not an esc store")
    one_error_line(bare_esc("init"), 5)


def test_a_directory_is_not_a_store(bare_esc, tmp_path):
    bare_esc.db = tmp_path
    one_error_line(bare_esc("queue"), 5)
    one_error_line(bare_esc("init"), 5)


@pytest.mark.sqlite_only("PRAGMA user_version (tests/test_pg_store.py has the PostgreSQL one)")
def test_newer_sqlite_schema_is_refused(esc):
    conn = sqlite3.connect(str(esc.db))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    for args in (("queue",), ("init",), ("open", "t", "--customer", "c", "--priority", "high")):
        one_error_line(esc(*args), 5, "upgrade esc")


def test_store_errors_from_a_real_process(bare_esc, backend, tmp_path):
    # a store esc did not make: a text file, or a database holding someone else's table
    if backend == "postgres":
        bare_esc.sql("CREATE TABLE notes (line TEXT)")
        place = bare_esc.db
    else:
        place = tmp_path / "notes.db"
        place.write_text("hello")
    result = run_process("--db", str(place), "queue")
    one_error_line(result, 5, "not an esc store")


@pytest.mark.sqlite_only("the SQLite file's mode and its -wal and -shm files")
def test_sqlite_store_files_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        runner = EscRunner(tmp_path / "sub" / "dir" / "esc.db")  # parents are created
        runner.ok("init")
        assert stat.S_IMODE(runner.db.stat().st_mode) == 0o600
        # hold the store open so the -wal and -shm files stay while esc writes
        reader = sqlite3.connect(str(runner.db))
        reader.execute("SELECT count(*) FROM cases").fetchone()
        runner.ok("open", "t", "--customer", "c", "--priority", "high")
        for suffix in ("-wal", "-shm"):
            side = runner.db.with_name(runner.db.name + suffix)
            assert side.exists() and stat.S_IMODE(side.stat().st_mode) == 0o600, suffix
        reader.close()
    finally:
        os.umask(old)


@pytest.mark.sqlite_only("WAL")
def test_write_survives_and_reads_see_it_in_the_sqlite_wal(esc):
    conn = sqlite3.connect(str(esc.db))
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


# -- global options ---------------------------------------------------------------

def test_version(bare_esc):
    result = run_process("--version")
    assert result.code == 0 and result.out == f"esc {__version__}\n"
    assert bare_esc("--version").out == f"esc {__version__}\n"


def test_environment_variables_and_flags_override_them(new_place):
    env_db, flag_db = new_place(), new_place()
    env = {"ESC_DB": str(env_db), "ESC_USER": "erin", "ESC_NOW": "2026-11-02T10:00:00",
           "ESC_TZ": "Europe/Berlin"}
    assert run_process("init", env=env).code == 0 and EscRunner(env_db).exists()
    result = run_process("open", "t", "--customer", "c", "--priority", "high", "--json", env=env)
    assert result.code == 0, result
    # ESC_NOW has no offset: read in ESC_TZ (Berlin, CET = UTC+1)
    assert result.json()["opened_at"] == "2026-11-02T09:00:00Z"
    shown = run_process("show", "1", "--json", env=env).json()
    assert shown["events"][0]["actor"] == "erin"
    # flags beat the environment
    assert run_process("--db", str(flag_db), "init", env=env).code == 0
    assert EscRunner(flag_db).exists()
    result = run_process("--db", str(flag_db), "--as", "frank", "--now", "2026-11-02T10:00:00",
                         "--tz", "UTC", "open", "t", "--customer", "c", "--priority", "high",
                         "--json", env=env)
    assert result.json()["opened_at"] == "2026-11-02T10:00:00Z"
    shown = run_process("--db", str(flag_db), "show", "1", "--json", env=env).json()
    assert shown["events"][0]["actor"] == "frank"
    assert len(run_process("queue", "--json", env=env).json()) == 1  # env store untouched


def test_now_with_an_offset_ignores_the_zone(esc):
    esc.tz = "Asia/Tokyo"
    doc = esc.doc("open", "t", "--customer", "c", "--priority", "high",
                  now="2026-11-02T10:00:00+01:00")
    assert doc["opened_at"] == "2026-11-02T09:00:00Z"


def test_now_in_a_dst_gap_exits_2_and_ambiguous_takes_the_first(esc):
    esc.tz = "America/New_York"
    one_error_line(esc("queue", now="2026-03-08T02:30:00"), 2, "2026-03-08T02:30")
    # 01:30 happens twice on 2026-11-01: first as EDT (UTC-4) = 05:30Z
    doc = esc.doc("open", "t", "--customer", "c", "--priority", "high", now="2026-11-01T01:30:00")
    assert doc["opened_at"] == "2026-11-01T05:30:00Z"
    esc.tz = "Europe/Berlin"
    one_error_line(esc("queue", now="2026-03-29T02:15"), 2)
    doc = esc.doc("open", "t", "--customer", "c", "--priority", "high", now="2026-10-25T02:30")
    assert doc["opened_at"] == "2026-10-25T00:30:00Z"  # CEST (UTC+2), the first 02:30


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "UTC+5", "europe/berlin "])
def test_unknown_tz_exits_2(esc, zone):
    esc.tz = zone
    one_error_line(esc("queue"), 2)


@pytest.mark.parametrize("now", ["yesterday-ish", "2026-13-01T00:00", "2026-11-02T25:00"])
def test_bad_now_exits_2(esc, now):
    one_error_line(esc("queue", now=now), 2)


def test_empty_environment_values_mean_unset_and_empty_options_exit_2(esc):
    # ESC_TZ="" or ESC_NOW="" in a crontab means "not set", as with most tools; but an
    # option given empty (`--now "$TYPO"`) is a mistake: acting at the real clock
    # instead wrote history that no backfill could then precede
    unset = {"ESC_TZ": "", "ESC_NOW": "", "ESC_USER": "", "ESC_DB": ""}
    assert run_process("--db", str(esc.db), "queue", env=unset).code == 0
    esc.ok("open", "Printer", "-c", "acme", "-p", "high")
    before = esc.ok("export").out
    for option in ("--now", "--as", "--tz", "--db"):
        for empty in ("", "  "):
            result = esc(option, empty, "note", "1", "hello")
            one_error_line(result, 2)
            assert option in result.err
    assert esc.ok("export").out == before


@pytest.mark.parametrize("user", ["sweep", "routing", "rule:key-accounts", "a b", "tab\tbed"])
def test_the_acting_user_is_a_handle_and_none_of_escs_own(esc, user):
    # a note as rule:NAME made the rule look fired (it then never fired on the case);
    # one as sweep was no activity to the stale re-escalation
    esc.ok("open", "Printer", "-c", "acme", "-p", "high")
    before = esc.ok("export").out
    one_error_line(esc("note", "1", "hello", user=user), 2)
    one_error_line(esc("owner", "add", user, "--tier", "1"), 2)
    assert esc.ok("export").out == before
    assert esc.ok("note", "1", "hello", user="rule-keeper").code == 0


def test_non_utf8_arguments_exit_2(bare_esc):
    db = str(bare_esc.db)
    assert run_process("--db", db, "init").code == 0
    import subprocess

    from tests.conftest import ESC

    proc = subprocess.run([ESC, "--db", db, "open", b"bad \xff byte", "--customer", "c",
                           "--priority", "high"], capture_output=True)
    assert proc.returncode == 2 and proc.stderr.startswith(b"error:") and b"UTF-8" in proc.stderr


# -- concurrent writers ---------------------------------------------------------------

def test_concurrent_writers_lose_nothing_and_apply_a_move_once(esc):
    import subprocess

    from tests.conftest import ESC

    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    base = [ESC, "--db", str(esc.db), "--as", "bob", "--now", "2026-11-02T10:00:00Z"]
    procs = [subprocess.Popen(base + ["ack", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(4)]
    procs += [subprocess.Popen(base + ["note", "1", f"note {n}"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE) for n in range(6)]
    codes = [p.wait(timeout=60) for p in procs]
    assert sorted(codes[:4]) == [0, 4, 4, 4]  # one ack wins, the rest find the case open
    assert codes[4:] == [0] * 6
    events = esc.doc("show", "1")["events"]
    assert [e["kind"] for e in events].count("acknowledged") == 1
    assert sorted(e["reason"] for e in events if e["kind"] == "note") == [f"note {n}" for n in range(6)]
    from esc_cli.domain.model import Event, chain_breaks

    chain = [(Event(*row[:7]), bytes(row[7])) for row in esc.rows(
        "SELECT at, actor, kind, field, from_value, to_value, reason, hash FROM events "
        "WHERE case_id = 1 ORDER BY id")]
    assert chain_breaks(1, chain) is None


@pytest.mark.sqlite_only("SQLite's file lock")
def test_a_sqlite_file_locked_past_the_busy_timeout_exits_5(esc):
    esc.ok("open", "t", "--customer", "c", "--priority", "high")
    holder = sqlite3.connect(str(esc.db), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        result = run_process("--db", str(esc.db), "--now", "2026-11-02T10:00:00Z", "ack", "1",
                             env={"ESC_BUSY_TIMEOUT_MS": "200"})
        one_error_line(result, 5, "busy")
        # readers are not blocked by a writer in WAL mode
        assert run_process("--db", str(esc.db), "queue", env={"ESC_BUSY_TIMEOUT_MS": "200"}).code == 0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert esc.doc("show", "1")["state"] == "new"


@pytest.mark.sqlite_only("sqlite3's transaction and its trace of statements")
def test_every_migration_runs_inside_the_callers_transaction_on_sqlite(tmp_path):
    """A migration that commits part-way (executescript does) would let a crash leave a
    half-migrated store and a second process migrate the same store at once."""
    import sqlite3 as sqlite

    from esc_cli.store.migrations import migrate

    conn = sqlite.connect(tmp_path / "esc.db", isolation_level=None)
    seen = []
    conn.set_trace_callback(lambda statement: seen.append(statement.strip().upper()))
    conn.execute("BEGIN IMMEDIATE")
    migrate(conn)
    assert conn.in_transaction
    conn.execute("COMMIT")
    assert not any(s.startswith(("COMMIT", "END")) for s in seen[:-1])


def _cases(conn) -> int:
    return conn.execute("SELECT count(*) FROM cases").fetchone()[0]


@pytest.mark.sqlite_only("SQLite's snapshot handshake")
def test_a_sqlite_read_pair_is_two_connections_on_one_snapshot(esc):
    from esc_cli.store.db import Store

    esc.ok("open", "before", "--customer", "Acme", "--priority", "high")
    store = Store.open(esc.db)
    try:
        with store.read_pair() as (conn, second):
            assert second is not None and second is not conn
            # the lock that lined the snapshots up is gone: a writer commits (it would
            # wait out the busy timeout and fail otherwise)
            esc.ok("open", "during", "--customer", "Acme", "--priority", "high")
            assert _cases(conn) == _cases(second) == 1
        with store.read() as conn:
            assert _cases(conn) == 2
    finally:
        store.close()


@pytest.mark.sqlite_only("SQLite's write lock")
def test_a_sqlite_read_pair_does_not_wait_for_a_writer(esc):
    from esc_cli.store.db import Store

    esc.ok("open", "before", "--customer", "Acme", "--priority", "high")
    writer = sqlite3.connect(str(esc.db), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM cases")  # not committed: no reader may see it
    store = Store.open(esc.db)
    try:
        with store.read_pair() as (conn, second):
            assert second is None and _cases(conn) == 1
    finally:
        store.close()
        writer.execute("ROLLBACK")
        writer.close()
    # and the report goes on with one connection
    assert esc.doc("report", now="2026-11-02T11:00:00Z")["backlog"] == 1
