"""A replay leaves out the sweep's look-ahead where it cannot matter (whatif._no_sweep_before):
after a command whose next command comes before the sweep could act, what the sweep would
have worked out is not worked out. Here replays with and without that are held to each
other over random histories (tests/test_whatif_fast.py's) under several policies: the
outcome, the history the replay made (the sweep's warnings, breaches, escalations and
the rules' moves), the case at the end and how long the sweep could work on it must be
the same, and the look-ahead must be left out often.
"""

from __future__ import annotations

import random

import pytest

from esc_cli.domain import sweep, whatif
from esc_cli.domain.model import Case, Event
from tests.test_whatif_fast import START, _history, _policy


def _own_within(doc):
    doc["tiers"]["1"]["own_within"] = "20m"
    doc["tiers"]["2"]["own_within"] = "2h"


def _urgent_in_business_hours(doc):
    doc["priorities"]["urgent"]["calendar"] = "business"
    doc["priorities"]["urgent"]["respond"] = "30m"


POLICIES = {
    "default": None,
    "early warnings": lambda doc: doc.update(warn_at=0.3),
    "late warnings": lambda doc: doc.update(warn_at=0.95),
    "own within": _own_within,
    "urgent in business hours": _urgent_in_business_hours,
    "short stale": lambda doc: doc["tiers"]["1"].update(stale_after="20m"),
}


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("seed", range(3))
def test_leaving_the_look_ahead_out_changes_nothing(name, seed, monkeypatch):
    rng = random.Random(f"{name} {seed}")
    policy = _policy(POLICIES[name])
    until = START + 25 * 86400
    asked = []
    next_run_at = sweep.next_run_at

    def counted(*args, **kwargs):
        asked.append(1)
        return next_run_at(*args, **kwargs)

    monkeypatch.setattr(sweep, "next_run_at", counted)
    no_sweep_before = whatif._no_sweep_before
    full = lean = first_only = 0
    for number in range(400):
        case, events = _history(rng, number)
        before = len(asked)
        expected = whatif._replay(case, events, policy, until, skip=False)
        full += len(asked) - before
        before = len(asked)
        got = whatif._replay(case, events, policy, until)
        lean += len(asked) - before
        assert got == expected, (case, events)
        # without the bound: only a command at the instant of the one before is skipped
        monkeypatch.setattr(whatif, "_no_sweep_before", lambda *_: START - 1)
        before = len(asked)
        assert whatif._replay(case, events, policy, until) == expected
        first_only += len(asked) - before
        monkeypatch.setattr(whatif, "_no_sweep_before", no_sweep_before)
    # the sweep is asked less often, still often (its work is replayed), and the bound
    # leaves out more than the commands at one instant (each opening) do
    assert 400 < lean < first_only < full - 300, (lean, first_only, full)


def test_the_bound():
    policy = _policy(lambda doc: doc["tiers"]["1"].update(own_within="5m"))
    case, events = _history(random.Random(1), 1)
    case = whatif.initial_case(case, events)
    opened = case.opened_at
    assert case.owner is None and case.priority == "urgent"  # respond 15m, update 1h
    history = [Event(opened, "alice", "opened", "state", None, "new")]
    # unowned: warned at own_within (before the response clock's warning, 12 minutes in)
    assert whatif._no_sweep_before(case, policy, history) == opened + 5 * 60
    owned = whatif._moved(case, [Event(opened, "alice", "assigned", "owner", None, "bob")])
    assert whatif._no_sweep_before(owned, policy, history) == opened + 12 * 60
    # answered: the update clock's warning (48 minutes after a start) comes first
    answered = history + [Event(opened + 60, "alice", "acknowledged", "state", "new", "open")]
    assert whatif._no_sweep_before(owned, policy, answered) == opened + 48 * 60
    # an event before the opening (an import's) starts the bound there
    early = [Event(opened - 600, "alice", "note"), *answered]
    assert whatif._no_sweep_before(owned, policy, early) == opened - 600 + 48 * 60


def test_the_bound_counts_working_time():
    # medium: respond 4h on the business calendar (mon-fri 09:00-17:00), warned at 80%
    policy = _policy()
    opened = START  # a Sunday, 00:00
    events = [Event(opened, "alice", "opened", "state", None, "new")]
    case = whatif.initial_case(
        Case(1, "slow", "Initech", "medium", "technical", "email", opened, 1), events
    )
    monday = opened + 86400
    assert whatif._no_sweep_before(case, policy, events) == monday + 9 * 3600 + 192 * 60
