"""esc backup: an online copy that is a valid store, even while others write."""

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EscRunner

WRITER = r"""
import os, sys
from esc_cli import services
from esc_cli.env import Env

db, stop = sys.argv[1], sys.argv[2]
i = 0
while not os.path.exists(stop):
    i += 1
    env = Env.build(db, "writer", "2026-11-02T10:00:00Z", "UTC")
    try:
        services.note(env, str(i % 3 + 1), f"note number {i}", customer_visible=False)
    finally:
        env.close()
    print(i, flush=True)  # one line per committed note
"""


def _cases(esc, count=3):
    for number in range(count):
        esc.ok("open", f"Case {number}", "--customer", "Globex", "--priority", "high")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_backup_is_a_private_valid_store(esc, tmp_path):
    _cases(esc)
    esc.ok("note", "1", "before the backup")
    target = tmp_path / "copy.db"
    doc = esc.doc("backup", str(target))
    assert doc["file"] == str(target)
    assert doc["cases"] == 3 and doc["events"] == 4
    assert doc["bytes"] == target.stat().st_size
    assert _mode(target) == 0o600
    # no staging file, and no -wal/-shm beside the copy: it is one self-contained file
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith("esc.db")] == ["copy.db"]

    copy = EscRunner(target)
    assert copy.doc("show", "1")["events"][-1]["reason"] == "before the backup"
    assert copy("doctor").code == 0
    # the copy is independent of the original
    esc.ok("note", "1", "after the backup")
    assert copy.doc("show", "1")["events"][-1]["reason"] == "before the backup"


def test_pipe_output_is_the_path(esc, tmp_path):
    target = tmp_path / "copy.db"
    assert esc.ok("backup", str(target)).out == f"{target}\n"


def test_an_existing_file_is_not_replaced_without_force(esc, tmp_path):
    _cases(esc, 1)
    target = tmp_path / "keep.db"
    target.write_text("precious")
    result = esc("backup", str(target))
    assert result.code == 2
    assert result.err.startswith("error:") and "--force" in result.err
    assert target.read_text() == "precious"

    assert esc.doc("backup", str(target), "--force")["cases"] == 1
    assert EscRunner(target).doc("show", "1")["title"] == "Case 0"
    assert _mode(target) == 0o600


def test_a_directory_gets_a_timestamped_file(esc, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    doc = esc.doc("backup", str(folder))
    assert doc["file"] == str(folder / "esc-20261102T100000Z.db")
    assert Path(doc["file"]).exists()
    again = esc("backup", str(folder))
    assert again.code == 2  # same instant, same name: refused, not overwritten


def test_targets_the_filesystem_refuses_exit_2_and_leave_nothing(esc, tmp_path):
    # a path to change, as for export --output and report --output (docs/operations.md)
    missing = esc("backup", str(tmp_path / "no" / "such" / "dir" / "x.db"))
    assert missing.code == 2
    assert missing.err == (f"error: cannot write {tmp_path / 'no/such/dir/x.db'}: "
                           f"directory {tmp_path / 'no/such/dir'} does not exist\n")
    plain = tmp_path / "a.json"
    plain.write_text("keep")
    under_a_file = esc("backup", str(plain / "x.db"))
    assert under_a_file.code == 2
    assert under_a_file.err == f"error: cannot write {plain / 'x.db'}: {plain} is not a directory\n"
    assert plain.read_text() == "keep"
    assert esc("doctor").code == 0
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


@pytest.mark.sqlite_only("the store is a file there, which a backup must not replace")
def test_a_backup_over_the_sqlite_store_file_itself_is_refused(esc, tmp_path):
    itself = esc("backup", str(esc.db), "--force")
    assert itself.code == 2 and "itself" in itself.err
    assert esc("doctor").code == 0
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


@pytest.mark.sqlite_only("the store is a file there, with its WAL beside it")
def test_a_backup_over_the_sqlite_store_by_another_name_or_its_wal_is_refused(esc, tmp_path):
    store = Path(esc.db)
    (tmp_path / "link.db").symlink_to(store)
    for name in (tmp_path / "link.db", f"{store}-wal", f"{store}-shm", f"{store}-journal"):
        refused = esc("backup", str(name), "--force")
        assert refused.code == 2 and refused.err.startswith(f"error: {name} is the store"), name
    assert not Path(f"{store}-journal").exists()
    assert esc("doctor").code == 0


def test_backup_of_a_missing_store_exits_5(bare_esc, tmp_path):
    # never initialised: no file, or an empty database
    result = bare_esc("backup", str(tmp_path / "copy.db"))
    assert result.code == 5 and "esc init" in result.err
    assert not (tmp_path / "copy.db").exists()
    assert not bare_esc.exists()


def test_backups_taken_while_another_process_writes_are_valid_stores(esc, tmp_path):
    _cases(esc)
    stop = tmp_path / "stop"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parent.parent / "src"),
                                         env.get("PYTHONPATH", "")])
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(esc.db), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    copies = []
    try:
        for round_ in range(3):
            for _ in range(20):  # the writer has committed 20 more notes
                assert writer.stdout.readline(), writer.stderr.read()
            target = tmp_path / f"copy{round_}.db"
            copies.append((target, esc.doc("backup", str(target))["events"]))
        for _ in range(20):  # and it kept writing after the last copy
            assert writer.stdout.readline(), writer.stderr.read()
    finally:
        stop.touch()
        _, errors = writer.communicate(timeout=60)
        assert writer.returncode == 0, errors

    counts = [events for _, events in copies]
    assert counts == sorted(counts) and counts[0] >= 3 + 20
    for target, events in copies:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == events
        result = EscRunner(target)("doctor", "--json")
        assert result.code == 0, result.out
        assert result.json()["ok"] is True
    assert esc("doctor").code == 0
