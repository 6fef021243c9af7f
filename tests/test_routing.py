"""Routing as pure decisions (domain/routing.py, domain/rotation.py): who gets an
escalation, with hand-computed loads, shares and rotations."""

from __future__ import annotations

import datetime as dt

import pytest

from esc_cli.domain import routing
from esc_cli.domain.model import Case, Event, Owner
from esc_cli.domain.policy import PolicyError, parse_policy, default_policy, DEFAULT_POLICY_TOML
from esc_cli.domain.rotation import parse_rotation

NOW = 1_796_119_200  # 2026-12-01T10:00:00Z, a Tuesday
H = 3600


def case(tier=2, team=None, owner=None, state="open") -> Case:
    return Case(id=7, title="t", customer="c", priority="high", category="other", channel="email",
                opened_at=NOW - H, policy_version=1, tier=tier, team=team, owner=owner, state=state)


def settings(assign="least-loaded", scope="tier:2", oncall=None) -> routing.Settings:
    return routing.Settings(scope=scope, assign=assign, oncall=oncall)


def owner(handle, tier=2, capacity=None, teams=(), active=True, away_until=None) -> Owner:
    return Owner(handle, tier=tier, capacity=capacity, teams=tuple(teams), active=active,
                 away_until=away_until)


def choose(owners, loads, assign="least-loaded", last=None, c=None, **kw):
    return routing.choose(c or case(), settings(assign, **kw), owners, loads, NOW, last, 4)


# -- least-loaded ----------------------------------------------------------------------

def test_least_loaded_compares_load_relative_to_capacity():
    # bob 3 of 8 = 0.375, carol 2 of 4 = 0.5, dave 1 of 2 = 0.5: bob, though he has most
    d = choose([owner("bob", capacity=8), owner("carol", capacity=4), owner("dave", capacity=2)],
               {"bob": 3, "carol": 2, "dave": 1})
    assert (d.handle, d.reason) == ("bob", "least-loaded in tier 2: bob (3 of 8)")


def test_least_loaded_ties_by_fewest_unresolved_then_handle():
    # carol 2 of 4 and dave 1 of 2 are both 0.5: dave has fewer cases
    d = choose([owner("carol", capacity=4), owner("dave", capacity=2)], {"carol": 2, "dave": 1})
    assert d.handle == "dave"
    # 1 of 2 and 1 of 2: same share, same count: the handle decides
    d = choose([owner("zed", capacity=2), owner("amy", capacity=2)], {"zed": 1, "amy": 1})
    assert d.handle == "amy"


def test_capacity_full_owners_are_skipped_and_no_capacity_means_no_limit():
    # bob is at 8 of 8: out; erin has no capacity set: share 0, ahead of carol's 1 of 4
    d = choose([owner("bob", capacity=8), owner("carol", capacity=4), owner("erin")],
               {"bob": 8, "carol": 1, "erin": 5})
    assert (d.handle, d.reason) == ("erin", "least-loaded in tier 2: erin (5, no capacity set)")


def test_away_inactive_and_other_tiers_are_skipped():
    owners = [owner("amy", away_until=NOW + 1), owner("bob", active=False),
              owner("cat", tier=1), owner("dan", tier=2, capacity=3)]
    assert choose(owners, {"dan": 2}).handle == "dan"
    # an away that has run out (until <= now) no longer counts
    assert choose([owner("amy", away_until=NOW)], {}).handle == "amy"


def test_higher_tier_only_when_nobody_at_the_tier_can_take_it():
    owners = [owner("bob", capacity=1), owner("tess", tier=3), owner("una", tier=4)]
    assert choose(owners, {}).handle == "bob"
    d = choose(owners, {"bob": 1})
    assert d.handle == "tess"
    assert d.reason == "least-loaded in tier 2 (nobody free at tier 2; tier 3): tess (0, no capacity set)"
    # never lower tiers
    assert choose([owner("low", tier=1)], {}).handle is None


def test_team_restricts_the_pool():
    owners = [owner("bob"), owner("bill", teams=["billing"], capacity=5)]
    d = choose(owners, {}, c=case(team="billing"), scope="team:billing")
    assert (d.handle, d.reason) == ("bill", "least-loaded in team billing: bill (0 of 5)")


def test_nobody_available():
    d = choose([owner("bob", capacity=1), owner("amy", away_until=NOW + H)], {"bob": 1})
    assert d.handle is None
    assert d.reason.startswith("least-loaded in tier 2: nobody free at tier 2 or above")


# -- round-robin ------------------------------------------------------------------------

