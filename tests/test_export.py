"""`esc export` and the round trip: export, import into an empty store, same figures."""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat
from pathlib import Path

import pytest

from tests.conftest import EscRunner, run_process


@pytest.fixture
def worked(esc, tmp_path):
    """A store with a little of everything: two policy versions, owners, escalations,
    pauses, a reopen, feedback, a rule, and text that needs escaping."""
    policy = tmp_path / "policy.toml"
    policy.write_text(esc.ok("policy", "export").out + """
[[rules]]
name = "billing-team"
when = { category = "billing" }
then = { team = "billing" }
""", encoding="utf-8")
    esc.ok("owner", "add", "bob", "--tier", "1", "--team", "billing", "--capacity", "9")
    esc.ok("owner", "add", "carol", "--tier", "2", "--email", "carol@example.com")
    day = "2026-10-2{}T{}:00:00Z"
    esc.ok("open", "Printer \"on fire\"", "--customer", "Globex, Inc.", "--priority", "high",
           "--owner", "bob", "--tag", "hw", now=day.format(0, "09"))
    esc.ok("policy", "load", str(policy), now=day.format(0, "09"))
    esc.ok("open", "Invoice wrong\nsecond line", "--customer", "Initech", "--priority", "medium",
           "--category", "billing", "--description", "Über café ✓", now=day.format(0, "10"))
    esc.ok("open", "Slow", "--customer", "Hooli", "--priority", "low", now=day.format(1, "09"))
    esc.ok("ack", "1", now=day.format(0, "09").replace(":00:00", ":20:00"))
    esc.ok("escalate", "1", "--reason", "needs carol", "--owner", "carol", now=day.format(0, "11"))
    esc.ok("note", "2", "on it", "--customer", now=day.format(0, "12"))
    esc.ok("pending", "2", "--reason", "logs please", now=day.format(0, "13"))
    esc.ok("resume", "2", now=day.format(2, "09"))
    esc.ok("resolve", "1", "--resolution", "new toner", now=day.format(1, "10"))
    esc.ok("feedback", "1", "--csat", "2", "--comment", "slow", now=day.format(1, "12"))
    esc.ok("reopen", "1", "--reason", "back again", now=day.format(2, "10"))
    esc.ok("resolve", "1", "--resolution", "really fixed", now=day.format(3, "10"))
    esc.ok("escalate", "3", "--reason", "network", "--team", "network", now=day.format(3, "11"))
    return esc


def _without_export_time(text: str) -> str:
    document = json.loads(text)
    document.pop("exported_at")
    return json.dumps(document, sort_keys=True)


def test_json_export_is_one_document_with_policy_owners_and_cases(worked):
    document = json.loads(worked.ok("export").out)
    assert [v["version"] for v in document["policy"]] == [1, 2]
    assert set(document["policy"][0]) == {"version", "created_at", "actor", "toml"}
    assert [o["handle"] for o in document["owners"]] == ["bob", "carol"]
    assert [c["id"] for c in document["cases"]] == [1, 2, 3]
    first = document["cases"][0]
    assert first["title"] == 'Printer "on fire"' and first["policy_version"] == 1
    assert [e["kind"] for e in first["events"]][:4] == ["opened", "assigned", "acknowledged", "escalated"]
    shown = worked.doc("show", "1")
    shown.pop("clocks")
    assert first == shown


def test_round_trip_reproduces_cases_events_and_report(worked, new_store, tmp_path):
    exported = tmp_path / "all.json"
    worked.ok("export", "--output", str(exported))
    fresh = new_store()
    summary = fresh.doc("import", str(exported))
    assert (summary["cases"], summary["owners"], summary["policy_versions"]) == (3, 2, 2)
    assert _without_export_time(fresh.ok("export").out) == _without_export_time(worked.ok("export").out)
    for case in ("1", "2", "3"):
        assert fresh.doc("show", case) == worked.doc("show", case)
    if fresh("report", "--help").code == 0:
        window = ("--since", "2026-10-01", "--until", "2026-11-02")
        assert fresh.doc("report", *window) == worked.doc("report", *window)
        by_owner = (*window, "--by", "owner")
        assert fresh.doc("report", *by_owner) == worked.doc("report", *by_owner)
    # the restored hash chains verify: the next event continues them
    fresh.ok("note", "2", "after the move")
    if fresh("doctor", "--help").code == 0:
        assert fresh.doc("doctor")["ok"] is True


def test_a_document_into_a_store_with_cases_keeps_the_stores_policy(worked, new_store, tmp_path):
    exported = tmp_path / "all.json"
    worked.ok("export", "--output", str(exported))
    other = new_store()
    other.ok("open", "Mine", "--customer", "Me", "--priority", "low")
    result = other("import", str(exported))
    assert result.code == 2 and "id 1 is already a case in the store" in result.err
    document = json.loads(exported.read_text())
    for case in document["cases"]:
        case["id"] += 100
    exported.write_text(json.dumps(document))
    summary = other.doc("import", str(exported))
    assert summary["policy_versions"] == 0 and summary["cases"] == 3
    assert [v["version"] for v in json.loads(other.ok("export").out)["policy"]] == [1]
    assert other.doc("show", "101")["events"] == worked.doc("show", "1")["events"]


