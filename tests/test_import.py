"""`esc import`: every kind of bad row, atomicity, histories, owners, rules, dry runs."""

from __future__ import annotations

import json

import pytest

from tests.conftest import EscRunner

HEADER = "id,title,customer,priority,category,channel,tier,owner,opened_at,acknowledged_at,resolved_at,closed_at,csat,tags\n"


def write(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def snapshot(db) -> tuple:
    """Everything import could touch, to prove a refused import wrote nothing."""
    store = EscRunner(db)
    return tuple(tuple(store.rows(f"SELECT * FROM {table} ORDER BY 1"))
                 for table in ("cases", "events", "owners", "policy_versions", "notifications"))


def errors(result) -> list[str]:
    return [line for line in result.err.splitlines() if line]


@pytest.fixture
def team(esc):
    esc.ok("owner", "add", "bob", "--tier", "1", "--email", "bob@example.com")
    esc.ok("owner", "add", "carol", "--tier", "2")
    return esc


# -- bad rows -------------------------------------------------------------------------

BAD_ROWS = [
    ("2,Bad owner,Globex,high,,,1,zed,,,,,,", "unknown owner 'zed'"),
    ("3,Bad tier,Globex,high,,,9,,,,,,,", "unknown tier 9"),
    ("4,Bad category,Globex,high,gossip,,1,,,,,,,", "unknown category 'gossip'"),
    ("5,Bad priority,Globex,p9,,,1,,,,,,,", "unknown priority 'p9'"),
    ("6,Bad date,Globex,low,,,1,,2026-02-30T10:00:00Z,,,,,", "'2026-02-30T10:00:00Z' is not a valid time"),
    ("7,Backwards,Globex,low,,,1,,2026-10-05T10:00:00Z,,2026-10-01T10:00:00Z,,,",
     "opened_at 2026-10-05T10:00:00Z is after resolved_at 2026-10-01T10:00:00Z"),
    ("1,Duplicate,Globex,low,,,1,,,,,,,", "duplicate id 1 (also line 2)"),
    ("9,,Globex,low,,,1,,,,,,,", "title is empty"),
    ("10,Bad channel,Globex,low,,pigeon,1,,,,,,,", "unknown channel 'pigeon'"),
    ("11,Future,Globex,low,,,1,,2026-12-01T10:00:00Z,,,,,", "later than now"),
    ("12,Bad csat,Globex,low,,,1,,2026-10-01T10:00:00Z,2026-10-01T11:00:00Z,2026-10-01T12:00:00Z,,9,",
     "csat must be 1..5"),
    ("x13,Bad id,Globex,low,,,1,,,,,,,", "id must be a whole number"),
]


def test_every_bad_row_is_named_with_its_line_and_nothing_is_imported(team, tmp_path):
    good = "1,Good,Globex,high,billing,email,1,bob,2026-10-01T10:00:00Z,,,,,a;b\n"
    text = HEADER + good + "".join(row + "\n" for row, _ in BAD_ROWS)
    path = write(tmp_path, "cases.csv", text)
    before = snapshot(team.db)
    result = team("import", path)
    assert result.code == 2
    lines = errors(result)
    assert all(line.startswith("error: ") for line in lines)
    for number, (_, reason) in enumerate(BAD_ROWS, start=3):  # header is 1, the good row 2
        matching = [line for line in lines if line.startswith(f"error: line {number}: ")]
        assert matching and reason in matching[0], (number, reason, lines)
    assert lines[-1] == f"error: {len(BAD_ROWS)} bad rows in {path}; nothing imported"
    assert snapshot(team.db) == before
    assert "Traceback" not in result.err and result.out == ""


def test_an_id_already_in_the_store_is_a_bad_row(team, tmp_path):
    team.ok("open", "Existing", "--customer", "Globex", "--priority", "low")
    path = write(tmp_path, "c.csv", "id,title,customer,priority\n1,Clash,Globex,low\n2,Fine,Globex,low\n")
    result = team("import", path)
    assert result.code == 2
    assert "error: line 2: id 1 is already a case in the store" in result.err
    assert len(team.doc("queue")) == 1


def test_a_line_that_is_not_utf8_is_named(team, tmp_path):
    path = write(tmp_path, "latin1.csv", b"title,customer,priority\nfine,Globex,low\ncaf\xe9,Globex,low\n")
    result = team("import", path)
    assert result.code == 2
    assert "error: line 3: not UTF-8 text" in result.err
    assert team.doc("queue") == []


def test_a_json_file_that_is_not_utf8_is_refused(team, tmp_path):
    path = write(tmp_path, "c.json", '[{"title": "caf\xe9", "customer": "G", "priority": "low"}]'.encode("latin-1"))
    result = team("import", path)
    assert result.code == 2 and "not UTF-8" in result.err


def test_a_missing_required_column_is_named_on_line_1(team, tmp_path):
    path = write(tmp_path, "c.csv", "title,customer\nPrinter,Globex\n")
    result = team("import", path)
    assert result.code == 2
    assert "error: line 1: missing required column 'priority'" in result.err


def test_an_unknown_column_is_refused_rather_than_dropped(team, tmp_path):
    path = write(tmp_path, "c.csv", "title,customer,priority,priorty\nPrinter,Globex,low,high\n")
    result = team("import", path)
    assert result.code == 2 and "unknown column 'priorty'" in result.err


def test_a_row_with_the_wrong_number_of_fields(team, tmp_path):
    path = write(tmp_path, "c.csv", "title,customer,priority\nPrinter,Globex\n")
    result = team("import", path)
    assert result.code == 2 and "error: line 2: has 2 fields, the header has 3" in result.err


def test_json_records_are_named_by_position(team, tmp_path):
    records = [
        {"title": "ok", "customer": "Globex", "priority": "low"},
        {"title": "no customer", "priority": "low"},
        "not an object",
        {"title": "bad owner", "customer": "Globex", "priority": "low", "owner": "nobody"},
    ]
    path = write(tmp_path, "c.json", json.dumps(records))
    result = team("import", path)
    assert result.code == 2
    lines = errors(result)
    assert lines[0] == "error: record 2: customer is missing"
    assert lines[1].startswith("error: record 3: must be an object")
    assert lines[2].startswith("error: record 4: unknown owner 'nobody'")
    assert team.doc("queue") == []


def test_broken_json_is_one_error(team, tmp_path):
    path = write(tmp_path, "c.json", '[{"title": "a", "customer": "b", "priority": "low"},')
    result = team("import", path)
    assert result.code == 2 and result.err.count("error:") == 1


def test_unknown_extension_and_missing_file(team, tmp_path):
    result = team("import", write(tmp_path, "c.txt", "title\n"))
    assert result.code == 2 and "name it .csv or .json" in result.err
    result = team("import", str(tmp_path / "nope.csv"))
    assert result.code == 3 and result.err.startswith("error: no such file")


# -- good rows and their histories ------------------------------------------------------

def test_a_csv_history_becomes_events_in_time_order(team, tmp_path):
    text = HEADER + (
        '1,"Printer, on fire",Globex,high,billing,phone,2,carol,2026-10-01T10:00:00Z,'
        "2026-10-01T10:30:00Z,2026-10-02T09:00:00Z,2026-10-03T09:00:00Z,4,urgent;vip\n"
    )
    result = team("import", write(tmp_path, "c.csv", text))
    assert result.code == 0, result.err
    case = team.doc("show", "1")
    assert case["title"] == "Printer, on fire" and case["tags"] == ["urgent", "vip"]
    assert (case["state"], case["tier"], case["owner"], case["csat"]) == ("closed", 2, "carol", 4)
    assert case["acknowledged_at"] == "2026-10-01T10:30:00Z"
    assert case["resolved_at"] == "2026-10-02T09:00:00Z"
    assert case["closed_at"] == "2026-10-03T09:00:00Z"
    assert case["escalations"] == 1
    # respond 1h from 10:00 on 24x7; resolve 48h
    assert case["respond_by"] == "2026-10-01T11:00:00Z"
    assert case["resolve_by"] == "2026-10-03T10:00:00Z"
    kinds = [(e["kind"], e["at"]) for e in case["events"]]
    assert kinds == [
        ("opened", "2026-10-01T10:00:00Z"), ("escalated", "2026-10-01T10:00:00Z"),
        ("assigned", "2026-10-01T10:00:00Z"), ("acknowledged", "2026-10-01T10:30:00Z"),
        ("resolved", "2026-10-02T09:00:00Z"), ("feedback", "2026-10-02T09:00:00Z"),
        ("closed", "2026-10-03T09:00:00Z"),
    ]
    assert {e["actor"] for e in case["events"]} == {"alice"}
    # kept by a trigger elsewhere; import sets it in bulk
    assert team.rows("SELECT event_count FROM cases WHERE id = 1") == [(7,)]


def test_defaults_opened_now_next_ids_and_escalations_zero(team, tmp_path):
    team.ok("open", "Existing", "--customer", "Globex", "--priority", "low")
    text = "title,customer,priority,tier,escalations\nA,Globex,p2,2,0\nB,Initech,low,,\n"
    summary = team.doc("import", write(tmp_path, "c.csv", text))
    assert summary["cases"] == 2 and summary["events"] == 2
    a, b = team.doc("show", "2"), team.doc("show", "3")
    assert (a["priority"], a["tier"], a["escalations"], a["category"], a["channel"]) == ("high", 2, 0, "other", "other")
    assert a["opened_at"] == "2026-11-02T10:00:00Z" and a["state"] == "new"
    assert b["customer"] == "Initech"


def test_pending_history_pauses_the_clock(team, tmp_path):
    text = ("title,customer,priority,opened_at,acknowledged_at,state,paused_since\n"
            "Wait,Globex,high,2026-11-01T10:00:00Z,2026-11-01T10:10:00Z,pending,2026-11-01T12:00:00Z\n")
    team.ok("import", write(tmp_path, "c.csv", text))
    case = team.doc("show", "1")
    assert case["state"] == "pending" and case["paused_since"] == "2026-11-01T12:00:00Z"
    assert [e["kind"] for e in case["events"]] == ["opened", "acknowledged", "pending"]


@pytest.mark.parametrize("row, reason", [
    ("X,G,low,open,,", "state open needs acknowledged_at"),
    ("X,G,low,resolved,,", "state resolved needs resolved_at"),
    ("X,G,low,new,2026-11-01T10:00:00Z,", "state new cannot have acknowledged_at"),
    ("X,G,low,pending,2026-11-01T10:00:00Z,2026-11-01T12:00:00Z", "state pending cannot have resolved_at"),
    ("X,G,low,limbo,,", "unknown state 'limbo'"),
])
def test_a_state_its_timestamps_cannot_explain(team, tmp_path, row, reason):
    text = "title,customer,priority,state,acknowledged_at,resolved_at\n" + row + "\n"
    result = team("import", write(tmp_path, "c.csv", text))
    assert result.code == 2 and reason in result.err


def test_multiline_quoted_fields_and_a_bom(team, tmp_path):
    text = '\ufefftitle,customer,priority,description\nA,Globex,low,"line one\nline two"\nB,Globex,low,\n'
    team.ok("import", write(tmp_path, "c.csv", text))
    assert team.doc("show", "1")["description"] == "line one\nline two"
    bad = '\ufefftitle,customer,priority,description\nA,Globex,low,"one\ntwo"\nB,,low,\n'
    result = team("import", write(tmp_path, "d.csv", bad))
    assert "error: line 4: customer is empty" in result.err  # the quoted newline is line 3


def test_json_case_with_events_is_restored_as_given(team, tmp_path):
    events = [
        {"at": "2026-10-01T10:00:00Z", "actor": "dave", "kind": "opened", "field": "state", "from": None, "to": "new", "reason": None},
        {"at": "2026-10-01T10:05:00Z", "actor": "dave", "kind": "customer_update", "field": "state", "from": "new", "to": "open", "reason": "on it"},
        {"at": "2026-10-01T11:00:00Z", "actor": "dave", "kind": "assigned", "field": "owner", "from": None, "to": "bob", "reason": None},
        {"at": "2026-10-01T12:00:00Z", "actor": "dave", "kind": "resolved", "field": "state", "from": "open", "to": "resolved", "reason": "fixed"},
    ]
    case = {"id": 40, "title": "Restored", "customer": "Globex", "priority": "high", "events": events}
    team.ok("import", write(tmp_path, "c.json", json.dumps([case])))
    shown = team.doc("show", "40")
    assert [(e["kind"], e["actor"], e["reason"]) for e in shown["events"]] == [
        (e["kind"], e["actor"], e["reason"]) for e in events]
    assert (shown["state"], shown["owner"], shown["acknowledged_at"]) == ("resolved", "bob", "2026-10-01T10:05:00Z")


@pytest.mark.parametrize("events, reason", [
    ([{"at": "2026-10-01T10:00:00Z", "actor": "d", "kind": "acknowledged", "field": "state", "from": "new", "to": "open"}],
     "starts with 'opened'"),
    ([{"at": "2026-10-01T10:00:00Z", "actor": "d", "kind": "opened", "field": "state", "from": None, "to": "new"},
      {"at": "2026-10-01T09:00:00Z", "actor": "d", "kind": "note", "reason": "x"}], "time order"),
    ([{"at": "2026-10-01T10:00:00Z", "actor": "d", "kind": "opened", "field": "state", "from": None, "to": "new"},
      {"at": "2026-10-01T11:00:00Z", "actor": "d", "kind": "closed", "field": "state", "from": "new", "to": "closed"}],
     "moves new -> closed"),
    ([{"at": "2026-10-01T10:00:00Z", "actor": "d", "kind": "exploded"}], "not an event kind"),
])
def test_events_that_are_not_a_possible_history(team, tmp_path, events, reason):
    case = {"title": "T", "customer": "G", "priority": "low", "events": events}
    result = team("import", write(tmp_path, "c.json", json.dumps([case])))
    assert result.code == 2 and "error: record 1: " in result.err and reason in result.err


def test_trigger_rules_run_for_cases_without_events_only(tmp_path, esc):
    policy = tmp_path / "p.toml"
    policy.write_text(esc.ok("policy", "export").out + """
[[rules]]
name = "key-accounts"
when = { customer = ["Globex"] }
then = { priority = "high", tier = 2 }
""", encoding="utf-8")
    esc.ok("policy", "load", str(policy))
    opened = {"at": "2026-11-01T10:00:00Z", "actor": "d", "kind": "opened", "field": "state", "from": None, "to": "new"}
    cases = [
        {"title": "from fields", "customer": "Globex", "priority": "low"},
        {"title": "with events", "customer": "Globex", "priority": "low", "events": [opened]},
    ]
    summary = esc.doc("import", write(tmp_path, "c.json", json.dumps(cases)))
    assert summary["rules_fired"] == 1 and summary["notifications"] == 1
    ruled, kept = esc.doc("show", "1"), esc.doc("show", "2")
    assert (ruled["priority"], ruled["tier"]) == ("high", 2)
    assert {e["actor"] for e in ruled["events"] if e["kind"] == "escalated"} == {"rule:key-accounts"}
    assert (kept["priority"], kept["tier"]) == ("low", 1)
    # the escalation's notification was created in the same transaction
    assert esc.rows("SELECT case_id, kind, recipient FROM notifications") == [
        (1, "escalation", "tier:2")]


def test_dry_run_checks_everything_and_writes_nothing(team, tmp_path):
    path = write(tmp_path, "c.csv", "title,customer,priority\nA,Globex,low\nB,Globex,high\n")
    before = snapshot(team.db)
    result = team.ok("import", "--dry-run", path)
    assert result.out == "checked 2 cases: no problems (dry run: nothing imported)\n"
    assert team.doc("import", "--dry-run", path)["cases"] == 2
    assert snapshot(team.db) == before
    bad = team("import", "--dry-run", write(tmp_path, "d.csv", "title,customer,priority\nA,Globex,p7\n"))
    assert bad.code == 2 and "error: line 2: unknown priority" in bad.err


def test_pipe_output_is_one_summary_line(team, tmp_path):
    result = team.ok("import", write(tmp_path, "c.csv", "title,customer,priority\nA,Globex,low\n"))
    assert result.out == "imported 1 case (1 event)\n" and result.err == ""


# -- owners ---------------------------------------------------------------------------------

def test_owners_csv_adds_and_updates(team, tmp_path):
    text = ("handle,name,email,tier,teams,capacity,active\n"
            "dana,Dana Scully,dana@example.com,2,billing;network,5,true\n"
            "bob,Robert,bob@new.example.com,1,,,yes\n"
            "eve,Eve,,1,,,false\n")
    result = team.ok("import", write(tmp_path, "owners.csv", text))
    assert result.out == "imported 3 owners\n"
    owners = {o["handle"]: o for o in team.doc("owner", "list")}
    assert owners["dana"]["teams"] == ["billing", "network"] and owners["dana"]["capacity"] == 5
    assert owners["dana"]["tier"] == 2
    assert owners["bob"]["email"] == "bob@new.example.com" and owners["bob"]["name"] == "Robert"
    assert owners["eve"]["active"] is False


def test_bad_owner_rows(team, tmp_path):
    text = ("handle,tier,capacity,active\n"
            "ok,1,,\n"
            "bad tier,9,,\n"
            "x,7,,\n"
            "ok,1,,\n"
            "y,1,-2,\n"
            "z,1,,maybe\n")
    before = snapshot(team.db)
    result = team("import", write(tmp_path, "owners.csv", text))
    assert result.code == 2
    lines = errors(result)
    assert lines[0].startswith("error: line 3: handle 'bad tier' is not valid")
    assert lines[1].startswith("error: line 4: unknown tier 7")
    assert lines[2] == "error: line 5: duplicate handle 'ok' (also line 2)"
    assert lines[3].startswith("error: line 6: capacity must be 0 or more")
    assert lines[4].startswith("error: line 7: active must be true or false")
    assert snapshot(team.db) == before


def test_owners_json_list_then_cases_that_name_them(esc, tmp_path):
    owners = [{"handle": "gina", "name": "Gina", "tier": 1, "teams": ["billing"]}]
    esc.ok("import", write(tmp_path, "owners.json", json.dumps(owners)))
    esc.ok("import", write(tmp_path, "c.csv", "title,customer,priority,owner\nA,Globex,low,gina\n"))
    assert esc.doc("show", "1")["owner"] == "gina"


def test_one_case_object_as_show_prints_it(team, new_store, tmp_path):
    team.ok("open", "Printer", "--customer", "Globex", "--priority", "low", "--owner", "bob")
    team.ok("ack", "1")
    shown = team.ok("show", "1", "--json").out
    fresh = new_store()
    fresh.ok("owner", "add", "bob")
    assert fresh.doc("import", write(tmp_path, "case.json", shown))["cases"] == 1
    again = fresh.doc("show", "1")
    assert again["events"] == json.loads(shown)["events"] and again["owner"] == "bob"


# -- export documents -----------------------------------------------------------------------

def test_a_document_in_any_key_order(esc, tmp_path):
    """Cases before the owners they name: checked after the owners are known."""
    document = {
        "cases": [{"title": "A", "customer": "Globex", "priority": "low", "owner": "hank"}],
        "owners": [{"handle": "hank", "tier": 1}],
    }
    summary = esc.doc("import", write(tmp_path, "doc.json", json.dumps(document)))
    assert (summary["cases"], summary["owners"], summary["policy_versions"]) == (1, 1, 0)
    assert esc.doc("show", "1")["owner"] == "hank"


@pytest.mark.parametrize("document, expected", [
    ({"policy": [], "owners": [], "cases": [], "extra": 1}, 'error: document: unknown key "extra"'),
    ({"policy": [{"version": 1, "toml": "timezone = 'Mars/Base'"}], "owners": [], "cases": []},
     "error: policy record 1: policy: timezone"),
    ({"policy": [], "owners": [{"handle": "a", "tier": 99}], "cases": []},
     "error: owners record 1: unknown tier 99"),
    ({"policy": [], "owners": [], "cases": [{"title": "x", "customer": "y", "priority": "zz"}]},
     "error: cases record 1: unknown priority 'zz'"),
])
def test_bad_parts_of_a_document(esc, tmp_path, document, expected):
    before = snapshot(esc.db)
    result = esc("import", write(tmp_path, "doc.json", json.dumps(document)))
    assert result.code == 2 and expected in result.err, result.err
    assert snapshot(esc.db) == before


def test_the_json_reader_survives_records_split_across_reads(esc, tmp_path, monkeypatch):
    """Tiny reads split keys, numbers and multi-byte characters between chunks."""
    from esc_cli.services import sources

    monkeypatch.setattr(sources, "CHUNK", 5)
    cases = [{"id": 12345, "title": "Ünïcödé ✓ " * 3, "customer": "Glöbex", "priority": "low",
              "tags": ["a", "b"], "csat": None}, {"title": "two", "customer": "x", "priority": "p1"}]
    document = {"format": "esc-export", "owners": [{"handle": "zoë"}], "policy": [], "cases": cases}
    path = write(tmp_path, "doc.json", json.dumps(document, ensure_ascii=False, indent=3))
    assert esc.doc("import", path)["cases"] == 2
    assert esc.doc("show", "12345")["title"] == "Ünïcödé ✓ " * 3
    assert esc.doc("show", "12346")["priority"] == "urgent"


def test_long_text_in_csv(team, tmp_path):
    fine = "x" * 200_000  # beyond csv's default field limit, within esc's 1 MiB
    huge = "y" * (1024 * 1024 + 1)
    team.ok("import", write(tmp_path, "a.csv", f"title,customer,priority,description\nA,G,low,{fine}\n"))
    assert len(team.doc("show", "1")["description"]) == 200_000
    result = team("import", write(tmp_path, "b.csv", f"title,customer,priority,description\nB,G,low,{huge}\n"))
    assert result.code == 2 and "error: line 2: description is longer than 1 MiB" in result.err
    long_title = "t" * 501
    result = team("import", write(tmp_path, "c.csv", f"title,customer,priority\n{long_title},G,low\n"))
    assert result.code == 2 and "title is 501 characters" in result.err


def test_progress_bar_only_when_stderr_is_a_terminal(esc, tmp_path, monkeypatch):
    import io
    import os
    import sys

    from esc_cli.app import main
    from esc_cli.commands import data
    from esc_cli.env import Env
    from esc_cli.services.sources import Progress

    env = Env(esc.db, "alice", 0, "UTC", False, False, True)
    assert type(data._progress(env)) is Progress  # a pipe: the silent one
    bar = data._progress(Env(esc.db, "alice", 0, "UTC", False, True, True))
    assert type(bar) is not Progress
    bar.start("importing", 1000)
    bar.bar.console.file = io.StringIO()  # keep the test's own stderr clean
    bar.advance(600)
    assert bar.bar.tasks[0].completed == 600
    bar.stop()

    # a real import into the store with stderr a terminal: the bar is drawn on stderr
    # and counts the whole file; stdout gets the summary alone
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    counted: list[list] = []
    made = data._progress

    def counting(env):
        shown = made(env)
        start, advance = shown.start, shown.advance

        def started(description, total):
            counted.append([description, total, 0])
            start(description, total)

        def advanced(amount):
            counted[-1][2] += amount
            advance(amount)

        shown.start, shown.advance = started, advanced
        return shown

    monkeypatch.setattr(data, "_progress", counting)
    rows = "".join(f"Case {n},Globex,low\n" for n in range(300))
    path = write(tmp_path, "many.csv", "title,customer,priority\n" + rows)
    out, err = io.StringIO(), Terminal()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    try:
        main(["--db", str(esc.db), "--now", esc.now, "--as", "alice", "--tz", "UTC",
              "import", str(path)])
    except SystemExit as exit_:
        assert exit_.code in (0, None), err.getvalue()
    monkeypatch.undo()
    assert out.getvalue().startswith("imported 300 cases (")
    # the bar goes by the file's bytes: all of them read, in one pass
    size = os.path.getsize(path)
    assert counted == [["importing", size, size]]
    assert "importing" in err.getvalue()  # the bar's line, drawn on the terminal


def test_an_unresolved_case_is_never_imported_to_an_inactive_owner(esc, tmp_path):
    # `assign` refuses an inactive owner and deactivating one unassigns their unresolved
    # cases; an import handed them a new case all the same
    esc.ok("owner", "add", "olaf", "--tier", "1")
    esc.ok("owner", "deactivate", "olaf")
    rows = tmp_path / "cases.csv"
    rows.write_text("title,customer,priority,owner\nA,Acme,high,olaf\n")
    result = esc("import", str(rows))
    assert result.code == 2 and "line 2: owner 'olaf' is inactive" in result.err
    # workers' path too: a big file with the one bad row at its end
    big = tmp_path / "big.csv"
    big.write_text("title,customer,priority,owner\n" + "Bigger title,Acme,low,\n" * 30_000
                   + "C,Acme,high,olaf\n")
    assert big.stat().st_size > 512 << 10
    result = esc("import", str(big))
    assert result.code == 2 and "line 30002: owner 'olaf' is inactive" in result.err
    assert esc.doc("queue") == []
    # a resolved case keeps who owned it then
    done = tmp_path / "done.csv"
    done.write_text("title,customer,priority,owner,state,opened_at,acknowledged_at,resolved_at\n"
                    "D,Acme,high,olaf,resolved,2026-10-01T00:00:00Z,2026-10-01T01:00:00Z,"
                    "2026-10-01T02:00:00Z\n")
    esc.ok("import", str(done))
    assert esc.doc("show", "1")["owner"] == "olaf"


@pytest.mark.parametrize("failure", [
    OSError(5, "Input/output error", "/mnt/usb/cases.csv"),
    OSError(24, "Too many open files"),
])
def test_a_file_the_system_refuses_is_one_line_and_exit_5(esc, tmp_path, monkeypatch, failure):
    """An OSError no command foresaw (a failing disk, a full /tmp under `import -`'s spool,
    no file handles left) is the machine's problem, not a bug: one line naming the file,
    exit 5, never "internal error" and exit 1 (issue 20), and nothing written."""
    from esc_cli.services import importing

    def refuse(path):
        raise failure

    monkeypatch.setattr(importing, "open_source", refuse)
    before = snapshot(esc.db)
    result = esc("import", write(tmp_path, "cases.csv", "title,customer,priority\nA,G,low\n"))
    where = f": {failure.filename}" if failure.filename else ""
    assert (result.code, result.err) == (5, f"error: the system refused{where}: {failure.strerror}\n")
    assert snapshot(esc.db) == before
