"""Store hygiene (SPEC §5): private files whatever the umask, a newer schema refused
without a byte changed, backups that pass doctor, and damage that doctor pins on the
cases it touched (alongside tests/test_store.py, test_backup.py and test_doctor.py,
which cover the single-case forms)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from esc_cli.store.migrations import SCHEMA_VERSION
from tests import stress
from tests.conftest import ESC, EscRunner

NOW = "2026-11-02T10:00:00Z"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _esc(db: Path, *args: str, umask: int | None = None, now: str = NOW):
    env = stress.process_env(db, ESC_NOW=now, ESC_USER="alice", ESC_TZ="UTC")
    return subprocess.run([ESC, *args], env=env, capture_output=True, text=True, timeout=120,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)


def _worked_store(db: Path, cases: int = 12, seed: int = 7) -> EscRunner:
    """A store with a bit of everything: escalations, notes, notifications, resolved and
    closed cases, search index rows."""
    rng = random.Random(seed)
    esc = EscRunner(db, now="2026-11-01T08:00:00Z")
    esc.ok("init")
    esc.ok("owner", "add", "bob", "--tier", "1", "--email", "bob@example.com")
    for number in range(cases):
        esc.ok("open", f"Case {number}", "--customer", rng.choice(["Globex", "Initech"]),
               "--priority", rng.choice(["urgent", "high", "medium", "low"]))
    for number in range(1, cases + 1):
        at = f"2026-11-01T{9 + number % 8:02d}:{number:02d}:00Z"
        esc.ok("note", str(number), f"looked at {number}", now=at)
        if number % 3 == 0:
            esc.ok("resolve", str(number), "--resolution", "fixed", now=at)
        if number % 4 == 0:
            esc.ok("assign", str(number), "bob", now=at)
    esc.ok("close", "3", now="2026-11-01T20:00:00Z")
    esc.ok("sweep", now=NOW)
    return esc


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_every_store_file_is_private_whatever_the_umask(tmp_path, umask):
    db = tmp_path / "new" / "esc.db"
    result = _esc(db, "init", umask=umask)
    assert result.returncode == 0, result.stderr
    assert _mode(db) == 0o600
    # while a reader holds the store, a writer's -wal and -shm files stay to be looked at
    reader = sqlite3.connect(db)
    reader.execute("SELECT count(*) FROM cases").fetchone()
    try:
        assert _esc(db, "open", "t", "--customer", "c", "--priority", "high",
                    umask=umask).returncode == 0
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            assert side.exists() and _mode(side) == 0o600, (suffix, oct(_mode(side)))
    finally:
        reader.close()
    backup = tmp_path / "backup.db"
    assert _esc(db, "backup", str(backup), umask=umask).returncode == 0
    assert _mode(backup) == 0o600
    demo = tmp_path / "demo.db"  # --into names the demo's store file
    result = _esc(db, "demo", "--into", str(demo), umask=umask)
    assert result.returncode == 0, result.stderr
    stores = [p for p in (demo, Path(f"{demo}-wal"), Path(f"{demo}-shm")) if p.exists()]
    assert stores[0] == demo and all(_mode(p) == 0o600 for p in stores), stores


def _digest(db: Path) -> str:
    files = [Path(f"{db}{s}") for s in ("", "-wal") if Path(f"{db}{s}").exists()]
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def test_a_newer_schema_is_refused_by_every_command_and_left_untouched(tmp_path):
    db = tmp_path / "esc.db"
    _worked_store(db, cases=3)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1000}")  # far ahead of any esc
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _digest(db)
    csv = tmp_path / "cases.csv"
    csv.write_text("title,customer,priority\nA,Globex,low\n")
    runner = EscRunner(db, now=NOW)
    commands = (("init",), ("queue",), ("show", "1"), ("note", "1", "hi"), ("sweep",),
                ("import", str(csv)), ("export",), ("backup", str(tmp_path / "b.db")),
                ("report",), ("policy", "show"), ("notify", "retry"), ("doctor",),
                ("search", "Case"))
    for number, args in enumerate(commands):
        if number % 4 == 0:  # a few as real processes, the rest in-process (faster)
            done = _esc(db, *args)
            code, out, err = done.returncode, done.stdout, done.stderr
        else:
            result = runner(*args)
            code, out, err = result.code, result.out, result.err
        assert code == 5, (args, code, err)
        lines = err.splitlines()
        assert lines and lines[0].startswith("error:"), args
        # doctor tells what to do in its table; everything else in its error line
        assert "upgrade esc" in (out if args == ("doctor",) else err), args
        assert "Traceback" not in err
    assert _digest(db) == before
    assert not (tmp_path / "b.db").exists()


def test_a_backup_of_a_worked_store_passes_doctor_and_holds_everything(tmp_path):
    db = tmp_path / "esc.db"
    _worked_store(db)
    backup = tmp_path / "copy.db"
    result = _esc(db, "backup", str(backup))
    assert result.returncode == 0, result.stderr
    assert stress.dump(backup) == stress.dump(db)
    doctor = _esc(backup, "doctor", "--json")
    assert doctor.returncode == 0, doctor.stdout
    assert stress.integrity(backup) == [] and stress.replay_problems(backup) == []


def test_doctor_names_every_damaged_case_and_only_those(tmp_path):
    """Edits, deletions and a reordering spread over several cases at once: doctor's
    hash-chain check lists exactly those cases, and a clean copy passes."""
    db = tmp_path / "esc.db"
    _worked_store(db)
    clean = _esc(db, "doctor", "--json")
    assert clean.returncode == 0, clean.stdout
    conn = sqlite3.connect(db)
    with conn:
        # an edited reason (#2), an edited time (#5), a deleted middle event (#7)
        conn.execute("UPDATE events SET reason = 'nothing to see' WHERE case_id = 2 AND kind = 'note'")
        conn.execute("UPDATE events SET at = at - 60 WHERE case_id = 5 AND kind = 'note'")
        conn.execute("DELETE FROM events WHERE case_id = 7 AND kind = 'note'")
        # #10's first two events swap places
        first, second = [r[0] for r in conn.execute(
            "SELECT id FROM events WHERE case_id = 10 ORDER BY id LIMIT 2")]
        conn.execute("UPDATE events SET id = -1 WHERE id = ?", (first,))
        conn.execute("UPDATE events SET id = ? WHERE id = ?", (first, second))
        conn.execute("UPDATE events SET id = ? WHERE id = -1", (second,))
        # an actor rewritten (#11)
        conn.execute("UPDATE events SET actor = 'mallory' WHERE case_id = 11 AND kind = 'opened'")
    conn.close()
    result = _esc(db, "doctor", "--json")
    assert result.returncode == 5 and result.stderr.startswith("error:"), result.stderr
    assert "Traceback" not in result.stderr
    doc = json.loads(result.stdout)
    chain = next(c for c in doc["checks"] if c["name"] == "hash_chain")
    assert chain["ok"] is False and chain["cases"] == [2, 5, 7, 10, 11]
    for case in (2, 5, 7, 10, 11):
        assert f"#{case}" in chain["detail"]
    plain = _esc(db, "doctor")
    assert plain.returncode == 5 and "#2" in plain.stdout and "#11" in plain.stdout


def test_a_store_in_a_directory_nothing_can_write_reads_and_refuses_writes(tmp_path, monkeypatch):
    """A backup on read-only media: SQLite cannot make the -shm file a WAL store is read
    through, so every command said "unable to open database file" and doctor "not an esc
    store". (Root writes through mode bits, so the read-only directory is what esc asks
    the system about, answered here.)"""
    import esc_cli.store.db as db

    store = EscRunner(tmp_path / "live.db")
    store.ok("init")
    store.ok("open", "Printer", "-c", "acme", "-p", "high")
    media = tmp_path / "media"
    media.mkdir()
    store.ok("backup", str(media / "copy.db"))
    real_access = os.access
    monkeypatch.setattr(db.os, "access", lambda p, mode: (
        False if Path(p) == media and mode & os.W_OK else real_access(p, mode)))
    copy = EscRunner(media / "copy.db")
    assert copy.doc("show", "1")["title"] == "Printer"
    assert copy.doc("doctor")["ok"]
    refused = copy("ack", "1")
    assert refused.code == 5 and "is read-only" in refused.err
    assert copy.doc("show", "1")["state"] == "new"
    assert sorted(p.name for p in media.iterdir()) == ["copy.db"]
