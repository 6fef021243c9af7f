"""esc report's time to owner is recorded as it happens (store/owner_times.py, migration
0018): one row per escalation, written by every write that can end or start a wait for
an owner, made for an import's cases, backfilled for an older store, and checked by
doctor. The report reads a window of rows by an index range; these tests hold it to the
answer the per-escalation search of the event log gave before (OLD_DELAYS, the report's
SQL until 0018), over random seeded histories on both stores (PG_MODULES)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone

import pytest

from esc_cli.store.owner_times import SEARCHED
from tests.test_routing_service import policy

START = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc).timestamp()

# The report's per-escalation search until migration 0018, verbatim but for the
# grouping: (case, escalated at, delay) for each escalation in [:s, :u), the delay
# None when unowned at :end, -1 when the case left the tier first.
OLD_DELAYS = """SELECT e.case_id, e.at,
    CASE WHEN (SELECT a.to_value FROM events a WHERE a.case_id = e.case_id
               AND a.kind = 'assigned' AND a.at <= e.at ORDER BY a.id DESC LIMIT 1) IS NOT NULL
    THEN 0
    ELSE (SELECT CASE WHEN n.kind = 'assigned' THEN n.at - e.at ELSE -1 END FROM events n
          WHERE n.case_id = e.case_id AND n.id > e.id AND n.at > e.at AND n.at < ?
          AND ((n.kind = 'assigned' AND n.to_value IS NOT NULL)
               OR n.kind IN ('escalated', 'deescalated', 'resolved', 'closed'))
          ORDER BY n.id LIMIT 1) END
FROM events e WHERE e.kind = 'escalated' AND e.at >= ? AND e.at < ?"""
# The same from the recorded rows, as the report's SQL spells it now.
NEW_DELAYS = """SELECT w.case_id, w.escalated_at,
    CASE WHEN w.owned = 1 AND w.settled_at = w.escalated_at THEN 0
         WHEN w.settled_at < ? THEN
            CASE WHEN w.owned = 1 THEN w.settled_at - w.escalated_at ELSE -1 END
    END
