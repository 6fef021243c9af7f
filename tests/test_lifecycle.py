"""The state machine of SPEC §1 through the CLI: every legal move, every refusal (exit 4,
one line naming the state, nothing written), escalation, owners, capacity, ids."""

from __future__ import annotations

import pytest

T0 = "2026-11-02T10:00:00Z"


def dump(db) -> tuple:
    """Everything a refused command must leave alone: every row of the store."""
    from tests import stress

    return stress.dump(db)


def open_case(esc, priority="high", *extra, now=T0) -> str:
    return str(esc.doc("open", "Printer on fire", "--customer", "Globex", "--priority", priority,
                       *extra, now=now)["id"])


def in_state(esc, state: str) -> str:
    """A fresh case driven into `state` by legal moves."""
    case = open_case(esc)
    path = {
        "new": [],
        "open": [("ack",)],
        "pending": [("ack",), ("pending", "--reason", "logs")],
        "resolved": [("ack",), ("resolve", "--resolution", "fixed")],
        "closed": [("ack",), ("resolve", "--resolution", "fixed"), ("close",)],
    }[state]
    for step in path:
        esc.ok(step[0], case, *step[1:])
    assert esc.doc("show", case)["state"] == state
    return case


def refused(esc, args, code=4, state=None):
    before = dump(esc.db)
    result = esc(*args)
    assert result.code == code, (args, result)
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), result.err
    assert "Traceback" not in result.err
    assert result.out == ""
    if state is not None:
        assert state in lines[0]
    assert dump(esc.db) == before, f"esc {' '.join(args)} wrote to the store"
    return lines[0]


# -- the legal moves ------------------------------------------------------------

LEGAL = [
    # (from, command args, to)
    ("new", ("ack",), "open"),
    ("new", ("note", "--customer", "we are on it"), "open"),
    ("open", ("pending", "--reason", "waiting for logs"), "pending"),
    ("pending", ("resume",), "open"),
    ("new", ("resolve", "--resolution", "dup"), "resolved"),
    ("open", ("resolve", "--resolution", "fixed"), "resolved"),
    ("pending", ("resolve", "--resolution", "no reply"), "resolved"),
    ("resolved", ("reopen", "--reason", "still broken"), "open"),
    ("resolved", ("close",), "closed"),
]


@pytest.mark.parametrize("start,args,end", LEGAL, ids=[f"{a}-{b[0]}" for a, b, _ in LEGAL])
def test_every_legal_move(esc, start, args, end):
    case = in_state(esc, start)
    before = esc.doc("show", case)["events"]
    doc = esc.doc(args[0], case, *args[1:])
    assert doc["state"] == end
    after = esc.doc("show", case)["events"]
    assert after[:len(before)] == before
    (new,) = after[len(before):]
    assert new["field"] == "state" and (new["from"], new["to"]) == (start, end)
    assert new["actor"] == "alice" and new["at"] == T0


def test_open_writes_an_opened_event(esc):
    doc = esc.doc("open", "t", "--customer", "c", "--priority", "p2")
    assert doc["state"] == "new" and doc["priority"] == "high"
    (event,) = esc.doc("show", str(doc["id"]))["events"]
    assert (event["kind"], event["field"], event["from"], event["to"]) == ("opened", "state", None, "new")


def test_internal_note_keeps_a_new_case_new(esc):
    case = open_case(esc)
    assert esc.doc("note", case, "checked the logs")["state"] == "new"
    assert esc.doc("show", case)["events"][-1]["kind"] == "note"


def test_feedback_in_resolved_and_closed(esc):
    case = in_state(esc, "resolved")
    assert esc.doc("feedback", case, "--csat", "4")["csat"] == 4
    esc.ok("close", case)
    doc = esc.doc("feedback", case, "--csat", "2", "--comment", "slow")
    assert doc["csat"] == 2 and doc["state"] == "closed"
    last = esc.doc("show", case)["events"][-1]
    assert (last["kind"], last["from"], last["to"], last["reason"]) == ("feedback", "4", "2", "slow")


# -- the refusals ---------------------------------------------------------------

