"""`esc policy try FILE` replays what people did as their commands would have acted on
the case the candidate policy makes, and lists every resolution cycle whose outcome
changes. Both stores.

The replayed figures are held against real stores: one with the history under the
current policy, one built with the same commands under FILE, each swept at every
instant the sweep has work (the replay assumes a sweep that always runs in time).

Default policy: urgent respond 15m / update 1h / resolve 4h on 24x7, warn_at 0.8, tiers
1-3 stale after 4h, tier 4 the top. FILE (`_quick`): urgent respond 5m.
"""

from __future__ import annotations

import tomllib

import pytest

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

DAY = "2026-11-02T"
NOW = "2026-11-12T00:00:00Z"
WINDOW = ("--since", "2026-11-02", "--until", "2026-11-08")


def _policy(tmp_path, name: str, change) -> str:
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    change(doc)
    path = tmp_path / name
    path.write_text(dump_policy(doc))
    return str(path)


def _quick(doc):
    doc["priorities"]["urgent"]["respond"] = "5m"


def _play(store, steps) -> list:
    """Runs (time, argv...) in order; "sweep" steps are the sweep's runs. Returns the
    results of the people's commands."""
    results = []
    for at, *argv in steps:
        if argv == ["sweep"]:
            store.ok("sweep", now=DAY + at)
        else:
            results.append(store(*argv, now=DAY + at))
    return results


def _real(store, case: str) -> dict:
    """What a real store did to the case: the sweep's warnings, breaches and
    escalations, the case's tier and team, and the report's SLA met shares."""
    shown = store.doc("show", case, now=NOW)
    figures = {
        "warnings": {"response": 0, "update": 0, "resolution": 0, "owner": 0},
        "breaches": {"response": 0, "update": 0, "resolution": 0},
        "escalations": {"breach": 0, "stale": 0},
    }
    for event in shown["events"]:
        if event["actor"] != "sweep":
            continue
        if event["kind"] == "warned":
            figures["warnings"][event["field"]] += 1
        elif event["kind"] == "breached":
            figures["breaches"][event["field"]] += 1
        elif event["kind"] == "escalated":
            cause = "stale" if event["reason"].startswith("stale") else "breach"
            figures["escalations"][cause] += 1
    report = store.doc("report", *WINDOW, now=NOW)
    figures["response_sla_met"] = report["response_sla_met"]
    figures["resolution_sla_met"] = report["resolution_sla_met"]
    figures["tier"], figures["team"] = shown["tier"], shown["team"]
    return figures


def _replayed(doc: dict, side: str, by_tier: dict, by_team: dict) -> dict:
    figures = {key: doc["all"][side][key] for key in (
        "warnings", "breaches", "escalations", "response_sla_met", "resolution_sla_met")}
    figures["tier"] = next(g["value"] for g in by_tier["groups"] if g[side]["cases"])
    team = next(g["value"] for g in by_team["groups"] if g[side]["cases"])
    figures["team"] = None if team == "(none)" else team
    return figures


def _tried(esc, candidate: str) -> tuple[dict, dict, dict]:
    return tuple(esc.doc("policy", "try", candidate, *WINDOW, "--by", by, now=NOW)
                 for by in ("priority", "tier", "team"))


def _held_against_real_stores(esc, new_store, candidate, people, current_sweeps,
                              candidate_sweeps) -> tuple[dict, dict]:
    """Plays `people`'s commands with the current policy's sweeps into `esc` and with
    FILE's into a new store under FILE; asserts the replay of `esc` under each policy
    is what each store did. Returns (current, candidate) figures."""
    opened = ("10:00", "open", "Outage", "--customer", "Acme", "--priority", "urgent")
    _play(esc, sorted([opened, *people, *[(at, "sweep") for at in current_sweeps]]))
    real = new_store()
    real.ok("policy", "load", candidate, now="2026-10-01T00:00:00Z")
    _play(real, sorted([opened, *people, *[(at, "sweep") for at in candidate_sweeps]]))
    doc, by_tier, by_team = _tried(esc, candidate)
    current, replayed = (_replayed(doc, side, by_tier, by_team)
                         for side in ("current", "candidate"))
    assert current == _real(esc, "1")
    assert replayed == _real(real, "1")
    return current, replayed


# -- a person's escalation: one tier up from the replayed tier -----------------------------

