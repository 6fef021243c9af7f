"""Trigger rules (SPEC §3): routing, key accounts, dissatisfaction; once per case,
recorded by `rule:NAME`, and a match that would change nothing writes nothing."""

from __future__ import annotations

import tomllib

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

MATRIX = [
    {"name": "billing-to-billing-team", "when": {"category": "billing"},
     "then": {"team": "billing"}},
    {"name": "key-accounts", "when": {"customer": ["Globex", "Initech"]},
     "then": {"priority": "high", "tier": 2}},
    {"name": "unhappy-customer", "when": {"csat_at_most": 2}, "then": {"reopen": True, "tier": 3}},
    {"name": "dissatisfied", "when": {"tag": "dissatisfied"}, "then": {"tier": 3}},
]


def load_rules(esc, tmp_path, rules) -> None:
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    policy["rules"] = rules
    path = tmp_path / "rules.toml"
    path.write_text(dump_policy(policy))
    esc.ok("policy", "load", str(path))


def by_rule(doc, name) -> list[tuple]:
    return [(e["kind"], e["field"], e["from"], e["to"], e["reason"])
            for e in doc["events"] if e["actor"] == f"rule:{name}"]


def open_case(esc, customer="Umbrella", priority="low", *extra) -> str:
    return str(esc.doc("open", "Help", "--customer", customer, "--priority", priority,
                       *extra)["id"])