MOVES = {
    "ack": ("ack",),
    "pending": ("pending", "--reason", "r"),
    "resume": ("resume",),
    "resolve": ("resolve", "--resolution", "r"),
    "reopen": ("reopen", "--reason", "r"),
    "close": ("close",),
    "feedback": ("feedback", "--csat", "3"),
}
ALLOWED_FROM = {
    "ack": {"new"},
    "pending": {"open"},
    "resume": {"pending"},
    "resolve": {"new", "open", "pending"},
    "reopen": {"resolved"},
    "close": {"resolved"},
    "feedback": {"resolved", "closed"},
}
ILLEGAL = [(state, move) for move, allowed in ALLOWED_FROM.items()
           for state in ("new", "open", "pending", "resolved", "closed") if state not in allowed]


@pytest.mark.parametrize("state,move", ILLEGAL, ids=[f"{s}-{m}" for s, m in ILLEGAL])
def test_every_illegal_move_is_refused_and_writes_nothing(esc, state, move):
    case = in_state(esc, state)
    args = MOVES[move]
    line = refused(esc, (args[0], case, *args[1:]), 4, state=state)
    assert f"#{case}" in line


@pytest.mark.parametrize("args", [
    ("assign", "bob"), ("take",), ("note", "hello"), ("note", "hello", "--customer"),
    ("set", "--priority", "low"), ("escalate", "--reason", "r"),
    ("escalate", "--reason", "r", "--team", "billing"), ("deescalate", "--reason", "r"),
])
def test_work_on_a_closed_case_is_refused(esc, args):
    esc.ok("owner", "add", "bob")
    esc.ok("owner", "add", "alice")
    case = open_case(esc, "high", "--tier", "2")
    for step in (("ack",), ("resolve", "--resolution", "done"), ("close",)):
        esc.ok(step[0], case, *step[1:])
    refused(esc, (args[0], case, *args[1:]), 4, state="closed")


@pytest.mark.parametrize("state", ["new", "open", "pending", "resolved"])
def test_work_allowed_in_every_state_but_closed(esc, state):
    esc.ok("owner", "add", "bob", "--tier", "3")
    esc.ok("owner", "add", "alice")
    case = in_state(esc, state)
    esc.ok("assign", case, "bob")
    esc.ok("take", case)
    esc.ok("note", case, "internal")
    esc.ok("set", case, "--category", "billing")
    esc.ok("escalate", case, "--reason", "needs a specialist")
    esc.ok("deescalate", case, "--reason", "back")
    doc = esc.doc("show", case)
    expected = "open" if state == "new" else state
    assert doc["state"] in (state, expected)
    assert doc["escalations"] == 1 and doc["tier"] == 1 and doc["category"] == "billing"


def test_refusals_check_values_before_state(esc):
    case = in_state(esc, "closed")
    refused(esc, ("resolve", case, "--resolution", ""), 2)
    refused(esc, ("feedback", case, "--csat", "9"), 2)
    refused(esc, ("escalate", case, "--reason", "r", "--to", "9"), 2)
    refused(esc, ("set", case, "--priority", "p9"), 2)


def test_history_must_stay_in_time_order(esc):
    case = open_case(esc, now="2026-11-02T10:00:00Z")
    esc.ok("ack", case, now="2026-11-02T10:05:00Z")
    line = refused(esc, ("note", case, "late"), 4)
    assert "time order" in line  # default now 10:00 is before the ack at 10:05
    refused(esc, ("resolve", case, "--resolution", "x"), 4)
    # the same instant is fine
    esc.ok("note", case, "same minute", now="2026-11-02T10:05:00Z")


# -- escalation ---------------------------------------------------------------------

def test_escalate_one_tier_by_default_and_to_a_tier(esc):
    case = open_case(esc)
    doc = esc.doc("escalate", case, "--reason", "needs a specialist")
    assert (doc["tier"], doc["tier_name"], doc["escalations"]) == (2, "Specialist", 1)
    doc = esc.doc("escalate", case, "--reason", "manager", "--to", "4")
    assert (doc["tier"], doc["escalations"]) == (4, 2)
    event = esc.doc("show", case)["events"][-1]
    assert (event["kind"], event["field"], event["from"], event["to"], event["reason"]) == (
        "escalated", "tier", "2", "4", "manager")


