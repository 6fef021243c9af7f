"""Routing through the commands: whoever escalates (a person, the sweep, a rule), the
escalation gets its owner in the same write, with actor `routing` and its reason."""

from __future__ import annotations

import json
import sqlite3

import pytest

from esc_cli.domain.policy import DEFAULT_POLICY_TOML

TIER2 = '[tiers.2]\nname = "Specialist"\nstale_after = "4h"\n'
TIER3 = '[tiers.3]\nname = "Manager"\nstale_after = "4h"\n'


def policy(tier2="", tier3="", extra="", tier1="") -> str:
    text = DEFAULT_POLICY_TOML.replace(TIER2, TIER2 + tier2).replace(TIER3, TIER3 + tier3)
    text = text.replace('[tiers.1]\nname = "Frontline"\nstale_after = "4h"\n',
                        '[tiers.1]\nname = "Frontline"\nstale_after = "4h"\n' + tier1)
    return text + extra


@pytest.fixture
def team(esc, tmp_path):
    def load(text: str):
        path = tmp_path / "policy.toml"
        path.write_text(text)
        esc.ok("policy", "load", str(path))
    esc.load = load
    esc.ok("owner", "add", "bob", "--tier", "2", "--capacity", "8", "--email", "bob@example.com")
    esc.ok("owner", "add", "carol", "--tier", "2", "--capacity", "4")
    esc.ok("owner", "add", "dana", "--tier", "3")
    esc.ok("owner", "add", "erin", "--tier", "3")
    return esc


def routed(esc, case_id) -> list[dict]:
    return [e for e in esc.doc("show", str(case_id))["events"] if e["actor"] == "routing"]


def open_case(esc, *extra, now=None) -> int:
    kwargs = {"now": now} if now else {}
    return esc.doc("open", "Printer on fire", "--customer", "Acme", "--priority", "urgent",
                   *extra, **kwargs)["id"]


def test_manual_tiers_leave_an_escalation_unassigned_as_before(team):
    case = open_case(team)
    doc = team.doc("escalate", str(case), "--reason", "help")
    assert doc["owner"] is None and routed(team, case) == []


def test_a_person_escalating_gets_the_least_loaded_owner(team):
    team.load(policy(tier2='assign = "least-loaded"\n'))
    # bob gets two cases by hand: 2 of 8 = 0.25 < carol's 1 of 4 = 0.25? equal: fewer cases wins
    for _ in range(2):
        team.ok("assign", str(open_case(team)), "bob")
    team.ok("assign", str(open_case(team)), "carol")
    case = open_case(team)
    doc = team.doc("escalate", str(case), "--reason", "needs a specialist")
    assert doc["owner"] == "carol"
    [event] = routed(team, case)
    assert event["kind"] == "assigned" and event["to"] == "carol"
    assert event["reason"] == "least-loaded in tier 2: carol (1 of 4)"
    # the notification names the owner routing chose
    [note] = [n for n in team.doc("notify", "list") if n["case"] == case]
    assert note["recipient"] == "owner:carol"


def test_an_escalation_that_keeps_its_owner_is_not_routed(team):
    team.load(policy(tier2='assign = "least-loaded"\n'))
    case = open_case(team)
    team.ok("assign", str(case), "dana")  # tier 3 owner: at least the new tier
    assert team.doc("escalate", str(case), "--reason", "x")["owner"] == "dana"
    assert routed(team, case) == []
    other = open_case(team)
    assert team.doc("escalate", str(other), "--reason", "x", "--owner", "bob")["owner"] == "bob"
    assert routed(team, other) == []


def test_the_sweep_routes_round_robin_across_runs(team):
    team.load(policy(tier2='assign = "round-robin"\n'))
    cases = [open_case(team) for _ in range(3)]
    # urgent: respond 15m; the first sweep past 10:15 escalates all three
    result = team.doc("sweep", now="2026-11-02T10:20:00Z")
    assert len(result["escalated"]) == 3
    assert [routed(team, c)[0]["to"] for c in cases] == ["bob", "carol", "bob"]
    assert routed(team, cases[1])[0]["reason"] == "round-robin in tier 2: carol (after bob)"
    # a later sweep carries on where the last one stopped
    later = open_case(team, now="2026-11-02T11:00:00Z")
    team.ok("sweep", now="2026-11-02T11:20:00Z")
    assert routed(team, later)[0]["to"] == "carol"
    assert [n["recipient"] for n in result["notified"]] == ["owner:bob", "owner:carol", "owner:bob"]


