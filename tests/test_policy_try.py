"""`esc policy try FILE`: the window's cases replayed under the current policy and FILE.

Default policy: urgent respond 15m / update 1h / resolve 4h, high 1h / 24h / 48h, both
24x7; warn_at 0.8; tiers stale after 4h; no rules. The candidate FILE resolves urgent
cases within 2h and sends billing cases to the billing team.

History (2026-11-02, UTC; report window that day, now 2026-11-03 00:00):
 A urgent  opened 00:00, ack 00:10, resolved 03:00
 B high    opened 05:00 (category billing), ack 05:30, resolved 06:00
"""

from __future__ import annotations

import hashlib
import tomllib

import pytest

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

NOW = "2026-11-03T00:00:00Z"
WINDOW = ("--since", "2026-11-02", "--until", "2026-11-02")


def _policy(tmp_path, name="try.toml", change=None):
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    if change:
        change(doc)
    path = tmp_path / name
    path.write_text(dump_policy(doc))
    return str(path)


def _tighter(doc):
    doc["priorities"]["urgent"]["resolve"] = "2h"
    doc["rules"] = [{"name": "billing-team", "when": {"category": "billing"},
                     "then": {"team": "billing"}}]


@pytest.fixture
def history(esc):
    a = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                    now="2026-11-02T00:00:00Z")["id"])
    esc.ok("ack", a, now="2026-11-02T00:10:00Z")
    esc.ok("resolve", a, "--resolution", "fixed", now="2026-11-02T03:00:00Z")
    b = str(esc.doc("open", "Charged twice", "--customer", "Initech", "--priority", "high",
                    "--category", "billing", now="2026-11-02T05:00:00Z")["id"])
    esc.ok("ack", b, now="2026-11-02T05:30:00Z")
    esc.ok("resolve", b, "--resolution", "refunded", now="2026-11-02T06:00:00Z")
    esc.now = NOW
    return esc, int(a), int(b)