@pytest.mark.parametrize("to", ["1", "2", "5", "0", "-1"])
def test_escalate_to_at_or_below_or_beyond_the_ladder_exits_2(esc, to):
    case = open_case(esc, "high", "--tier", "2")
    refused(esc, ("escalate", case, "--reason", "r", f"--to={to}"), 2)


def test_hierarchical_escalation_at_the_top_exits_4_functional_is_allowed(esc):
    case = open_case(esc, "high", "--tier", "4")
    refused(esc, ("escalate", case, "--reason", "r"), 4)
    doc = esc.doc("escalate", case, "--reason", "billing question", "--team", "billing")
    assert (doc["tier"], doc["team"], doc["escalations"]) == (4, "billing", 1)
    event = esc.doc("show", case)["events"][-1]
    assert (event["kind"], event["field"], event["from"], event["to"]) == (
        "escalated", "team", None, "billing")
    # --to beyond the ladder is a bad value even at the top
    refused(esc, ("escalate", case, "--reason", "r", "--to", "5"), 2)


def test_functional_escalation_with_a_tier(esc):
    case = open_case(esc)
    doc = esc.doc("escalate", case, "--reason", "r", "--team", "billing", "--to", "3")
    assert (doc["tier"], doc["team"], doc["escalations"]) == (3, "billing", 1)


def test_escalation_needs_a_reason(esc):
    case = open_case(esc)
    assert esc("escalate", case).code == 2
    refused(esc, ("escalate", case, "--reason", "  "), 2)


def test_deescalate(esc):
    case = open_case(esc, "high", "--tier", "3")
    doc = esc.doc("deescalate", case, "--reason", "handled")
    assert doc["tier"] == 2 and doc["escalations"] == 0
    assert esc.doc("show", case)["events"][-1]["kind"] == "deescalated"
    doc = esc.doc("deescalate", case, "--reason", "r", "--to", "1")
    assert doc["tier"] == 1
    refused(esc, ("deescalate", case, "--reason", "r"), 4, state="tier 1")
    refused(esc, ("deescalate", case, "--reason", "r", "--to", "0"), 2)


def test_deescalate_to_at_or_above_current_exits_2(esc):
    case = open_case(esc, "high", "--tier", "2")
    refused(esc, ("deescalate", case, "--reason", "r", "--to", "2"), 2)
    refused(esc, ("deescalate", case, "--reason", "r", "--to", "3"), 2)


def test_escalation_keeps_an_owner_whose_tier_reaches_the_new_tier(esc):
    esc.ok("owner", "add", "carol", "--tier", "3")
    case = open_case(esc, "high", "--owner", "carol")
    assert esc.doc("escalate", case, "--reason", "r")["owner"] == "carol"       # 3 >= 2
    assert esc.doc("escalate", case, "--reason", "r")["owner"] == "carol"       # 3 >= 3
    doc = esc.doc("escalate", case, "--reason", "r")                            # 3 < 4
    assert doc["owner"] is None and doc["tier"] == 4
    event = esc.doc("show", case)["events"][-1]
    assert (event["kind"], event["field"], event["from"], event["to"]) == (
        "assigned", "owner", "carol", None)


def test_escalation_unassigns_a_lower_tier_owner_unless_owner_given(esc):
    esc.ok("owner", "add", "bob", "--tier", "1")
    esc.ok("owner", "add", "dana", "--tier", "2")
    case = open_case(esc, "high", "--owner", "bob")
    assert esc.doc("escalate", case, "--reason", "r")["owner"] is None
    case = open_case(esc, "high", "--owner", "bob")
    assert esc.doc("escalate", case, "--reason", "r", "--owner", "dana")["owner"] == "dana"
    case = open_case(esc, "high", "--owner", "bob")
    # --owner is kept even if that owner's tier is below the new one: the lead chose
    assert esc.doc("escalate", case, "--reason", "r", "--owner", "bob")["owner"] == "bob"
    # functional escalation: same tier, the tier-1 owner stays
    case = open_case(esc, "high", "--owner", "bob")
    assert esc.doc("escalate", case, "--reason", "r", "--team", "billing")["owner"] == "bob"