def test_sweep_dry_run_shows_where_each_escalation_would_land_and_writes_nothing(team):
    """`sweep --dry-run` asks routing as the sweep would (same domain decisions, picks
    remembered for the run only): the owner or queue of every escalation, in text and
    JSON (`routed`), with round-robin's memory in the store untouched."""
    queued = open_case(team, "--tier", "2")  # tier 3 assigns by hand: waits in its queue
    team.load(policy(tier2='assign = "round-robin"\n'))
    cases = [open_case(team) for _ in range(3)]
    kept = open_case(team, "--owner", "dana")  # tier 3: keeps the case at tier 2
    at = "2026-11-02T10:20:00Z"
    memory = team.rows("SELECT scope, last_handle, turns FROM routing_state ORDER BY scope")
    dry = team.doc("sweep", "--dry-run", now=at)
    landed = {r["case"]: (r["tier"], r["owner"]) for r in dry["routed"]}
    assert landed == {cases[0]: (2, "bob"), cases[1]: (2, "carol"), cases[2]: (2, "bob"),
                      kept: (2, "dana"), queued: (3, None)}
    reasons = {r["case"]: r["reason"] for r in dry["routed"]}
    assert reasons[cases[1]] == "round-robin in tier 2: carol (after bob)"
    assert reasons[kept] == "kept: dana works at tier 2 or above"
    assert reasons[queued] == "tier 3 assigns by hand"
    # nothing written: no owner, no routing event, round-robin's memory where it was
    assert team.rows("SELECT scope, last_handle, turns FROM routing_state ORDER BY scope") == memory
    assert all(routed(team, c) == [] and team.doc("show", str(c))["owner"] is None
               for c in cases)
    text = team.ok("sweep", "--dry-run", now=at).out.splitlines()
    assert (f"would escalate #{cases[1]} from tier 1 to 2: response SLA breached; to carol "
            "(round-robin in tier 2: carol (after bob))") in text
    assert (f"would escalate #{queued} from tier 2 to 3: response SLA breached; unassigned in "
            "tier 3's queue (tier 3 assigns by hand)") in text
    # the sweep then does what its dry run said, and says so in its result
    real = team.doc("sweep", now=at)
    assert real["routed"] == dry["routed"]
    assert [n["recipient"] for n in real["notified"]] == [n["recipient"] for n in dry["notified"]]
    assert [routed(team, c)[0]["to"] for c in cases] == ["bob", "carol", "bob"]
    # a later dry run carries on from round-robin's memory as the sweep left it
    later = open_case(team, now="2026-11-02T11:00:00Z")
    [where] = team.doc("sweep", "--dry-run", now="2026-11-02T11:20:00Z")["routed"]
    assert (where["case"], where["owner"]) == (later, "carol")


def test_open_routes_when_tier_one_asks(team):
    team.ok("owner", "add", "amy", "--tier", "1")
    team.ok("owner", "add", "abe", "--tier", "1")
    team.load(policy(tier1='assign = "round-robin"\n'))
    first, second = open_case(team), open_case(team)
    assert [routed(team, c)[0]["to"] for c in (first, second)] == ["abe", "amy"]
    assert open_case(team, "--owner", "bob") and True


def test_a_rule_that_sets_a_team_routes_in_the_team(team):
    team.ok("owner", "add", "bill", "--tier", "1", "--team", "billing", "--capacity", "5")
    team.ok("owner", "add", "bea", "--tier", "1", "--team", "billing", "--capacity", "5")
    team.load(policy(extra='\n[[rules]]\nname = "billing"\nwhen = { category = "billing" }\n'
                           'then = { team = "billing" }\n\n[teams.billing]\nassign = "least-loaded"\n'))
    team.ok("assign", str(open_case(team)), "bea")
    case = open_case(team, "--category", "billing")
    [event] = routed(team, case)
    assert event["reason"] == "least-loaded in team billing: bill (0 of 5)"
    # a functional escalation to the team routes there too
    other = open_case(team)
    team.ok("escalate", str(other), "--team", "billing", "--reason", "refund")
    # bill 1 of 5, bea 1 of 5: the handle decides
    assert routed(team, other)[0]["to"] == "bea"