FROM owner_times w WHERE w.escalated_at >= ? AND w.escalated_at < ?"""
STORED = "SELECT case_id, escalation, escalated_at, settled_at, owned, priority FROM owner_times"
OWNERS = {"alice": 1, "bob": 2, "carol": 2, "dana": 3, "erin": 4}


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _play(esc, seed: int, steps: int) -> float:
    """A random history over a few cases: escalations (by tier, with an owner, to a
    team), assignments, takes, de-escalations, resolutions, reopens, closes, an owner
    deactivated (unassigning their cases) and sweeps, often several writes in the same
    second. Moves the domain refuses are simply refused. Returns the last instant."""
    rng = random.Random(seed)
    for handle, tier in OWNERS.items():
        esc.ok("owner", "add", handle, "--tier", str(tier), "--capacity", "50",
               "--team", "billing" if tier == 2 else "network")
    now = START
    cases: list[str] = []
    for _ in range(steps):
        now += rng.choice((0, 0, 0, 60, 300, 1800, 7200))
        at = _iso(now)
        if len(cases) < 3 or rng.random() < 0.08:
            extra = ["--owner", rng.choice(list(OWNERS))] if rng.random() < 0.3 else []
            cases.append(str(esc.doc("open", "VPN down", "--customer", "Acme", "--priority",
                                     rng.choice(("urgent", "high", "low")), *extra, now=at)["id"]))
            continue
        case = rng.choice(cases)
        who = rng.choice(list(OWNERS))
        move = rng.choice(("escalate", "escalate", "escalate-owner", "escalate-team", "assign",
                           "assign", "take", "deescalate", "resolve", "reopen", "close", "ack",
                           "deactivate", "sweep", "priority"))
        if move == "escalate":
            esc("escalate", case, "--reason", "stuck", now=at)
        elif move == "escalate-owner":
            esc("escalate", case, "--reason", "stuck", "--owner", who, "--force", now=at)
        elif move == "escalate-team":
            esc("escalate", case, "--reason", "stuck", "--team", rng.choice(("billing", "network")),
                now=at)
        elif move == "assign":
            esc("assign", case, who, "--force", now=at)
        elif move == "take":
            esc("take", case, "--force", now=at, user=who)
        elif move == "deescalate":
            esc("deescalate", case, "--reason", "back down", now=at)
        elif move == "resolve":
            esc("resolve", case, "--resolution", "fixed", now=at)
        elif move == "reopen":
            esc("reopen", case, "--reason", "back again", now=at)
        elif move == "close":
            esc("close", case, now=at)
        elif move == "ack":
            esc("ack", case, now=at)
        elif move == "priority":
            esc("set", case, "--priority", rng.choice(("urgent", "high", "medium", "low")), now=at)
        elif move == "deactivate":
            esc("owner", "deactivate", who, now=at)
            esc("owner", "add", who, "--tier", str(OWNERS[who]), now=at)
        else:
            esc("sweep", now=at)
    return now


def _delays(esc, sql: str, since: float, until: float, end: float) -> list[tuple]:
    return sorted(esc.rows(sql, (int(end), int(since), int(until))))


def _same_as_the_search(esc, last: float) -> None:
    """The stored rows are the event log's (SEARCHED), and every window's delays are
    what the old per-escalation search found, windows ending before, at and after now."""
    stored = sorted(esc.rows(STORED))
    priorities = dict(esc.rows("SELECT id, priority FROM cases"))
    assert stored == sorted((*row, priorities[row[0]]) for row in esc.rows(SEARCHED))
    assert stored, "the history escalated nothing: the seed tests nothing"
    span = last - START
    for since, until, now in ((START, last + 1, last), (START + span / 3, START + span / 2, last),
                              (START, START + span / 2, START + span / 3),
                              (START + span / 4, last + 86400, last), (START - 3600, START, last)):
        end = until if until <= now else now + 1
        old = _delays(esc, OLD_DELAYS, since, until, end)
        assert _delays(esc, NEW_DELAYS, since, until, end) == old, (since, until, now)
    # and the report's figures per priority (read from the rows alone) are the old
    # search's, grouped by each case's priority now
    from esc_cli.domain.report import rank

    end = last + 1
    old = _delays(esc, OLD_DELAYS, START - 86400, last + 3600, end)
    for by in ((), ("--by", "priority")):
        doc = _report(esc, last, *by)
        for priority, figures in doc["by_priority"].items():
            mine = [delay for case, _, delay in old if priorities[case] == priority]
            timed = sorted(delay for delay in mine if delay is not None and delay >= 0)
            expected = {p: timed[rank(p, len(timed)) - 1] if timed else None for p in (50, 90)}
            assert figures["time_to_owner"] == {"p50": expected[50], "p90": expected[90]}
            assert figures["unowned"] == sum(1 for delay in mine if delay is None)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_recorded_waits_are_what_the_event_log_says(esc, seed):
    last = _play(esc, seed, 70)
    _same_as_the_search(esc, last)


def test_routing_in_the_escalations_own_write_counts_as_owned_at_once(esc, tmp_path):
    # tier 2 and 3 give each escalation an owner in the same write (routing), so most
    # waits end at once; deactivations and sweeps still leave some waiting
    path = tmp_path / "policy.toml"
    path.write_text(policy(tier2='assign = "round-robin"\n', tier3='assign = "least-loaded"\n'))
    esc.ok("policy", "load", str(path))
    last = _play(esc, 7, 70)
    _same_as_the_search(esc, last)
    assert any(row[3] == row[2] and row[4] == 1 for row in esc.rows(STORED))


def _report(esc, last: float, *extra: str) -> dict:
    return esc.doc("report", "--since", _iso(START - 86400), "--until", _iso(last + 3600),
                   *extra, now=_iso(last))


def test_an_older_store_upgraded_has_the_rows_and_report_of_a_fresh_import(esc, new_store,
                                                                          tmp_path):
    """Migration 0018 backfills a store written before it (no table): the same rows as
    the writes kept, and the same report as the same history exported and imported
    into a new store (which makes its rows as the cases go in)."""
    from esc_cli.store.migrations import MIGRATIONS

    last = _play(esc, 11, 60)
    kept = sorted(esc.rows(STORED))
    report = _report(esc, last, "--by", "owner")
    before = len([n for n, _ in MIGRATIONS if n < "0018"])
    esc.sql("DROP TABLE owner_times")
    if esc.is_pg:
        esc.sql("DELETE FROM esc_migrations WHERE name >= '0018'",
                ("UPDATE esc_store SET version = ?", (before,)))
    else:
        esc.sql("DELETE FROM _sqlite_migrations WHERE name >= '0018'",
                f"PRAGMA user_version = {before}")
    assert _report(esc, last, "--by", "owner") == report  # opening it upgrades it
    assert sorted(esc.rows(STORED)) == kept
    dump = tmp_path / "export.json"
    esc.ok("export", "-o", str(dump), now=_iso(last))
    fresh = new_store()
    fresh.ok("import", str(dump), now=_iso(last))
    assert sorted(fresh.rows(STORED)) == kept
    assert _report(fresh, last, "--by", "owner") == report
    assert report["time_to_owner"]["p50"] is not None or report["unowned"] > 0


def test_an_import_of_histories_records_their_waits(esc, new_store, tmp_path):
    # a whole export imported into an empty store (SQLite defers its indexes) and into
    # one holding a case already (rows go in batch by batch with the indexes in place)
    last = _play(esc, 5, 60)
    dump = tmp_path / "export.json"
    esc.ok("export", "-o", str(dump), now=_iso(last))
    empty = new_store()
    empty.ok("import", str(dump), now=_iso(last))
    _same_as_the_search(empty, last)
    busy = new_store()
    busy.ok("open", "Earlier", "--customer", "Initech", "--priority", "low", now=_iso(START))
    document = json.loads(dump.read_text())
    for case in document["cases"]:
        case["id"] += 1000  # ids must be new
    dump.write_text(json.dumps(document))
    busy.ok("import", str(dump), now=_iso(last))
    _same_as_the_search(busy, last)
    assert len(busy.rows(STORED)) == len(esc.rows(STORED))


def test_a_backup_keeps_the_recorded_waits(esc, tmp_path):
    # PostgreSQL's backup streams each table into a new SQLite store: this one too
    from tests.conftest import EscRunner

    last = _play(esc, 13, 40)
    path = tmp_path / "copy.db"
    esc.ok("backup", str(path), now=_iso(last))
    copy = EscRunner(path)
    assert sorted(copy.rows(STORED)) == sorted(esc.rows(STORED))
    assert _report(copy, last, "--by", "team") == _report(esc, last, "--by", "team")


# -- esc doctor -------------------------------------------------------------------------

def _doctor(esc, *args: str, now: str) -> tuple[int, dict]:
    result = esc("doctor", *args, "--json", now=now)
    return result.code, {c["name"]: c for c in json.loads(result.out)["checks"]}


def test_doctor_finds_a_wrong_missing_or_stray_row_and_repairs_it(esc):
    last = _play(esc, 3, 60)
    now = _iso(last)
    code, checks = _doctor(esc, now=now)
    assert code == 0 and checks["due_times"]["ok"], checks["due_times"]
    kept = sorted(esc.rows(STORED))
    wrong, gone = kept[0], kept[-1]
    never = esc.doc("open", "Never escalated", "--customer", "Acme", "--priority", "low",
                    now=now)["id"]
    moved = next(row for row in kept if row[0] not in (wrong[0], gone[0]))
    esc.sql(("UPDATE owner_times SET settled_at = ?, owned = 1 WHERE case_id = ? AND escalation = ?",
             (wrong[2] + 7, wrong[0], wrong[1])),
            ("DELETE FROM owner_times WHERE case_id = ? AND escalation = ?", (gone[0], gone[1])),
            ("INSERT INTO owner_times (case_id, escalation, escalated_at, settled_at, owned) "
             "VALUES (?, 1, 100, NULL, 0)", (never,)),
            "INSERT INTO owner_times (case_id, escalation, escalated_at, settled_at, owned) "
            "VALUES (99999, 1, 100, NULL, 0)",
            ("UPDATE owner_times SET priority = ? WHERE case_id = ?",
             ("medium" if moved[5] != "medium" else "low", moved[0])))
    code, checks = _doctor(esc, now=now)
    assert code != 0
    due = checks["due_times"]
    assert not due["ok"] and {wrong[0], gone[0], never, 99999, moved[0]} <= set(due["cases"]), due
    assert "time to owner stored" in due["detail"], due["detail"]
    code, checks = _doctor(esc, "--repair", now=now)
    assert checks["due_times"]["ok"], checks["due_times"]
    assert sorted(esc.rows(STORED)) == kept
    code, checks = _doctor(esc, now=now)
    assert code == 0 and checks["due_times"]["ok"]


def _kept_owners(esc) -> None:
    """An escalation that keeps the owner the case was opened with (bob works at tier 2),
    one that names that owner again with --owner, and one taken 30 minutes later."""
    at = "2026-12-07T09:00:00Z"
    esc.ok("owner", "add", "bob", "--tier", "2", now=at)
    esc.ok("owner", "add", "ann", "--tier", "1", now=at)
    for title, owner, named in (("kept", "bob", None), ("named", "ann", "ann"), ("taken", None, None)):
        case = esc.doc("open", title, "--customer", "C", "--priority", "low",
                       *(["--owner", owner] if owner else []), now=at)["id"]
        esc.ok("escalate", str(case), "--reason", "x", *(["--owner", named] if named else []),
               now="2026-12-07T09:10:00Z")
    esc.ok("assign", "3", "bob", now="2026-12-07T09:40:00Z")


def _owner_figures(esc) -> tuple:
    doc = esc.doc("report", "--since", "2026-12-07", "--until", "2026-12-08",
                  now="2026-12-07T10:00:00Z")
    return doc["time_to_owner"]["p50"], doc["time_to_owner"]["p90"], doc["unowned"]


def test_an_escalation_keeping_the_owner_a_case_was_opened_with_is_owned_at_once(esc):
    """`esc open --owner` wrote no `assigned` event, so the report counted an escalation
    that kept that owner (or named it again) as unowned: p50 30m and 2 unowned here."""
    _kept_owners(esc)
    assert _owner_figures(esc) == (0, 1800, 0)
    assert [tuple(row) for row in esc.rows(
        "SELECT kind, field, from_value, to_value FROM events WHERE case_id = 1 ORDER BY id")] \
        == [("opened", "state", None, "new"), ("assigned", "owner", None, "bob"),
            ("escalated", "tier", "1", "2")]
    assert esc.doc("doctor", now="2026-12-07T10:00:00Z")["ok"]


def test_a_store_from_before_0028_counts_the_owner_its_cases_were_opened_with(esc):
    """A case opened with --owner before schema 28 has no `assigned` event: its owner is
    the one the first `assigned` event replaced, or with none its owner now. Migration
    0028 records every wait again that way; doctor replays it the same way."""
    from esc_cli.store.migrations import MIGRATIONS

    _kept_owners(esc)
    # as esc before 0028 wrote them: no `assigned` event at the opening, owned = 0
    for case in (1, 2):
        esc.sql(("UPDATE owner_times SET settled_at = NULL, owned = 0 WHERE case_id = ?",
                 (case,)))
    _forget_the_opening_assignments(esc)
    assert _owner_figures(esc) == (1800, 1800, 2)
    before = len([n for n, _ in MIGRATIONS if n < "0028"])
    if esc.is_pg:
        esc.sql("DELETE FROM esc_migrations WHERE name >= '0028'",
                ("UPDATE esc_store SET version = ?", (before,)))
    else:
        esc.sql("DELETE FROM _sqlite_migrations WHERE name >= '0028'",
                f"PRAGMA user_version = {before}")
    assert _owner_figures(esc) == (0, 1800, 0)  # opening it upgrades it
    doctor = esc.doc("doctor", now="2026-12-07T10:00:00Z")
    assert {c["name"]: c["ok"] for c in doctor["checks"]}["due_times"]


def _forget_the_opening_assignments(esc) -> None:
    """Remove the `assigned` events written at the openings and re-chain the hashes, as
    a store written before schema 28 holds them (for the tests only)."""
    from esc_cli.domain.model import Event, event_hash

    esc.sql("DELETE FROM events WHERE kind = 'assigned' AND at = "
            f"{int(datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc).timestamp())}")
    rows = esc.rows("SELECT id, case_id, at, actor, kind, field, from_value, to_value, reason "
                    "FROM events ORDER BY case_id, id")
    previous: dict[int, bytes] = {}
    updates = []
    for event_id, case_id, *fields in rows:
        digest = event_hash(previous.get(case_id, b""), case_id, Event(*fields))
        previous[case_id] = digest
        updates.append(("UPDATE events SET hash = ? WHERE id = ?", (digest, event_id)))
    counts = esc.rows("SELECT case_id, count(*) FROM events GROUP BY case_id")
    updates += [("UPDATE cases SET event_count = ? WHERE id = ?", (n, c)) for c, n in counts]
    esc.sql(*updates)
