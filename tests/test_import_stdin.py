"""`esc import -` reads a pipe: `esc export --db team.db | esc import --db NEW -` moves a
store (SQLite to PostgreSQL and back) in one line, history and hash chains intact."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ESC, EscRunner, run_process

NOW = "2026-11-02T10:00:00Z"
LATER = "2026-11-02T11:00:00Z"


def _target(kind: str, tmp_path, request) -> str:
    if kind == "postgres":
        return request.getfixturevalue("pg_store")
    path = tmp_path / "new.db"
    assert run_process("--db", str(path), "init").code == 0
    return str(path)


@pytest.mark.parametrize("dash", ["-", ""], ids=["import -", "import with no FILE"])
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_an_export_piped_into_import_dash_moves_the_store(kind, dash, tmp_path, request):
    old = EscRunner(tmp_path / "old.db", now=NOW)
    old.ok("init")
    old.ok("owner", "add", "bob", "--tier", "2")
    old.ok("open", "Printer on fire", "--customer", "Acme", "--priority", "high")
    old.ok("escalate", "1", "--reason", "needs a specialist", now="2026-11-02T10:05:00Z")
    old.ok("note", "1", "we are on it", "--customer", now="2026-11-02T10:06:00Z")
    new = _target(kind, tmp_path, request)

    pipe = f"{ESC} --db {tmp_path / 'old.db'} export | {ESC} --db '{new}' --now {LATER} import {dash}"
    moved = subprocess.run(pipe, shell=True, capture_output=True, text=True, timeout=60)
    assert moved.returncode == 0, moved.stderr
    assert "1 case" in moved.stdout

    again = run_process("--db", new, "--now", LATER, "export")
    assert again.out == run_process("--db", str(tmp_path / "old.db"), "--now", LATER, "export").out
    assert run_process("--db", new, "doctor").code == 0


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_piped_csv_with_a_bad_row_names_standard_input_and_imports_nothing(kind, tmp_path, request):
    new = _target(kind, tmp_path, request)
    csv = "title,customer,priority\nfine,Acme,high\nbad,Acme,hgh\n"
    for dry in ([], ["--dry-run"]):
        result = run_process("--db", new, "--now", NOW, "import", "-", *dry, input=csv)
        assert result.code == 2
        assert result.err.splitlines() == [
            "error: line 3: unknown priority 'hgh' (use urgent, high, medium, low or p1..p4)",
            "error: 1 bad row in standard input; nothing imported",
        ]
    assert run_process("--db", new, "queue", "--json").json() == []


def test_piped_json_and_csv_are_told_apart_by_their_first_byte(tmp_path):
    new = _target("sqlite", tmp_path, None)
    as_json = '\ufeff [{"title": "From JSON", "customer": "Acme", "priority": "low"}]'
    assert run_process("--db", new, "--now", NOW, "import", "-", input=as_json).code == 0
    as_csv = "title,customer,priority\nFrom CSV,Acme,low\n"
    assert run_process("--db", new, "--now", NOW, "import", "-", input=as_csv).code == 0
    titles = [case["title"] for case in run_process("--db", new, "queue", "--json").json()]
    assert sorted(titles) == ["From CSV", "From JSON"]


def test_an_empty_pipe_is_a_one_line_error(tmp_path):
    new = _target("sqlite", tmp_path, None)
    result = run_process("--db", new, "import", "-", input="")
    assert result.code == 2
    assert result.err == ("error: standard input is empty: a CSV file starts with a header "
                          "row of field names\n")


def test_import_without_a_file_at_a_terminal_is_a_one_line_error(tmp_path):
    """No FILE and nothing piped in: a usage error (2) saying both ways, not a wait for
    the keyboard."""
    import os
    import pty

    new = _target("sqlite", tmp_path, None)
    for args, said in ((["import"], "esc import needs a FILE"),
                       (["import", "-"], "esc import - reads a pipe")):
        leader, follower = pty.openpty()
        try:
            done = subprocess.run([ESC, "--db", new, *args], stdin=follower,
                                  capture_output=True, text=True, timeout=60)
        finally:
            os.close(leader)
            os.close(follower)
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"error: {said}") and done.stderr.count("\n") == 1
