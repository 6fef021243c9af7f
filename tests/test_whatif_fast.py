"""`policy try`'s shortcut (whatif.replay_apart) against full replays of random histories.

When FILE changes only targets, a case the sweep could act on only before the first
instant a changed target can matter is replayed once, and only its final clocks are
traced under FILE. Here random histories (opening, acknowledgement, notes, customer
updates, pending/resume, resolve/reopen/close, escalations, owner and priority changes,
at random gaps) are replayed both ways under random target changes: the outcomes must
be the full replays' exactly, and both ways must be taken often.
"""

from __future__ import annotations

import random
import tomllib

import pytest

from esc_cli.domain import whatif
from esc_cli.domain.model import Case, Event
from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy, parse_policy

START = 1_793_491_200  # 2026-11-01T00:00:00Z, a Sunday
PRIORITIES = ("urgent", "high", "medium", "low")
SPANS = ("10m", "30m", "45m", "1h", "2h", "3h", "4h", "6h", "8h", "12h", "16h", "24h",
         "40h", "48h", "80h")
GAPS = (60, 300, 900, 1800, 3600, 2 * 3600, 5 * 3600, 9 * 3600, 86400, 3 * 86400)


def _policy(change=None):
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["rules"] = [{"name": "vip", "when": {"customer": "Globex"}, "then": {"priority": "high"}},
                    {"name": "unhappy", "when": {"csat_at_most": 2}, "then": {"reopen": True}}]
    if change:
        change(doc)
    return parse_policy(dump_policy(doc))


def _targets_changed(rng: random.Random):
    def change(doc):
        for name in rng.sample(PRIORITIES, rng.randint(1, 4)):
            target = doc["priorities"][name]
            for key in rng.sample(("respond", "update", "resolve"), rng.randint(1, 3)):
                if key == "update" and name == "low":
                    continue  # low has no update target in the default policy
                target[key] = rng.choice(SPANS)
    return change


def _history(rng: random.Random, case_id: int) -> tuple[Case, list[Event]]:
    opened = START + rng.randrange(0, 20 * 86400, 60)
    priority = rng.choice(PRIORITIES)
    customer = rng.choice(("Globex", "Initech", "Umbrella"))
    events = [Event(opened, "alice", "opened", "state", None, "new")]
    state, at, tier = "new", opened, 1
    for _ in range(rng.randint(0, 9)):
        at += rng.choice(GAPS) + rng.randrange(60)
        moves = ["note"]
        if state == "new":
            moves += ["ack", "ack", "update_acks", "resolve"]
        if state == "open":
            moves += ["update", "pending", "resolve", "resolve", "escalate"]
        if state == "pending":
            moves += ["resume", "resolve"]
        if state == "resolved":
            moves += ["reopen", "close", "feedback"]
        if state != "closed":
            moves += ["priority", "assign"]
        move = rng.choice(moves)
        if move == "ack":
            events.append(Event(at, "alice", "acknowledged", "state", "new", "open"))
            state = "open"
        elif move == "update_acks":
            events.append(Event(at, "alice", "customer_update", "state", "new", "open"))
            state = "open"
        elif move == "update":
            events.append(Event(at, "alice", "customer_update"))
        elif move == "note":
            events.append(Event(at, "alice", "note"))
        elif move == "pending":
            events.append(Event(at, "alice", "pending", "state", "open", "pending"))
            state = "pending"
        elif move == "resume":
            events.append(Event(at, "alice", "resumed", "state", "pending", "open"))
            state = "open"
        elif move == "resolve":
            events.append(Event(at, "alice", "resolved", "state", state, "resolved"))
            state = "resolved"
        elif move == "reopen":
            events.append(Event(at, "alice", "reopened", "state", "resolved", "open"))
            state = "open"
        elif move == "close":
            events.append(Event(at, "alice", "closed", "state", "resolved", "closed"))
            state = "closed"
        elif move == "feedback":
            events.append(Event(at, "carol", "feedback", "csat", None, str(rng.randint(1, 5))))
        elif move == "escalate" and tier < 4:
            events.append(Event(at, "alice", "escalated", "tier", str(tier), str(tier + 1)))
            tier += 1
        elif move == "priority":
            new = rng.choice([p for p in PRIORITIES if p != priority])
            events.append(Event(at, "alice", "changed", "priority", priority, new))
            priority = new
        elif move == "assign":
            events.append(Event(at, "alice", "assigned", "owner", None, "bob"))
    return Case(case_id, f"case {case_id}", customer, priority, "technical", "email", opened, 1,
                tier=tier, state=state), events


@pytest.mark.parametrize("seed", range(6))
def test_the_shortcut_is_the_full_replay(seed, monkeypatch):
    rng = random.Random(seed)
    current = _policy()
    until = START + 25 * 86400
    full_replays = []
    replay = whatif.replay

    def counted(case, events, policy, horizon):
        full_replays.append(case.id)
        return replay(case, events, policy, horizon)

    shortcuts = 0
    for _ in range(4):
        candidate = _policy(_targets_changed(rng))
        apart = whatif.targets_apart(current, candidate)
        assert apart  # only targets differ, and some do
        for number in range(250):
            case, events = _history(rng, number)
            expected = (replay(case, events, current, until), replay(case, events, candidate, until))
            monkeypatch.setattr(whatif, "replay", counted)
            before = len(full_replays)
            got = whatif.replay_apart(case, events, current, candidate, until, apart)
            monkeypatch.setattr(whatif, "replay", replay)
            assert got == expected, (case, events)
            shortcuts += len(full_replays) == before
    # both ways are taken, often
    assert 100 < shortcuts < 900, shortcuts


@pytest.mark.parametrize("change", [
    lambda doc: doc.update(warn_at=0.5),
    lambda doc: doc["calendars"]["business"].update(hours="08:00-16:00"),
    lambda doc: doc["priorities"]["low"].update(calendar="24x7"),
    lambda doc: doc["tiers"]["1"].update(stale_after="2h"),
    lambda doc: doc["rules"].pop(),
])
def test_anything_but_targets_means_no_shortcut(change):
    assert whatif.targets_apart(_policy(), _policy(change)) is None


def test_the_same_targets_are_not_apart():
    assert whatif.targets_apart(_policy(), _policy()) == {}
    apart = whatif.targets_apart(_policy(), _policy(
        lambda doc: doc["priorities"]["urgent"].update(resolve="3h")))
    assert apart == {"urgent": (4 * 3600, 3 * 3600)}