def test_nobody_available_stays_unassigned_and_the_tier_hears_once(team):
    team.load(policy(tier2='assign = "least-loaded"\n'))
    team.ok("owner", "away", "bob", "--until", "2026-11-09T09:00", "--reason", "leave")
    team.ok("owner", "add", "carol", "--tier", "2", "--capacity", "0")
    for handle in ("dana", "erin"):  # tier 3 would take it when tier 2 cannot
        team.ok("owner", "away", handle, "--until", "1d")
    case = open_case(team)
    doc = team.doc("escalate", str(case), "--reason", "help")
    assert doc["owner"] is None and routed(team, case) == []
    notes = [n for n in team.doc("notify", "list") if n["case"] == case]
    assert sorted(n["kind"] for n in notes) == ["escalation", "unowned"]
    assert {n["recipient"] for n in notes} == {"tier:2"}
    # the sweep's escalation to tier 3 (assigned by hand there) adds no second one
    assert team.doc("sweep", now="2026-11-02T10:20:00Z")["escalated"]
    notes = [n for n in team.doc("notify", "list") if n["case"] == case and n["kind"] == "unowned"]
    assert len(notes) == 1
    [(payload,)] = team.rows("SELECT payload FROM notifications WHERE kind = 'unowned'")
    assert json.loads(payload)["text"] == (
        "[esc] #1 'Printer on fire' (urgent, Acme): unowned escalation at tier 2: least-loaded "
        "in tier 2: nobody free at tier 2 or above (away, at capacity or inactive)")


def test_on_call_takes_the_escalation_and_is_named(team):
    team.load(policy(tier3='[tiers.3.oncall]\npeople = ["dana", "erin"]\nevery = "1w"\n'
                           'handoff = "mon 09:00"\ntimezone = "Europe/Berlin"\nstart = "2026-10-26"\n'))
    # 2026-11-02T10:00Z is Monday 11:00 in Berlin: shift 1 (erin) began at 09:00 CET
    case = open_case(team)
    team.ok("escalate", str(case), "--to", "3", "--reason", "exec complaint")
    assert routed(team, case)[0]["reason"] == "on call in tier 3: erin"
    team.ok("owner", "away", "erin", "--until", "1d")
    other = open_case(team)
    team.ok("escalate", str(other), "--to", "3", "--reason", "again")
    assert routed(team, other)[0]["reason"] == "on call in tier 3: dana (erin is away until 2026-11-03T10:00:00Z)"


def test_away_and_back(team):
    doc = team.doc("owner", "away", "bob", "--until", "2026-11-05T17:00", "--reason", "conference")
    assert (doc["away_until"], doc["away_reason"]) == ("2026-11-05T17:00:00Z", "conference")
    case = open_case(team)
    team.ok("assign", str(case), "bob")  # a lead may still assign by hand
    listed = {o["handle"]: o for o in team.doc("owner", "list")}
    assert listed["bob"]["away_until"] == "2026-11-05T17:00:00Z" and listed["carol"]["away_until"] is None
    # the away has run out by then
    later = {o["handle"]: o for o in team.doc("owner", "list", now="2026-11-06T00:00:00Z")}
    assert later["bob"]["away_until"] is None
    # a pipe keeps its columns and adds who is away until when last; a terminal says
    # it in the active column
    piped = [line.split("\t") for line in team.ok("owner", "list").out.splitlines()]
    assert piped[0][-3:] == ["load", "active", "away_until"]
    assert {row[0]: row[-1] for row in piped[1:]}["bob"] == "2026-11-05T17:00:00Z"
    assert {row[0]: row[-1] for row in piped[1:]}["carol"] == ""
    assert team.doc("owner", "back", "bob")["away_until"] is None
    assert team.doc("show", str(case))["owner"] == "bob"  # their cases stay theirs
    bad = team("owner", "away", "bob", "--until", "2026-11-01T00:00")
    assert bad.code == 2 and bad.err.startswith("error: --until")
    assert team("owner", "away", "nobody", "--until", "1d").code == 3
    assert team("owner", "away", "bob", "--until", "whenever").code == 2


@pytest.mark.sqlite_only("reads the SQLite file's table_info")
def test_migration_adds_columns_to_an_old_sqlite_store(team):
    con = sqlite3.connect(team.db)
    columns = {row[1] for row in con.execute("PRAGMA table_info(owners)")}
    assert {"away_until", "away_reason"} <= columns
    assert con.execute("SELECT count(*) FROM routing_state").fetchone()[0] == 0
    con.close()
    assert json.loads(team.ok("doctor", "--json").out)["ok"]