def test_escalate_to_unknown_or_inactive_owner(esc):
    esc.ok("owner", "add", "bob")
    esc.ok("owner", "deactivate", "bob")
    case = open_case(esc)
    refused(esc, ("escalate", case, "--reason", "r", "--owner", "nobody"), 3)
    refused(esc, ("escalate", case, "--reason", "r", "--owner", "bob"), 4)


# -- owners and capacity ----------------------------------------------------------

def test_assign_and_take(esc):
    esc.ok("owner", "add", "bob")
    esc.ok("owner", "add", "alice")
    case = open_case(esc)
    assert esc.doc("assign", case, "bob")["owner"] == "bob"
    assert esc.doc("take", case)["owner"] == "alice"
    events = esc.doc("show", case)["events"]
    assert [(e["kind"], e["from"], e["to"]) for e in events[1:]] == [
        ("assigned", None, "bob"), ("assigned", "bob", "alice")]
    refused(esc, ("assign", case, "nobody"), 3)


def test_take_by_someone_who_is_not_an_owner_exits_3(esc):
    case = open_case(esc)
    refused(esc, ("take", case), 3)


def test_assign_past_capacity_needs_force(esc):
    esc.ok("owner", "add", "bob", "--capacity", "1")
    first, second = open_case(esc), open_case(esc)
    esc.ok("assign", first, "bob")
    line = refused(esc, ("assign", second, "bob"), 4)
    assert "capacity" in line and "--force" in line
    assert esc.doc("assign", second, "bob", "--force")["owner"] == "bob"
    # resolved cases do not count against capacity
    esc.ok("resolve", first, "--resolution", "done")
    esc.ok("resolve", second, "--resolution", "done")
    third = open_case(esc)
    assert esc.doc("assign", third, "bob")["owner"] == "bob"
    assert [o["load"] for o in esc.doc("owner", "list") if o["handle"] == "bob"] == [1]


def test_deactivate_unassigns_unresolved_cases(esc):
    esc.ok("owner", "add", "bob")
    working = open_case(esc, "high", "--owner", "bob")
    done = open_case(esc, "high", "--owner", "bob")
    esc.ok("resolve", done, "--resolution", "done")
    doc = esc.doc("owner", "deactivate", "bob")
    assert doc["active"] is False
    assert esc.doc("show", working)["owner"] is None
    assert esc.doc("show", done)["owner"] == "bob"
    event = esc.doc("show", working)["events"][-1]
    assert (event["kind"], event["from"], event["to"]) == ("assigned", "bob", None)
    refused(esc, ("assign", working, "bob"), 4)
    refused(esc, ("owner", "deactivate", "nobody"), 3)


def test_owner_add_on_an_existing_handle_updates_and_reactivates(esc):
    esc.ok("owner", "add", "bob", "--name", "Bob", "--email", "b@x.example", "--tier", "2",
           "--team", "billing", "--capacity", "3")
    esc.ok("owner", "deactivate", "bob")
    doc = esc.doc("owner", "add", "bob", "--tier", "3")
    assert doc == {"handle": "bob", "name": "Bob", "email": "b@x.example", "tier": 3,
                   "teams": ["billing"], "capacity": 3, "active": True, "load": 0,
                   "away_until": None, "away_reason": None}
    assert [o["handle"] for o in esc.doc("owner", "list")] == ["bob"]