def test_round_robin_takes_the_next_handle_after_the_last_and_wraps():
    owners = [owner("cat"), owner("amy"), owner("bob")]
    picks, last = [], None
    for _ in range(4):
        d = choose(owners, {}, assign="round-robin", last=last)
        picks.append(d.handle)
        last = d.handle
    assert picks == ["amy", "bob", "cat", "amy"]
    assert choose(owners, {}, assign="round-robin", last="bob").reason == "round-robin in tier 2: cat (after bob)"


def test_round_robin_skips_who_cannot_take_it_and_a_last_who_left():
    owners = [owner("amy"), owner("bob", away_until=NOW + H), owner("cat", capacity=1)]
    # after amy comes bob (away), then cat (full): back to amy
    assert choose(owners, {"cat": 1}, assign="round-robin", last="amy").handle == "amy"
    # the last one chosen is gone: the next handle after theirs
    assert choose(owners, {}, assign="round-robin", last="bea").handle == "cat"


# -- manual and on call -------------------------------------------------------------------

def rotation(**extra):
    body = {"people": ["dana", "erin", "fay"], "every": "1w", "handoff": "mon 09:00",
            "timezone": "Europe/Berlin", "start": "2026-11-30", **extra}
    return parse_rotation(body, "tiers.3.oncall", "UTC")[0]


def test_manual_routes_nobody_and_on_call_comes_first_whatever_the_load():
    assert not settings("manual").routes
    on = settings("manual", scope="tier:3", oncall=rotation())
    owners = [owner("dana", tier=3, capacity=1), owner("erin", tier=3)]
    # 2026-12-01 is in the week from Mon 2026-11-30 09:00 Berlin: dana's (shift 0); at capacity
    d = routing.choose(case(tier=3), on, owners, {"dana": 1}, NOW, None, 4)
    assert (d.handle, d.reason, d.mode) == ("dana", "on call in tier 3: dana", "oncall")


def test_away_on_call_hands_to_the_next_in_the_rotation_then_the_assign_mode():
    on = settings("least-loaded", scope="tier:3", oncall=rotation())
    owners = [owner("dana", tier=3, away_until=NOW + H), owner("erin", tier=3, away_until=NOW + H),
              owner("fay", tier=3), owner("gus", tier=3)]
    d = routing.choose(case(tier=3), on, owners, {}, NOW, None, 4)
    assert d.handle == "fay"
    assert d.reason == ("on call in tier 3: fay (dana is away until 2026-12-01T11:00:00Z; "
                        "erin is away until 2026-12-01T11:00:00Z)")
    # fay gone too: least-loaded among the rest of tier 3
    owners[2] = owner("fay", tier=3, active=False)
    assert routing.choose(case(tier=3), on, owners, {}, NOW, None, 4).handle == "gus"
    manual = settings("manual", scope="tier:3", oncall=rotation())
    d = routing.choose(case(tier=3), manual, owners, {}, NOW, None, 4)
    assert d.handle is None and d.reason.startswith("nobody on call in tier 3 can take it")


def test_rotation_hands_over_at_local_wall_clock_across_dst():
    rot = parse_rotation({"people": ["dana", "erin"], "every": "1w", "handoff": "mon 09:00",
                          "timezone": "Europe/Berlin", "start": "2026-10-19"}, "k", "UTC")[0]
    # Berlin leaves summer time on Sun 2026-10-25. Shift 0 starts Mon 10-19 09:00 CEST
    # = 07:00Z; shift 1 Mon 10-26 09:00 CET = 08:00Z: that week held 169 hours.
    start0 = int(dt.datetime(2026, 10, 19, 7, tzinfo=dt.timezone.utc).timestamp())
    start1 = int(dt.datetime(2026, 10, 26, 8, tzinfo=dt.timezone.utc).timestamp())
    assert rot.handoff(0) == start0 and rot.handoff(1) == start1
    assert start1 - start0 == 169 * H
    assert rot.on_call(start1 - 1) == "dana"   # 07:59:59Z = 08:59:59 CET: still dana
    assert rot.on_call(start1) == "erin"
    assert rot.on_call(start0 + 168 * H) == "dana"  # a plain week later is an hour early
    assert rot.changes(start1 - 10, 2) == [(start1, "erin"), (start1 + 168 * H, "dana")]