def test_the_candidate_side_by_side(history, tmp_path):
    esc, a, b = history
    doc = esc.doc("policy", "try", _policy(tmp_path, change=_tighter), *WINDOW)
    assert (doc["since"], doc["until"], doc["by"], doc["cases"]) == (
        "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "priority", 2)
    old, new, diff = doc["all"]["current"], doc["all"]["candidate"], doc["all"]["difference"]
    # response: A 00:10 <= 00:15, B 05:30 <= 06:00, under both
    assert (old["response_sla_met"], new["response_sla_met"]) == (1.0, 1.0)
    # resolution: A met by 04:00 now; under FILE due 02:00, breached then (resolved 03:00)
    assert (old["resolution_sla_met"], new["resolution_sla_met"]) == (1.0, 0.5)
    assert diff["resolution_sla_met"] == -0.5
    # the sweep, both sides: A's update clock (1h from the 00:10 ack) warned at 00:58
    # (80%) and breached at 01:10. Under FILE also A's resolution clock: warned at 01:36
    # (80% of 2h), breached at 02:00, and that breach escalates A to tier 2.
    assert old["breaches"] == {"response": 0, "update": 1, "resolution": 0}
    assert new["breaches"] == {"response": 0, "update": 1, "resolution": 1}
    assert old["warnings"] == {"response": 0, "update": 1, "resolution": 0, "owner": 0}
    assert new["warnings"] == {"response": 0, "update": 1, "resolution": 1, "owner": 0}
    assert (old["escalations"], new["escalations"]) == (
        {"breach": 0, "stale": 0}, {"breach": 1, "stale": 0})
    assert (old["rule_firings"], new["rule_firings"]) == ({}, {"billing-team": 1})
    assert diff["rule_firings"] == {"billing-team": 1}
    groups = {g["value"]: g for g in doc["groups"]}
    assert list(groups) == ["urgent", "high"]
    assert groups["urgent"]["candidate"]["resolution_sla_met"] == 0.0
    assert doc["changed"] == [{
        "case": a, "title": "Checkout down", "clock": "resolution", "current": "met",
        "candidate": "breached", "current_due": "2026-11-02T04:00:00Z",
        "candidate_due": "2026-11-02T02:00:00Z", "decided_at": "2026-11-02T02:00:00Z"}]
    # by team: the rule moved B to billing under FILE only
    by_team = esc.doc("policy", "try", _policy(tmp_path, change=_tighter), *WINDOW, "--by", "team")
    teams = {g["value"]: (g["current"]["cases"], g["candidate"]["cases"]) for g in by_team["groups"]}
    assert teams == {"billing": (0, 1), "(none)": (2, 1)}
    by_tier = esc.doc("policy", "try", _policy(tmp_path, change=_tighter), *WINDOW, "--by", "tier")
    tiers = {g["value"]: (g["current"]["cases"], g["candidate"]["cases"]) for g in by_tier["groups"]}
    assert tiers == {1: (2, 1), 2: (0, 1)}  # A escalated by the replayed sweep


def test_an_unowned_escalation_warns_of_its_owner(history, tmp_path):
    # tier 2 to be owned within 30m: A, escalated by FILE's replayed sweep at 02:00 and
    # left without an owner, is warned of at 02:30 (this was internal error: KeyError)
    esc, a, b = history

    def owned_soon(doc):
        _tighter(doc)
        doc["tiers"]["2"]["own_within"] = "30m"

    doc = esc.doc("policy", "try", _policy(tmp_path, change=owned_soon), *WINDOW)
    old, new = doc["all"]["current"], doc["all"]["candidate"]
    assert (old["warnings"]["owner"], new["warnings"]["owner"]) == (0, 1)
    assert doc["all"]["difference"]["warnings"]["owner"] == 1
    text = esc.ok("policy", "try", _policy(tmp_path, change=owned_soon), *WINDOW).out
    assert "warnings: owner" in text


def test_the_current_policy_changes_nothing_and_agrees_with_the_report(history, tmp_path):
    esc, a, b = history
    same = tmp_path / "same.toml"
    same.write_text(esc.ok("policy", "export").out)
    doc = esc.doc("policy", "try", str(same), *WINDOW)
    assert doc["changed"] == []
    diff = doc["all"]["difference"]
    assert diff["response_sla_met"] == 0 and diff["resolution_sla_met"] == 0
    assert all(v == 0 for key in ("breaches", "warnings", "escalations") for v in diff[key].values())
    report = esc.doc("report", *WINDOW)
    assert doc["all"]["current"]["response_sla_met"] == report["response_sla_met"]
    assert doc["all"]["current"]["resolution_sla_met"] == report["resolution_sla_met"]


def test_a_replay_shared_by_both_policies_is_the_replay_itself(history, tmp_path):
    # same policy: every case is replayed once and shared; a tier renamed: nothing is
    # shared (the ladder differs), everything replayed twice, with the same figures
    esc, _, _ = history
    same = tmp_path / "same.toml"
    same.write_text(esc.ok("policy", "export").out)
    renamed = _policy(tmp_path, "renamed.toml",
                      lambda doc: doc["tiers"]["3"].update(name="Team lead"))
    shared = esc.doc("policy", "try", str(same), *WINDOW, "--by", "tier")
    twice = esc.doc("policy", "try", renamed, *WINDOW, "--by", "tier")
    for doc in (shared, twice):
        doc.pop("file")
    assert twice == shared


def _files(tmp_path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(tmp_path.iterdir()) if p.name.startswith("esc.db")}


def test_nothing_is_written(history, tmp_path):
    esc, _, _ = history
    candidate = _policy(tmp_path, change=_tighter)
    esc.ok("queue")  # settle any checkpoint a first read would do
    before = _files(esc.db.parent)
    esc.ok("policy", "try", candidate, *WINDOW)
    esc.ok("policy", "try", candidate, "--json")
    esc.ok("policy", "try", candidate, "--format", "markdown", "--by", "category")
    assert _files(esc.db.parent) == before


def test_markdown_and_pipe(history, tmp_path):
    esc, a, _ = history
    text = esc.ok("policy", "try", _policy(tmp_path, change=_tighter), *WINDOW,
                  "--format", "markdown").out
    assert "| urgent | 1 | 100.0% | 100.0% | ±0.0 pts | 100.0% | 0.0% | -100.0 pts |" in text
    assert "| escalations on breach | 0 | 1 | +1 |" in text
    assert "| rule billing-team | 0 | 1 | +1 |" in text
    assert (f"| #{a} | resolution | met | breached | 2026-11-02T04:00:00Z | "
            "2026-11-02T02:00:00Z | Checkout down |") in text
    piped = esc.ok("policy", "try", _policy(tmp_path, change=_tighter), *WINDOW).out
    assert piped.splitlines()[0] == "\t".join(
        ["group", "cases", "response now", "response try", "Δ", "resolution now",
         "resolution try", "Δ"])


def test_an_invalid_file_gets_the_errors_of_policy_load(history, tmp_path):
    esc, _, _ = history
    bad = tmp_path / "bad.toml"
    bad.write_text(DEFAULT_POLICY_TOML.replace('respond = "1h"', 'respond = "soon"'))
    loaded, tried = esc("policy", "load", str(bad)), esc("policy", "try", str(bad))
    assert (tried.code, tried.err) == (loaded.code, loaded.err) == (2, tried.err)
    assert tried.err.startswith("error: policy: priorities.high.respond")
    missing = tmp_path / "missing.toml"
    loaded, tried = esc("policy", "load", str(missing)), esc("policy", "try", str(missing))
    assert (tried.code, tried.err) == (loaded.code, loaded.err)
    assert tried.code == 3
    wrong = esc("policy", "try", str(bad), "--by", "owner")
    assert wrong.code == 2 and "unknown --by 'owner'" in wrong.err


def test_the_same_on_postgresql(pg_fresh, tmp_path):
    """The sample data replayed on both backends gives the same document."""
    from pathlib import Path

    from tests.conftest import EscRunner

    sample = Path(__file__).resolve().parents[1] / "sample_data"
    tighter = tmp_path / "tighter.toml"
    tighter.write_text((sample / "policy.toml").read_text().replace('resolve = "4h"', 'resolve = "2h"'))
    documents = []
    for runner in (EscRunner(tmp_path / "esc.db", now="2026-11-02T15:00:00Z"),
                   EscRunner(pg_fresh(), now="2026-11-02T15:00:00Z")):
        runner.ok("init", "--policy", str(sample / "policy.toml"))
        runner.ok("import", str(sample / "owners.csv"))
        runner.ok("import", str(sample / "cases.json"))
        documents.append(runner.ok("policy", "try", str(tighter), "--since", "60d", "--json").out)
    assert documents[0] == documents[1]
    assert '"candidate": "breached"' in documents[0]


def test_a_replay_starts_from_the_case_as_opened(esc, tmp_path):
    # Under a policy whose rule raised Globex's cases to urgent, a low case opened for
    # Globex became urgent by the rule, and the sweep escalated it (respond 15 m, never
    # answered: breached 00:15, escalated to tier 2 at the 00:20 sweep), then a person
    # took it back to tier 1. FILE has no rule: the case is replayed as it was opened,
    # low at tier 1 (not urgent, not tier 2, the values the rule and the sweep left).
    def key_account(doc):
        doc["rules"] = [{"name": "key-account", "when": {"customer": "Globex"},
                         "then": {"priority": "urgent"}}]

    esc.ok("policy", "load", _policy(tmp_path, "rules.toml", key_account),
           now="2026-11-01T00:00:00Z")
    case = str(esc.doc("open", "VPN down", "--customer", "Globex", "--priority", "low",
                       now="2026-11-02T00:00:00Z")["id"])
    assert esc.doc("show", case, now="2026-11-02T00:01:00Z")["priority"] == "urgent"
    esc.ok("sweep", now="2026-11-02T00:20:00Z")
    assert esc.doc("show", case, now="2026-11-02T00:21:00Z")["tier"] == 2
    esc.ok("deescalate", case, "--reason", "ours after all", now="2026-11-02T00:30:00Z")
    plain = _policy(tmp_path, "plain.toml")
    doc = esc.doc("policy", "try", plain, *WINDOW, now=NOW)
    groups = {g["value"]: (g["current"]["cases"], g["candidate"]["cases"]) for g in doc["groups"]}
    assert groups == {"urgent": (1, 0), "low": (0, 1)}
    assert doc["all"]["current"]["rule_firings"] == {"key-account": 1}
    # the replayed sweep, current policy (urgent, 24x7): response breached 00:15 ->
    # tier 2; the person's de-escalation at 00:30 -> tier 1; resolution breached 04:00
    # -> tier 2; stale at tier 2 from 04:00 + 4h = 08:00 -> tier 3; 12:00 -> tier 4
    # (the top, never stale). FILE (low, Mon-Fri 09-17): respond 8 working hours from
    # Mon 00:00 = 17:00, breached then -> tier 2; stale only Tue 13:00, after the window.
    assert doc["all"]["current"]["escalations"] == {"breach": 2, "stale": 2}
    assert doc["all"]["candidate"]["escalations"] == {"breach": 1, "stale": 0}
    by_tier = esc.doc("policy", "try", plain, *WINDOW, "--by", "tier", now=NOW)
    tiers = {g["value"]: (g["current"]["cases"], g["candidate"]["cases"]) for g in by_tier["groups"]}
    assert tiers == {2: (0, 1), 4: (1, 0)}