@pytest.mark.parametrize("resolved", ["20:00", "17:00"])
def test_a_plain_escalation_goes_one_up_from_where_the_candidate_left_the_case(
        esc, new_store, tmp_path, resolved):
    # Now: a person escalates 1 -> 2 at 10:10; response breached 10:15 -> 3; resolution
    # breached 14:00 -> 4, the top. FILE: response breached 10:05 -> 2; the person's
    # escalation 2 -> 3; 14:00 -> 4. Replaying the recorded "-> 2" instead left the case
    # at 2 until 14:00 (-> 3), and stale at 18:00 (-> 4) when it was still open then.
    candidate = _policy(tmp_path, "quick.toml", _quick)
    people = [("10:10", "escalate", "1", "--reason", "needs a specialist"),
              (resolved, "resolve", "1", "--resolution", "fixed")]
    current, replayed = _held_against_real_stores(
        esc, new_store, candidate, people,
        ["10:12", "10:15", "13:12", "14:00", "18:00"],
        ["10:04", "10:05", "13:12", "14:00", "18:00"])
    assert current["escalations"] == replayed["escalations"] == {"breach": 2, "stale": 0}
    assert current["tier"] == replayed["tier"] == 4


def test_a_named_tier_is_kept_and_refused_where_the_case_is_already_there(
        esc, new_store, tmp_path):
    # `escalate --to 2 --team billing` at 10:10 (recorded: tier 1 -> 2 and team -> billing;
    # a tier move with a team change is always a named tier, as a plain --team moves no
    # tier). Under FILE the case is at tier 2 from 10:05: the command is refused (exit 2)
    # and nothing of it happens, the team included. Then 14:00 -> 3, stale at 18:00 -> 4
    # (no activity at tier 3 for 4h: the refused command was none).
    candidate = _policy(tmp_path, "quick.toml", _quick)
    people = [("10:10", "escalate", "1", "--to", "2", "--team", "billing", "--reason", "refund"),
              ("20:00", "resolve", "1", "--resolution", "fixed")]
    current, replayed = _held_against_real_stores(
        esc, new_store, candidate, people,
        ["10:12", "10:15", "13:12", "14:00", "18:00"],
        ["10:04", "10:05", "13:12", "14:00", "18:00"])
    assert (current["team"], replayed["team"]) == ("billing", None)
    assert replayed["escalations"] == {"breach": 2, "stale": 1}


def test_a_named_tier_above_the_replayed_one_is_reached(esc, new_store, tmp_path):
    # `escalate --to 4` at 10:10: now 1 -> 4 (the top: the breaches escalate no more);
    # under FILE 2 -> 4, not one up to 3.
    candidate = _policy(tmp_path, "quick.toml", _quick)
    people = [("10:10", "escalate", "1", "--to", "4", "--reason", "key account"),
              ("20:00", "resolve", "1", "--resolution", "fixed")]
    current, replayed = _held_against_real_stores(
        esc, new_store, candidate, people,
        ["10:12", "10:15", "13:12", "14:00", "18:00"],
        ["10:04", "10:05", "13:12", "14:00", "18:00"])
    assert (current["escalations"], replayed["escalations"]) == (
        {"breach": 0, "stale": 0}, {"breach": 1, "stale": 0})
    assert current["tier"] == replayed["tier"] == 4


# -- a reopened case: each cycle's outcome -------------------------------------------------

def _resolve_in(hours: str):
    def change(doc):
        doc["priorities"]["urgent"]["resolve"] = hours
    return change


def test_a_reopened_case_lists_each_cycle_whose_outcome_changes(esc, tmp_path):
    # Opened 00:00, resolved 05:00, reopened 10:00, resolved 11:00 (urgent, 24x7).
    # Now (4h): cycle 1 breached at 04:00; cycle 2 breached as it began (its target was
    # used up), at the reopen. FILE (5h): cycle 1 met at 05:00, exactly its due time;
    # cycle 2 breached at the reopen all the same. The first cycle is listed, with its
    # own due times (as they stood when it was resolved).
    esc.ok("open", "Reopened", "--customer", "G", "--priority", "urgent",
           now="2026-11-06T00:00:00Z")
    esc.ok("ack", "1", now="2026-11-06T00:10:00Z")
    esc.ok("resolve", "1", "--resolution", "ok", now="2026-11-06T05:00:00Z")
    esc.ok("reopen", "1", "--reason", "x", now="2026-11-06T10:00:00Z")
    esc.ok("resolve", "1", "--resolution", "ok", now="2026-11-06T11:00:00Z")
    doc = esc.doc("policy", "try", _policy(tmp_path, "5h.toml", _resolve_in("5h")),
                  "--since", "2026-11-06", "--until", "2026-11-06", now=NOW)
    assert (doc["all"]["current"]["resolution_sla_met"],
            doc["all"]["candidate"]["resolution_sla_met"]) == (0.0, 0.5)
    assert doc["changed"] == [{
        "case": 1, "title": "Reopened", "clock": "resolution", "current": "breached",
        "candidate": "met", "current_due": "2026-11-06T04:00:00Z",
        "candidate_due": "2026-11-06T05:00:00Z", "decided_at": "2026-11-06T04:00:00Z"}]