def test_overrides_and_default_anchor():
    # fay stands in for Wednesday 2026-12-02 in Berlin time
    rot = rotation(overrides=[{"handle": "gus", "from": "2026-12-02T00:00", "until": "2026-12-03T00:00"}])
    wed = int(dt.datetime(2026, 12, 2, 12, tzinfo=dt.timezone.utc).timestamp())
    assert rot.on_call(wed) == "gus"
    assert rot.on_call(NOW) == "dana"
    assert rot.changes(NOW, 2) == [(wed - 13 * H, "gus"), (wed + 11 * H, "dana")]
    # daily, no start: shift 0 is 1970-01-05, so the 20,000th day is people[20000 % 3]
    daily = parse_rotation({"people": ["a", "b", "c"], "handoff": "06:00"}, "k", "UTC")[0]
    day = dt.date(1970, 1, 5) + dt.timedelta(days=20000)
    at = int(dt.datetime.combine(day, dt.time(6), dt.timezone.utc).timestamp())
    assert daily.on_call(at) == "abc"[20000 % 3] and daily.on_call(at - 1) == "abc"[19999 % 3]


# -- triggers ---------------------------------------------------------------------------

def test_what_asks_routing_and_whose_settings_decide():
    esc = Event(NOW, "sweep", "escalated", "tier", "1", "2")
    assert routing.trigger(case(), [esc]) == (True, False)
    assert routing.trigger(case(owner="bob"), [esc]) is None  # the escalation kept its owner
    assert routing.trigger(case(state="resolved"), [esc]) is None
    team = Event(NOW, "bob", "escalated", "team", None, "billing")
    assert routing.trigger(case(team="billing"), [team]) == (True, True)
    rule = Event(NOW, "rule:billing", "changed", "team", None, "billing")
    assert routing.trigger(case(team="billing"), [rule]) == (True, True)
    assert routing.trigger(case(), [Event(NOW, "bob", "note", None, None, None, "x")]) is None
    opened = Event(NOW, "bob", "opened", "state", None, "new")
    assert routing.trigger(case(tier=1), [opened]) == (True, False)


# -- the policy ---------------------------------------------------------------------------

POLICY = DEFAULT_POLICY_TOML.replace(
    '[tiers.2]\nname = "Specialist"\nstale_after = "4h"\n',
    '[tiers.2]\nname = "Specialist"\nstale_after = "4h"\nassign = "least-loaded"\nown_within = "30m"\n'
    '[tiers.2.oncall]\npeople = ["dana"]\n',
) + '\n[teams.billing]\nassign = "round-robin"\n'


def test_policy_reads_routing_and_round_trips():
    from esc_cli.domain.policy import dump_policy

    policy = parse_policy(POLICY)
    tier = policy.tiers[2]
    assert (tier.assign, tier.own_within, tier.oncall.people) == ("least-loaded", 1800, ("dana",))
    assert policy.tiers[1].assign == "manual" and policy.tiers[1].oncall is None
    assert policy.teams["billing"].assign == "round-robin"
    again = parse_policy(dump_policy(policy.raw()))
    assert again.tiers == policy.tiers and again.teams == policy.teams
    # the default policy gains nothing
    assert "teams" not in default_policy().raw()
    assert "assign" not in dump_policy(default_policy().raw())


@pytest.mark.parametrize("tweak, key", [
    (('assign = "least-loaded"', 'assign = "fastest"'), "tiers.2.assign"),
    (('own_within = "30m"', 'own_within = "soon"'), "tiers.2.own_within"),
    (('people = ["dana"]', 'people = []'), "tiers.2.oncall.people"),
    (('people = ["dana"]', 'people = ["dana"]\nevery = "36h"'), "tiers.2.oncall.every"),
    (('people = ["dana"]', 'people = ["dana"]\nhandoff = "mon 9am"'), "tiers.2.oncall.handoff"),
    (('people = ["dana"]', 'people = ["dana"]\nhandoff = "mon 09:00"\nevery = "3d"'), "tiers.2.oncall.every"),
    (('people = ["dana"]', 'people = ["dana"]\ntimezone = "Mars/Base"'), "tiers.2.oncall.timezone"),
    (('people = ["dana"]', 'people = ["dana"]\nhandoff = "mon 09:00"\nstart = "2026-12-01"'),
     "tiers.2.oncall.start"),
    (('people = ["dana"]', 'people = ["dana"]\noverrides = [{handle = "x", from = "2026-12-02T00:00", '
      'until = "2026-12-01T00:00"}]'), "tiers.2.oncall.overrides[1].until"),
    (('assign = "round-robin"', 'assign = "round-robin"\ncolour = "red"'), "teams.billing.colour"),
])
def test_bad_routing_settings_name_their_key(tweak, key):
    with pytest.raises(PolicyError) as caught:
        parse_policy(POLICY.replace(*tweak))
    assert caught.value.key == key