def test_owner_add_checks_values(esc):
    refused(esc, ("owner", "add", "bob", "--tier", "9"), 2)
    refused(esc, ("owner", "add", "bob", "--capacity", "-1"), 2)
    refused(esc, ("owner", "add", "two words"), 2)
    # the email channel sends to it: not an address, or a header injected, is refused
    for email in ("notanemail", "a@b\r\nBcc: evil@example.com", "a b@example.com", "@x"):
        refused(esc, ("owner", "add", "bob", "--email", email), 2)
    assert esc.doc("owner", "add", "bob", "--email", "bob@example.com")["email"] == "bob@example.com"
    # `none` removes it (as tier add's --stale-after none); blank is refused with every
    # blank option
    refused(esc, ("owner", "add", "bob", "--email", ""), 2)
    assert esc.doc("owner", "add", "bob", "--email", "None")["email"] is None
    assert esc.doc("owner", "list")[0]["email"] is None


# -- ids ------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["0", "-1", "1e9", "abc", "", "4.2", "#", "##1", "١"])
def test_bad_case_ids_exit_2(esc, bad):
    open_case(esc)
    result = esc("show", bad)
    assert result.code == 2, result
    assert result.err.startswith("error:") and len(result.err.strip().splitlines()) == 1
    refused(esc, ("ack", bad), 2)


def test_missing_case_exits_3_and_hash_id_is_accepted(esc):
    case = open_case(esc)
    refused(esc, ("show", "42"), 3)
    refused(esc, ("ack", "#42"), 3)
    assert esc.doc("show", f"#{case}")["id"] == int(case)
    assert esc.doc("ack", f"#{case}")["state"] == "open"


def test_capacity_guards_open_and_escalate_owner_too(esc):
    esc.ok("owner", "add", "bob", "--capacity", "1", "--tier", "3")
    open_case(esc, "high", "--owner", "bob")
    line = refused(esc, ("open", "t", "--customer", "c", "--priority", "high", "--owner", "bob"), 4)
    assert "capacity" in line
    other = open_case(esc)
    refused(esc, ("escalate", other, "--reason", "r", "--owner", "bob"), 4)
    assert esc.doc("escalate", other, "--reason", "r", "--owner", "bob", "--force")["owner"] == "bob"
    # escalating bob's own case does not count him twice
    assert esc.doc("escalate", other, "--reason", "r", "--owner", "bob")["owner"] == "bob"


def test_policy_cannot_drop_a_tier_that_live_cases_are_at(esc, tmp_path):
    import tomllib

    from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    del doc["tiers"]["4"]
    doc["tiers"]["3"]["stale_after"] = "none"
    path = tmp_path / "three.toml"
    path.write_text(dump_policy(doc))
    case = open_case(esc, "high", "--tier", "4")
    line = refused(esc, ("policy", "load", str(path)), 4)
    assert "tier 4" in line
    esc.ok("resolve", case, "--resolution", "done")
    refused(esc, ("policy", "load", str(path)), 4)  # a resolved case can still be reopened
    esc.ok("close", case)
    esc.ok("policy", "load", str(path))
    assert [t["level"] for t in esc.doc("tier", "list")] == [1, 2, 3]


def test_functional_escalation_must_move_the_case(esc):
    case = open_case(esc, "high", "--team", "billing")
    refused(esc, ("escalate", case, "--reason", "r", "--team", "billing"), 2)
    refused(esc, ("escalate", case, "--reason", "r", "--team", " "), 2)
    doc = esc.doc("escalate", case, "--reason", "r", "--team", "billing", "--to", "2")
    assert (doc["tier"], doc["team"]) == (2, "billing")


def test_tags_and_teams_are_trimmed_and_checked(esc):
    doc = esc.doc("open", "t", "--customer", "c", "--priority", "high", "--tag", " vip ",
                  "--tag", "vip", "--tag", "", "--team", " billing ")
    assert (doc["tags"], doc["team"]) == (["vip"], "billing")
    case = str(doc["id"])
    refused(esc, ("open", "t", "--customer", "c", "--priority", "high", "--tag", "a;b"), 2)
    refused(esc, ("set", case, "--tag", "x;y"), 2)
    doc = esc.doc("set", case, "--tag", "eu", "--untag", " vip")
    assert doc["tags"] == ["eu"]
    event = esc.doc("show", case)["events"][-1]
    assert (event["field"], event["from"], event["to"]) == ("tags", "vip", "eu")
    assert esc.doc("set", case, "--team", "")["team"] is None