def test_each_changed_cycle_is_listed_with_its_own_due_times(esc, tmp_path):
    # Opened 00:00, resolved 03:00, reopened 10:00, resolved 11:30. Now (4h): cycle 1 met
    # at 03:00 (due 04:00); cycle 2 due 04:00 + the 7h resolved = 11:00, breached then.
    # FILE (2h): cycle 1 breached at 02:00 (due 02:00); cycle 2 breached at the reopen
    # (target used up); FILE (6h): cycle 1 met, cycle 2 due 13:00, met at 11:30.
    esc.ok("open", "Twice", "--customer", "G", "--priority", "urgent",
           now="2026-11-06T00:00:00Z")
    esc.ok("ack", "1", now="2026-11-06T00:10:00Z")
    esc.ok("resolve", "1", "--resolution", "ok", now="2026-11-06T03:00:00Z")
    esc.ok("reopen", "1", "--reason", "x", now="2026-11-06T10:00:00Z")
    esc.ok("resolve", "1", "--resolution", "ok", now="2026-11-06T11:30:00Z")
    window = ("--since", "2026-11-06", "--until", "2026-11-06")
    tighter = esc.doc("policy", "try", _policy(tmp_path, "2h.toml", _resolve_in("2h")),
                      *window, now=NOW)
    assert tighter["changed"] == [{
        "case": 1, "title": "Twice", "clock": "resolution", "current": "met",
        "candidate": "breached", "current_due": "2026-11-06T04:00:00Z",
        "candidate_due": "2026-11-06T02:00:00Z", "decided_at": "2026-11-06T02:00:00Z"}]
    looser = esc.doc("policy", "try", _policy(tmp_path, "6h.toml", _resolve_in("6h")),
                     *window, now=NOW)
    assert (looser["all"]["current"]["resolution_sla_met"],
            looser["all"]["candidate"]["resolution_sla_met"]) == (0.5, 1.0)
    assert looser["changed"] == [{
        "case": 1, "title": "Twice", "clock": "resolution", "current": "breached",
        "candidate": "met", "current_due": "2026-11-06T11:00:00Z",
        "candidate_due": "2026-11-06T13:00:00Z", "decided_at": "2026-11-06T11:00:00Z"}]
    # a cycle is listed when both policies decide it in the window: from the reopen on,
    # cycle 1 (decided at 02:00 or 03:00) is not
    later = esc.doc("policy", "try", _policy(tmp_path, "2h.toml", _resolve_in("2h")),
                    "--since", "2026-11-06T09:00:00Z", "--until", "2026-11-07T00:00:00Z",
                    now=NOW)
    assert later["changed"] == []


def test_every_changed_cycle_is_listed_worst_first_with_its_pauses_in_its_due_times(
        esc, tmp_path):
    # Opened 00:00, ack 00:10, pending 01:00-02:00, resolved 05:30, reopened 10:00,
    # resolved 10:30. Now (4h): cycle 1 due 05:00 (the pending hour added), breached then;
    # cycle 2 breached at the reopen (used up), its due 05:00 + the 4h30 resolved = 09:30.
    # FILE (5h): cycle 1 due 06:00, met at 05:30 (4h30 worked); cycle 2 due 10:30, met
    # at 10:30 (the last 30 min). Both listed, the later past its due time first.
    esc.ok("open", "Paused", "--customer", "G", "--priority", "urgent",
           now="2026-11-06T00:00:00Z")
    esc.ok("ack", "1", now="2026-11-06T00:10:00Z")
    esc.ok("pending", "1", "--reason", "logs", now="2026-11-06T01:00:00Z")
    esc.ok("resume", "1", now="2026-11-06T02:00:00Z")
    esc.ok("resolve", "1", "--resolution", "ok", now="2026-11-06T05:30:00Z")
    esc.ok("reopen", "1", "--reason", "x", now="2026-11-06T10:00:00Z")
    esc.ok("resolve", "1", "--resolution", "ok", now="2026-11-06T10:30:00Z")
    doc = esc.doc("policy", "try", _policy(tmp_path, "5h.toml", _resolve_in("5h")),
                  "--since", "2026-11-06", "--until", "2026-11-06", now=NOW)
    assert (doc["all"]["current"]["resolution_sla_met"],
            doc["all"]["candidate"]["resolution_sla_met"]) == (0.0, 1.0)
    entry = {"case": 1, "title": "Paused", "clock": "resolution", "current": "breached",
             "candidate": "met"}
    assert doc["changed"] == [
        {**entry, "current_due": "2026-11-06T09:30:00Z", "candidate_due": "2026-11-06T10:30:00Z",
         "decided_at": "2026-11-06T10:00:00Z"},
        {**entry, "current_due": "2026-11-06T05:00:00Z", "candidate_due": "2026-11-06T06:00:00Z",
         "decided_at": "2026-11-06T05:00:00Z"}]