def test_csv_export_holds_case_fields_and_reimports(worked, new_store, tmp_path):
    text = worked.ok("export", "--format", "csv").out
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == ["1", "2", "3"]
    assert "events" not in rows[0] and rows[0]["tags"] == "hw"
    assert rows[1]["title"] == "Invoice wrong\nsecond line" and rows[1]["description"] == "Über café ✓"
    assert rows[0]["customer"] == "Globex, Inc." and rows[0]["state"] == "resolved"
    target = tmp_path / "cases.csv"
    worked.ok("export", "-f", "csv", "-o", str(target))
    fresh = new_store()
    fresh.ok("owner", "add", "bob")
    fresh.ok("owner", "add", "carol", "--tier", "2")
    fresh.ok("import", str(target))
    for case in ("1", "2", "3"):
        before, after = worked.doc("show", case), fresh.doc("show", case)
        for field in ("title", "customer", "priority", "state", "tier", "owner", "team", "tags",
                      "opened_at", "acknowledged_at", "resolved_at", "csat"):
            assert after[field] == before[field], (case, field)


def test_export_to_a_file_is_private_and_never_the_store(worked, tmp_path):
    target = tmp_path / "out.json"
    result = worked.ok("export", "-o", str(target))
    assert result.out.startswith("exported 3 cases (") and str(target) in result.out
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    json.loads(target.read_text())
    one = tmp_path / "one.json"
    worked.sql("DELETE FROM events WHERE case_id > 1", "DELETE FROM cases WHERE id > 1")
    events = worked.rows("SELECT count(*) FROM events")[0][0]
    assert events > 1
    assert worked.ok("export", "-o", str(one)).out == f"exported 1 case ({events} events) to {one}\n"
    assert worked("export", "-o", str(tmp_path)).code == 2
    assert worked("export", "--format", "xml").code == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.sqlite_only("the store is a file there, which an export must not overwrite")