def test_own_within_warns_once_when_an_escalation_waits_for_an_owner(team):
    team.load(policy(tier2='own_within = "30m"\n'))
    case = team.doc("open", "Slow sync", "--customer", "Acme", "--priority", "low")["id"]
    team.ok("escalate", str(case), "--reason", "specialist", now="2026-11-02T10:05:00Z")
    # low: 8 business hours to respond, nothing else falls due today; arrived at tier 2
    # at 10:05, so an owner was due by 10:35
    upcoming = team.doc("explain", str(case))["next"]
    assert (upcoming["action"], upcoming["clock"], upcoming["at"]) == ("warn", "owner", "2026-11-02T10:35:00Z")
    assert team.doc("sweep", now="2026-11-02T10:34:00Z")["warned"] == []
    first = team.doc("sweep", now="2026-11-02T10:36:00Z")
    assert first["warned"] == [{"case": case, "clock": "owner"}]
    assert [n["recipient"] for n in first["notified"]] == ["tier:2"]
    assert team.doc("sweep", now="2026-11-02T11:00:00Z")["warned"] == []
    [event] = [e for e in team.doc("show", str(case))["events"] if e["kind"] == "warned"]
    assert (event["field"], event["to"], event["reason"]) == (
        "owner", "2026-11-02T10:35:00Z", "no owner at tier 2 since 2026-11-02T10:05:00Z")
    # queue and overdue flag it while it waits
    [row] = team.doc("queue", "--tier", "2", now="2026-11-02T11:00:00Z")
    assert (row["owner_due"], row["unowned_overdue"]) == ("2026-11-02T10:35:00Z", True)
    early = team.doc("queue", "--tier", "2", now="2026-11-02T10:20:00Z")[0]
    assert early["unowned_overdue"] is False
    [late] = team.doc("overdue", "--within", "1d", now="2026-11-02T11:00:00Z")
    assert late["unowned_overdue"] is True
    team.ok("take", str(case), user="bob", now="2026-11-02T11:05:00Z")
    [row] = team.doc("queue", "--tier", "2", now="2026-11-02T11:10:00Z")
    assert (row["owner_due"], row["unowned_overdue"]) == (None, False)


def test_overdue_lists_an_escalation_unowned_past_own_within(team):
    """Issue 21: `overdue` flags an escalation unowned for longer than own_within, even
    when none of its clocks is at risk (it was left out unless --within reached one)."""
    team.load(policy(tier2='own_within = "30m"\n'))
    case = team.doc("open", "Slow sync", "--customer", "Acme", "--priority", "low")["id"]
    team.ok("escalate", str(case), "--reason", "specialist", now="2026-11-02T10:05:00Z")
    assert team.doc("overdue", now="2026-11-02T10:30:00Z") == []
    [row] = team.doc("overdue", now="2026-11-02T11:00:00Z")
    assert (row["id"], row["clock"], row["clock_status"], row["clock_due"], row["overdue_by"],
            row["due_in"], row["unowned_overdue"]) == (
        case, "owner", "unowned", "2026-11-02T10:35:00Z", 1500, None, True)
    assert team.doc("overdue", "--tier", "1", now="2026-11-02T11:00:00Z") == []
    pipe = team.ok("overdue", now="2026-11-02T11:00:00Z").out.splitlines()
    assert pipe[1].split("\t")[-6:-2] == ["owner", "unowned", "2026-11-02T10:35:00Z", "1500"]
    team.ok("take", str(case), user="bob", now="2026-11-02T11:05:00Z")
    assert team.doc("overdue", now="2026-11-02T11:10:00Z") == []


def test_explain_plan_says_who_routing_would_pick_at_each_escalation(team):
    team.load(policy(tier2='assign = "round-robin"\n',
                     tier3='[tiers.3.oncall]\npeople = ["dana", "erin"]\nevery = "1w"\n'
                           'handoff = "mon 09:00"\ntimezone = "Europe/Berlin"\nstart = "2026-10-26"\n'))
    team.ok("escalate", str(open_case(team)), "--reason", "x")  # round-robin's last: bob
    case = open_case(team)
    plan = team.doc("explain", str(case))["plan"]
    escalations = [(s["to_tier"], s["owner"], s["routing"], s["notify"]) for s in plan
                   if s["action"] == "escalate"]
    # urgent: response breach at 10:15 -> tier 2 (after bob: carol); resolution breach at
    # 14:00 -> tier 3 (erin's week); stale at tier 3 -> tier 4, which routes by hand
    assert escalations == [
        (2, "carol", "round-robin in tier 2: carol (after bob)", "owner:carol"),
        (3, "erin", "on call in tier 3: erin", "owner:erin"),
        (4, None, None, "tier:4"),
    ]
    text = team.ok("explain", str(case)).out
    assert "round-robin in tier 2: carol (after bob)" in text
