"""`esc import` defects from the black-box audit (issue imp9): what esc itself prints
imports again, and an import file's values are held to the commands' rules."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_import import errors, snapshot, write


def _worked(esc) -> None:
    esc.ok("owner", "add", "bob", "--tier", "1")
    esc.ok("open", "Printer on fire", "--customer", "Globex", "--priority", "high",
           "--owner", "bob", now="2026-10-30T09:00:00Z")
    esc.ok("open", "Refund", "--customer", "Initech", "--priority", "urgent",
           now="2026-10-31T09:00:00Z")
    esc.ok("ack", "1", now="2026-10-30T09:30:00Z")


# -- 1: queue / overdue / show --json import -----------------------------------------


def test_queue_overdue_and_show_json_import(esc, new_store, tmp_path):
    _worked(esc)
    for args in (("queue",), ("overdue",), ("show", "1")):
        text = esc.ok(*args, "--json").out
        path = write(tmp_path, f"{args[0]}.json", text)
        target = new_store()
        target.ok("owner", "add", "bob", "--tier", "1")
        result = target("import", path)
        assert result.code == 0, (args, result.err)
        documents = json.loads(text)
        documents = documents if isinstance(documents, list) else [documents]
        got = target.doc("queue", "--limit", "0")
        assert sorted(d["id"] for d in got) == sorted(d["id"] for d in documents)


# -- 2: a JSON file's values are exact ------------------------------------------------

CASE = {"title": "Printer", "customer": "Globex", "priority": "high"}
LOOSE = [
    ({"id": "7"}, 'id must be a whole number in JSON, got "7"'),
    ({"id": 8.0}, "id must be a whole number in JSON, got 8.0"),
    ({"tier": "2"}, 'tier must be a whole number in JSON, got "2"'),
    ({"csat": True}, "csat must be a whole number in JSON, got true"),
    ({"title": 12345}, "title must be text in JSON, got 12345"),
    ({"priority": 1}, "priority must be text in JSON, got 1"),
    ({"tags": "a;b"}, 'tags must be a list of text in JSON, got "a;b"'),
]


def test_json_values_of_the_wrong_type_are_refused(esc, tmp_path):
    rows = [dict(CASE, **extra) for extra, _ in LOOSE]
    path = write(tmp_path, "loose.json", json.dumps(rows))
    before = snapshot(esc.db)
    result = esc("import", path)
    assert result.code == 2
    lines = errors(result)
    for position, (_, reason) in enumerate(LOOSE, start=1):
        assert f"error: record {position}: {reason}" in lines
    assert lines[-1] == f"error: {len(LOOSE)} bad rows in {path}; nothing imported"
    assert snapshot(esc.db) == before
    owners = write(tmp_path, "owners.json", '[{"handle": "al", "tier": "1", "active": "no"}]')
    result = esc("import", owners)
    assert result.code == 2
    assert ('error: record 1: tier must be a whole number in JSON, got "1"; '
            'active must be true or false in JSON, got "no"') in errors(result)


def test_csv_text_still_reads_as_numbers(esc, tmp_path):
    path = write(tmp_path, "c.csv", "id,title,customer,priority,tier\n7,Printer,Globex,high,2\n")
    esc.ok("import", path)
    assert esc.doc("show", "7")["tier"] == 2


def test_nan_and_infinity_are_not_json(esc, tmp_path):
    text = ("[" + json.dumps(CASE) + ",\n"
            + '{"title": "x", "customer": "c", "priority": "low", "description": NaN},\n'
            + '{"title": "x", "customer": "c", "priority": "low", "csat": -Infinity}]')
    path = write(tmp_path, "nan.json", text)
    before = snapshot(esc.db)
    result = esc("import", path)
    assert result.code == 2
    assert errors(result) == [
        "error: record 2: holds NaN, which is not JSON (a number must be finite)",
        "error: record 3: holds -Infinity, which is not JSON (a number must be finite)",
        f"error: 2 bad rows in {path}; nothing imported",
    ]
    assert snapshot(esc.db) == before


def test_what_is_not_an_export_is_refused(esc, tmp_path):
    cases = [
        ("{}", "document: not an esc export: it has none of policy, owners, cases"),
        ('{"format": "other", "cases": []}', 'document: format "other" is not "esc-export"'),
        ('{"format": "esc-export", "version": 99, "cases": []}',
         "document: version 99 is newer than this esc reads (1): upgrade esc"),
        ('{"version": "1", "cases": []}', 'document: version must be a whole number, got "1"'),
    ]
    before = snapshot(esc.db)
    for text, reason in cases:
        result = esc("import", write(tmp_path, "doc.json", text))
        assert result.code == 2, text
        assert any(line.startswith(f"error: {reason}") for line in errors(result)), result.err
        assert "Traceback" not in result.err
    assert snapshot(esc.db) == before


# -- 3: restored events hold values the commands could have written ------------------


def _resolved_case(esc) -> dict:
    esc.ok("open", "Printer", "--customer", "Globex", "--priority", "high",
           now="2026-10-30T09:00:00Z")
    esc.ok("resolve", "1", "--resolution", "fixed", now="2026-10-30T10:00:00Z")
    esc.ok("feedback", "1", "--csat", "4", now="2026-10-30T11:00:00Z")
    case = esc.doc("show", "1")
    for key in ("clocks",):
        case.pop(key)
    return case


def _event(at, kind, field, old, new):
    return {"at": at, "actor": "t", "kind": kind, "field": field, "from": old, "to": new,
            "reason": None}


def test_restored_event_values_are_checked(esc, new_store, tmp_path):
    case = _resolved_case(esc)
    feedback = case["events"][-1]
    assert feedback["kind"] == "feedback"
    bad = []
    for value in ("9", "abc", "-7"):
        bad.append(dict(feedback, to=value))
    opened = case["events"][0]
    early = [opened, _event("2026-10-30T09:10:00Z", "feedback", "csat", None, "3")]
    priority = [opened, _event("2026-10-30T09:10:00Z", "changed", "priority", "high", "p9")]
    tier = [opened, _event("2026-10-30T09:10:00Z", "escalated", "tier", "1", "9")]
    rows = [dict(case, id=1 + i, csat=None, events=case["events"][:-1] + [event])
            for i, event in enumerate(bad)]
    rows += [dict(case, id=10 + i, csat=None, state=None, resolved_at=None,
                  acknowledged_at=None, events=events)
             for i, events in enumerate((early, priority, tier))]
    path = write(tmp_path, "events.json", json.dumps(rows))
    target = new_store()
    before = snapshot(target.db)
    result = target("import", path)
    assert result.code == 2
    lines = errors(result)
    last = len(case["events"])
    for position, value in enumerate(("9", "abc", "-7"), start=1):
        assert any(line.startswith(f"error: record {position}: events[{last}]: feedback sets "
                                   f"csat to 1..5") and repr(value) in line for line in lines)
    assert ("error: record 4: events[2]: feedback is only given when resolved or closed, "
            "but the case is new there") in lines
    assert any(line.startswith("error: record 5: events[2]: priority 'high' -> 'p9'")
               for line in lines)
    assert "error: record 6: events[2]: tier '9' is not on the ladder (1..4)" in lines
    assert snapshot(target.db) == before
    # what the commands wrote still restores
    target.ok("import", write(tmp_path, "good.json", json.dumps([case])))
    assert target.doc("report", "--since", "2026-10-01")["csat_avg"] == 4.0


# -- 4: a CSV export of a reopened case with a CSAT imports again ---------------------

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


def test_reopened_case_with_csat_round_trips_through_csv(esc, new_store, tmp_path):
    _resolved_case(esc)
    esc.ok("reopen", "1", "--reason", "still broken", now="2026-10-30T12:00:00Z")
    out = tmp_path / "r.csv"
    esc.ok("export", "--format", "csv", "--output", str(out))
    target = new_store()
    result = target("import", str(out))
    assert result.code == 0, result.err
    assert target.doc("show", "1")["csat"] is None  # the JSON export keeps it (below)
    document = tmp_path / "r.json"
    esc.ok("export", "--output", str(document))
    restored = new_store()
    restored.ok("import", str(document))
    assert restored.doc("show", "1")["csat"] == 4


def test_sample_data_round_trips_csv_twice(new_store, tmp_path):
    def fresh():
        store = new_store(now="2026-11-02T15:00:00Z")
        store.ok("policy", "load", str(SAMPLE / "policy.toml"))
        store.ok("import", str(SAMPLE / "owners.csv"))
        return store

    first = fresh()
    first.ok("import", str(SAMPLE / "cases.json"))
    source = first
    for round_ in (1, 2):
        out = tmp_path / f"round{round_}.csv"
        source.ok("export", "--format", "csv", "--output", str(out))
        source = fresh()
        result = source("import", str(out))
        assert result.code == 0, result.err
    assert source.doc("report", "--since", "2026-08-01")["opened"] == first.doc(
        "report", "--since", "2026-08-01")["opened"]


# -- 5: importing an owner as inactive does what `esc owner deactivate` does ----------


def test_importing_an_inactive_owner_unassigns_their_open_cases(esc, new_store, tmp_path):
    _worked(esc)
    esc.ok("open", "Done", "--customer", "Globex", "--priority", "low", "--owner", "bob",
           now="2026-10-31T10:00:00Z")
    esc.ok("resolve", "3", "--resolution", "ok", now="2026-10-31T11:00:00Z")
    esc.ok("import", write(tmp_path, "o.csv", "handle,active\nbob,false\n"))
    case = esc.doc("show", "1")
    assert case["owner"] is None
    assert case["events"][-1] == {"at": "2026-11-02T10:00:00Z", "actor": "alice",
                                  "kind": "assigned", "field": "owner", "from": "bob",
                                  "to": None, "reason": "bob deactivated"}
    assert esc.doc("show", "3")["owner"] == "bob"  # a resolved case keeps who owned it
    assert esc.ok("doctor").code == 0
    out = tmp_path / "x.json"
    esc.ok("export", "--output", str(out))
    restored = new_store()
    result = restored("import", str(out))
    assert result.code == 0, result.err
    assert restored.doc("show", "1")["events"] == case["events"]


# -- 6: input without line ends is refused in bounded time and memory ----------------


def test_a_file_without_line_ends_is_refused(esc, tmp_path):
    zero = tmp_path / "z.csv"
    zero.symlink_to("/dev/zero")
    result = esc("import", "--dry-run", str(zero))
    assert result.code == 2
    assert errors(result) == [f"error: {zero}: line 1: longer than 16 MiB (is it a CSV file?)"]
    long = tmp_path / "long.csv"
    long.write_bytes(b"title,customer,priority\n" + b"a" * (17 * 1024 * 1024))
    result = esc("import", str(long))
    assert errors(result) == [f"error: {long}: line 2: longer than 16 MiB (is it a CSV file?)"]


def test_a_json_value_that_never_ends_is_refused(esc, tmp_path):
    path = tmp_path / "j.json"
    path.write_bytes(b'[{"title": "' + b"a" * (65 * 1024 * 1024))
    result = esc("import", str(path))
    assert result.code == 2
    assert errors(result) == [f"error: {path}: record 1 is larger than 64 MiB (or never ends)"]


def test_no_case_is_opened_past_the_largest_id_an_import_takes(esc, tmp_path):
    # an import may use id 2^62, the largest it accepts; `open` then gave 2^62 + 1, and
    # the store's own export no longer imported
    source = tmp_path / "big.csv"
    source.write_text("id,title,customer,priority\n4611686018427387904,big,B,high\n")
    esc.ok("import", str(source))
    refused = esc("open", "next", "-c", "C", "-p", "low")
    assert refused.code == 4 and "no case id is left" in refused.err, refused
    assert [c["id"] for c in esc.doc("queue")] == [4611686018427387904]


def test_an_import_numbers_no_case_past_the_largest_id(esc, tmp_path):
    source = tmp_path / "big.csv"
    source.write_text("id,title,customer,priority\n4611686018427387904,big,B,high\n,next,B,high\n")
    refused = esc("import", str(source))
    assert refused.code == 2 and "numbered past" in refused.err, refused
    assert esc.doc("queue") == []