def test_export_refuses_to_write_over_the_sqlite_store_file(worked, tmp_path):
    refused = worked("export", "-o", str(worked.db))
    assert refused.code == 2 and "is the store itself" in refused.err
    assert worked("doctor").code == 0
    assert not [p for p in Path(worked.db).parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.sqlite_only("the store is a file there, which an export must not overwrite")
def test_export_refuses_the_sqlite_store_by_any_name_and_its_wal(worked, tmp_path, monkeypatch):
    store = Path(worked.db)
    before = store.read_bytes()
    (tmp_path / "link.db").symlink_to(store)
    (tmp_path / "hard.db").hardlink_to(store)
    monkeypatch.chdir(tmp_path)
    for name in (store.name, f"./{store.name}", "link.db", "hard.db", f"{store}-wal",
                 f"{store}-shm"):
        refused = worked("export", "-o", name)
        assert refused.code == 2 and refused.err.startswith(f"error: {Path(name)} is the store"), name
    assert store.read_bytes() == before
    assert worked("doctor").code == 0


def test_export_writes_through_a_symlink_to_its_target(worked, tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "out.json"
    link.symlink_to(target)
    worked.ok("export", "-o", str(link))
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(json.loads(target.read_text())["cases"]) == 3
    dangling = tmp_path / "new.json"
    dangling.symlink_to(tmp_path / "made.json")
    worked.ok("export", "-f", "csv", "-o", str(dangling))
    assert dangling.is_symlink() and (tmp_path / "made.json").read_text().startswith("id,")
    assert stat.S_IMODE(os.stat(tmp_path / "made.json").st_mode) == 0o600


def test_export_writes_into_a_fifo(worked, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    # opened first without waiting for a writer, so the test cannot hang: the export
    # (small enough for the pipe's buffer) is then read back from it
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        worked.ok("export", "-o", str(fifo))
        chunks = []
        while chunk := os.read(reader, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert len(json.loads(b"".join(chunks))["cases"]) == 3


def test_export_to_dev_stdout_is_standard_output(worked, tmp_path):
    # /dev/fd/1 rather than /dev/stdout: an export that renamed its file over the name
    # given would replace the machine's /dev/stdout, while in /dev/fd (/proc/self/fd)
    # it cannot create one
    env = {"ESC_DB": str(worked.db), "ESC_NOW": EscRunner.now_default, "ESC_TZ": "UTC"}
    target = tmp_path / "out.txt"
    target.write_text("before\n")
    with open(target, "a") as handle:  # `>> out.txt`: appended to, not replaced
        result = run_process("export", "-f", "csv", "--output", "/dev/fd/1", env=env,
                             stdout=handle)
    assert (result.code, result.err) == (0, "")
    before, written = target.read_text().split("\n", 1)
    assert before == "before" and "exported" not in written
    assert [row["id"] for row in csv.DictReader(io.StringIO(written))] == ["1", "2", "3"]


def test_export_paths_the_filesystem_refuses_exit_2(worked, tmp_path):
    plain = tmp_path / "a.json"
    plain.write_text("keep")
    under_a_file = worked("export", "-o", str(plain / "x.json"))
    assert under_a_file.code == 2
    assert under_a_file.err == f"error: cannot write {plain / 'x.json'}: {plain} is not a directory\n"
    missing = worked("export", "-o", str(tmp_path / "no" / "such" / "x.json"))
    assert missing.code == 2
    assert missing.err == (f"error: cannot write {tmp_path / 'no' / 'such' / 'x.json'}: "
                           f"directory {tmp_path / 'no' / 'such'} does not exist\n")
    assert plain.read_text() == "keep" and not (tmp_path / "no").exists()


def test_empty_store_exports_and_reimports(esc, new_store, tmp_path):
    target = tmp_path / "empty.json"
    esc.ok("export", "-o", str(target))
    assert json.loads(target.read_text())["cases"] == []
    fresh = new_store()
    assert fresh.doc("import", str(target))["cases"] == 0
    assert esc.ok("export", "--format", "csv").out.count("\n") == 1


def test_an_export_streams_in_pages(esc, tmp_path, monkeypatch):
    """More cases than one page, so the page boundary is crossed and nothing is lost."""
    from esc_cli.store import bulk

    real = bulk.iter_case_pages
    monkeypatch.setattr(bulk, "iter_case_pages", lambda conn, size=2000: real(conn, 2))
    rows = "".join(f"Case {n},Cust,low\n" for n in range(5))
    esc.ok("import", str(_file(tmp_path, "c.csv", "title,customer,priority\n" + rows)))
    document = json.loads(esc.ok("export").out)
    assert [c["id"] for c in document["cases"]] == [1, 2, 3, 4, 5]
    assert all(len(c["events"]) == 1 for c in document["cases"])


def _file(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_export_takes_json_as_every_read_command_does(esc):
    # SPEC 4: every read command takes --json; for export it is the default format said
    esc.ok("open", "Printer", "-c", "acme", "-p", "high")
    assert esc.ok("export", "--json").out == esc.ok("export").out
    assert esc.ok("export", "--json", "--format", "json").out == esc.ok("export").out
    clash = esc("export", "--json", "--format", "csv")
    assert clash.code == 2 and clash.err.startswith("error: --json is --format json")


@pytest.mark.parametrize(("code", "exit_code"), [
    (errno.EACCES, 2), (errno.EROFS, 2), (errno.ENAMETOOLONG, 2), (errno.EISDIR, 2),
    (errno.ENOSPC, 5), (errno.EIO, 5), (errno.EDQUOT, 5),
])
def test_a_path_to_change_exits_2_and_a_machine_in_trouble_5(code, exit_code):
    """One rule for every file esc is told to write (docs/operations.md): naming another
    path fixes a 2; a 5 is the machine's (full, failing, over quota). (The rule alone:
    the directory of this name exists, so the errno decides.)"""
    from esc_cli.outfile import cannot_write

    error = cannot_write(Path("/tmp/x.json"), OSError(code, os.strerror(code)))
    assert error.exit_code == exit_code
    assert error.message == f"cannot write /tmp/x.json: {os.strerror(code)}"


def test_a_name_too_long_for_the_filesystem_exits_2(esc, tmp_path):
    # the name was looked at (Path.exists) before the command's own check: exit 5, "the
    # system refused"
    long = str(tmp_path / ("n" * 300))
    for command in (("export", "-o", f"{long}.json"), ("backup", f"{long}.db"),
                    ("report", "-o", f"{long}.html")):
        result = esc(*command)
        assert result.code == 2 and result.err.startswith("error: "), (command, result)
        assert "name too long" in result.err.lower()


def test_export_to_a_file_with_json_says_so_in_json(esc, tmp_path):
    esc.ok("open", "Printer", "-c", "acme", "-p", "high")
    target = tmp_path / "out.json"
    said = json.loads(esc.ok("export", "-o", str(target), "--json").out)
    assert said == {"file": str(target), "format": "json", "cases": 1, "events": 1,
                    "owners": 0, "policy_versions": 1}
    assert json.loads(target.read_text())["cases"][0]["title"] == "Printer"


def test_a_carriage_return_in_a_csv_export_is_quoted_and_reimports(esc, new_store, tmp_path):
    # Python's csv writer quotes only its own line end's characters: a lone CR went out
    # bare, and the import read it as the end of the row
    esc.ok("open", "Printer\rjam", "-c", "Acme\r", "-p", "low")
    target = tmp_path / "cr.csv"
    esc.ok("export", "-f", "csv", "-o", str(target))
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode(), newline="")))
    assert len(rows) == 2 and rows[1][1] == "Printer\rjam"
    fresh = new_store()
    fresh.ok("import", str(target))
    assert fresh.doc("show", "1")["title"] == "Printer\rjam"
    assert fresh.doc("show", "1")["customer"] == "Acme\r"