def test_category_routing_is_a_team_change_not_an_escalation(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    case = open_case(esc, "Umbrella", "low", "--category", "Billing")
    doc = esc.doc("show", case)
    assert doc["team"] == "billing" and doc["tier"] == 1 and doc["escalations"] == 0
    assert by_rule(doc, "billing-to-billing-team") == [
        ("changed", "team", None, "billing", "billing-to-billing-team")]
    assert esc.doc("notify", "list") == []  # routing notifies nobody


def test_key_account_raises_priority_recomputes_due_times_and_escalates(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    esc.ok("owner", "add", "bob", "--tier", "1")
    case = open_case(esc, "globex", "low", "--owner", "bob")  # customers match in any case
    doc = esc.doc("show", case)
    assert (doc["priority"], doc["tier"], doc["escalations"], doc["owner"]) == ("high", 2, 1, None)
    # high on 24x7: respond 1h, resolve 48h from 10:00 (low would be 8h/80h business time)
    assert (doc["respond_by"], doc["resolve_by"]) == ("2026-11-02T11:00:00Z",
                                                      "2026-11-04T10:00:00Z")
    assert by_rule(doc, "key-accounts") == [
        ("changed", "priority", "low", "high", "key-accounts"),
        ("escalated", "tier", "1", "2", "key-accounts"),
        ("assigned", "owner", "bob", None, "key-accounts"),  # bob works at tier 1
    ]
    [note] = esc.doc("notify", "list")
    assert (note["kind"], note["recipient"]) == ("escalation", "tier:2")
    assert esc.doc("explain", case)["clocks"][0]["target"] == "1h"


def test_priority_is_only_ever_raised(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    doc = esc.doc("show", open_case(esc, "Initech", "urgent"))
    assert doc["priority"] == "urgent" and doc["tier"] == 2
    assert [e[1] for e in by_rule(doc, "key-accounts")] == ["tier"]


def test_a_rule_fires_once(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    case = open_case(esc, "Globex", "low")
    esc.ok("deescalate", case, "--reason", "not that bad", now="2026-11-02T10:05:00Z")
    esc.ok("set", case, "--priority", "low", now="2026-11-02T10:06:00Z")
    doc = esc.doc("show", case, now="2026-11-02T10:06:00Z")
    assert (doc["priority"], doc["tier"]) == ("low", 1)
    assert len(by_rule(doc, "key-accounts")) == 2


def test_a_match_that_would_change_nothing_writes_nothing(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    case = open_case(esc, "Globex", "urgent", "--tier", "3")
    doc = esc.doc("show", case)
    assert by_rule(doc, "key-accounts") == [] and [e["kind"] for e in doc["events"]] == ["opened"]
    # it has not fired, so when it would change something it does
    esc.ok("deescalate", case, "--reason", "x", "--to", "1", now="2026-11-02T10:05:00Z")
    esc.ok("set", case, "--title", "Help!", now="2026-11-02T10:06:00Z")
    doc = esc.doc("show", case, now="2026-11-02T10:06:00Z")
    assert by_rule(doc, "key-accounts") == [("escalated", "tier", "1", "2", "key-accounts")]


def test_low_csat_reopens_and_escalates_to_tier_3(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    happy, unhappy = open_case(esc), open_case(esc)
    for case in (happy, unhappy):
        esc.ok("resolve", case, "--resolution", "done", now="2026-11-02T11:00:00Z")
    esc.ok("feedback", happy, "--csat", "4", now="2026-11-02T12:00:00Z")
    esc.ok("feedback", unhappy, "--csat", "2", now="2026-11-02T12:00:00Z")
    assert esc.doc("show", happy, now="2026-11-02T12:00:00Z")["state"] == "resolved"
    doc = esc.doc("show", unhappy, now="2026-11-02T12:00:00Z")
    assert (doc["state"], doc["reopened"], doc["tier"], doc["csat"]) == ("open", 1, 3, 2)
    assert by_rule(doc, "unhappy-customer") == [
        ("reopened", "state", "resolved", "open", "unhappy-customer"),
        ("escalated", "tier", "1", "3", "unhappy-customer"),
    ]


def test_low_csat_on_a_closed_case_changes_nothing(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    case = open_case(esc)
    esc.ok("resolve", case, "--resolution", "done")
    esc.ok("close", case)
    esc.ok("feedback", case, "--csat", "1")
    doc = esc.doc("show", case)
    assert doc["state"] == "closed" and by_rule(doc, "unhappy-customer") == []


def test_dissatisfied_tag_escalates(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    case = open_case(esc)
    esc.ok("set", case, "--tag", "Dissatisfied", now="2026-11-02T10:30:00Z")
    doc = esc.doc("show", case, now="2026-11-02T10:30:00Z")
    assert doc["tier"] == 3
    assert by_rule(doc, "dissatisfied") == [("escalated", "tier", "1", "3", "dissatisfied")]
    assert doc["events"][-1]["at"] == "2026-11-02T10:30:00Z"


def test_rules_run_in_file_order_each_seeing_the_ones_before(esc, tmp_path):
    raise_it = {"name": "billing-is-urgent", "when": {"category": "billing"},
                "then": {"priority": "urgent"}}
    climb = {"name": "urgent-to-tier-2", "when": {"priority": "urgent"}, "then": {"tier": 2}}
    load_rules(esc, tmp_path, [raise_it, climb])
    doc = esc.doc("show", open_case(esc, "Umbrella", "low", "--category", "billing"))
    assert (doc["priority"], doc["tier"]) == ("urgent", 2)
    # the other way round, one pass: the climb looked before the priority was raised
    load_rules(esc, tmp_path, [climb, raise_it])
    doc = esc.doc("show", open_case(esc, "Umbrella", "low", "--category", "billing"))
    assert (doc["priority"], doc["tier"]) == ("urgent", 1)


def test_reopen_runs_the_rules(esc, tmp_path):
    load_rules(esc, tmp_path, [{"name": "repeat", "when": {"reopened_at_least": 1},
                                "then": {"tier": 2}}])
    case = open_case(esc)
    esc.ok("resolve", case, "--resolution", "done", now="2026-11-02T11:00:00Z")
    esc.ok("reopen", case, "--reason", "still broken", now="2026-11-02T12:00:00Z")
    doc = esc.doc("show", case, now="2026-11-02T12:00:00Z")
    assert doc["tier"] == 2 and by_rule(doc, "repeat")[0][0] == "escalated"


def test_owner_rule_only_assigns_an_active_owner_with_room(esc, tmp_path):
    load_rules(esc, tmp_path, [{"name": "vip-to-carol", "when": {"customer": "Globex"},
                                "then": {"owner": "carol"}}])
    esc.ok("owner", "add", "carol", "--capacity", "1")
    first = esc.doc("show", open_case(esc, "Globex"))
    second = esc.doc("show", open_case(esc, "Globex"))
    assert (first["owner"], second["owner"]) == ("carol", None)
    assert by_rule(second, "vip-to-carol") == []


def test_tier_list_shows_the_rules_that_lead_to_each_tier(esc, tmp_path):
    load_rules(esc, tmp_path, MATRIX)
    esc.ok("owner", "add", "dana", "--tier", "3", "--team", "billing")
    tiers = {t["level"]: t for t in esc.doc("tier", "list")}
    assert tiers[2]["rules"] == ["key-accounts"]
    assert tiers[3]["rules"] == ["unhappy-customer", "dissatisfied"]
    assert tiers[1]["rules"] == [] and tiers[4]["rules"] == []
    assert (tiers[3]["owners"], tiers[3]["teams"], tiers[3]["stale_after"]) == (
        ["dana"], ["billing"], "4h")
    assert tiers[4]["stale_after"] is None
    plain = esc.ok("tier", "list").out.splitlines()
    assert plain[0].split("\t") == ["level", "name", "stale_after", "owners", "teams", "rules"]
    assert plain[3].split("\t")[-1] == "unhappy-customer, dissatisfied"
