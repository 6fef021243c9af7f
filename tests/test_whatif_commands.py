"""A replay redoes a person's tier move as their command would have acted on the case
as replayed (whatif._as_commanded), not as a jump to the tier written down: `esc
escalate` goes one tier up, `esc deescalate` one down, `--to N` goes to N, and a
command the case refuses where the replay has it writes nothing.

Default policy, an urgent case opened Mon 2 Nov 10:00 (24x7): response due 10:15
(breached: the sweep escalates 1 -> 2), resolution due 14:00 (-> 3), stale at tier 3 at
18:00 (-> 4, the top). Its events are hand-written: what a person did under a policy
that left the case at tier 1.
"""

from __future__ import annotations

import tomllib

from esc_cli.domain import whatif
from esc_cli.domain.model import Case, Event
from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy, parse_policy

OPENED = 1_793_613_600  # 2026-11-02T10:00:00Z
HOUR = 3600


def _replayed(*moves: Event, policy=None) -> tuple[list[tuple], Case]:
    """The tier moves of the replayed history, as (at, actor, from, to), and the case at
    the end (the sweep run to the day's end)."""
    case = Case(1, "Outage", "Acme", "urgent", "technical", "email", OPENED, 1)
    events = [Event(OPENED, "alice", "opened", "state", None, "new"), *moves]
    _, replayed, final, _, _ = whatif._replay(
        case, events, policy or parse_policy(DEFAULT_POLICY_TOML), OPENED + 14 * HOUR)
    return [(e.at - OPENED, e.actor, e.from_value, e.to_value)
            for e in replayed if e.field == "tier"], final


def test_a_plain_deescalation_goes_one_down_from_the_replayed_tier():
    # recorded: escalated 1 -> 2 at 10:05, de-escalated 2 -> 1 at 15:00 (one down each).
    # Replayed: 1 -> 2, the sweep 2 -> 3 (10:15) and 3 -> 4 (14:00), then 4 -> 3; stale at
    # tier 3 from 15:00: -> 4 at 19:00
    moves, final = _replayed(
        Event(OPENED + 300, "alice", "escalated", "tier", "1", "2", "help"),
        Event(OPENED + 5 * HOUR, "alice", "deescalated", "tier", "2", "1", "back to us"))
    assert moves == [(300, "alice", "1", "2"), (900, "sweep", "2", "3"),
                     (4 * HOUR, "sweep", "3", "4"), (5 * HOUR, "alice", "4", "3"),
                     (9 * HOUR, "sweep", "3", "4")]
    assert final.tier == 4


def _slow(doc):
    doc["priorities"]["urgent"].update(respond="8h", resolve="24h")


def test_a_named_deescalation_goes_to_its_tier_or_is_refused():
    # recorded: escalated 1 -> 3 at 10:05 (--to 3), de-escalated 3 -> 1 at 15:00 (--to 1).
    # Replayed: 1 -> 3, the sweep 3 -> 4 at 10:15, then 4 -> 1 (the tier named)
    moves, _ = _replayed(
        Event(OPENED + 300, "alice", "escalated", "tier", "1", "3", "help"),
        Event(OPENED + 5 * HOUR, "alice", "deescalated", "tier", "3", "1", "ours"))
    assert moves[:3] == [(300, "alice", "1", "3"), (900, "sweep", "3", "4"),
                         (5 * HOUR, "alice", "4", "1")]
    # recorded: the sweep escalated 1 -> 2 -> 3; a person de-escalated at 15:00, to 1 or
    # one down. Under a policy that breaches nothing before 18:00 (respond 8h) the case
    # is at tier 1 then: either command is refused, and is no activity; the sweep
    # escalates at 18:00 and, stale at tier 2, at 22:00
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    _slow(doc)
    slow = parse_policy(dump_policy(doc))
    swept = (Event(OPENED + 900, "sweep", "escalated", "tier", "1", "2", "response SLA breached"),
             Event(OPENED + 4 * HOUR, "sweep", "escalated", "tier", "2", "3",
                   "resolution SLA breached"))
    for recorded in ("1", "2"):
        moves, final = _replayed(
            *swept, Event(OPENED + 5 * HOUR, "alice", "deescalated", "tier", "3", recorded, "ours"),
            policy=slow)
        assert moves == [(8 * HOUR, "sweep", "1", "2"), (12 * HOUR, "sweep", "2", "3")]
        assert final.last_activity_at == OPENED


def test_a_plain_escalation_at_the_top_is_refused():
    # a ladder of two tiers: the 10:15 breach takes the case to the top; the person's
    # plain escalation at 10:30 (recorded 1 -> 2) is refused, and its new owner with it
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["tiers"] = {"1": doc["tiers"]["1"], "2": {"name": "Top", "stale_after": "none"}}
    moves, final = _replayed(
        Event(OPENED + 1800, "alice", "escalated", "tier", "1", "2", "help"),
        Event(OPENED + 1800, "alice", "assigned", "owner", None, "bob", "help"),
        policy=parse_policy(dump_policy(doc)))
    assert moves == [(900, "sweep", "1", "2")]
    assert (final.tier, final.owner) == (2, None)


def test_an_escalation_with_a_team_names_its_tier():
    # recorded 1 -> 2 and team -> billing: `--to 2 --team billing` (a plain --team moves
    # no tier). At 10:30 the sweep has the case at 2: refused, the team unchanged. At
    # 10:10 (still tier 1) it happens as recorded.
    def escalation(at):
        return (Event(at, "alice", "escalated", "tier", "1", "2", "refund"),
                Event(at, "alice", "changed", "team", None, "billing", "refund"))

    moves, final = _replayed(*escalation(OPENED + 1800))
    assert [m for m in moves if m[1] == "alice"] == [] and final.team is None
    moves, final = _replayed(*escalation(OPENED + 600))
    assert (600, "alice", "1", "2") in moves and final.team == "billing"


def test_a_move_where_it_was_recorded_is_what_the_command_does():
    # a move found at the tier it was recorded from is kept as written, without running
    # the command again: on either ladder, that must be what the command does
    from esc_cli.domain import lifecycle
    from esc_cli.errors import Conflict, UsageError

    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["tiers"] = {"1": doc["tiers"]["1"], "2": {"name": "Top", "stale_after": "none"}}
    for policy in (parse_policy(DEFAULT_POLICY_TOML), parse_policy(dump_policy(doc))):
        for tier in range(1, 5):
            case = Case(1, "Outage", "Acme", "urgent", "technical", "email", OPENED, 1,
                        tier=tier, state="open")
            for found in range(1, 5):
                for recorded in set(range(1, 5)) - {found}:
                    up = recorded > found
                    named = recorded != found + (1 if up else -1)
                    try:
                        if up:
                            done, _ = lifecycle.escalate(
                                case, policy, reason="r", to=recorded if named else None,
                                team=None, owner=None, current_owner=None, now=OPENED,
                                actor="alice")
                        else:
                            done, _ = lifecycle.deescalate(
                                case, policy, reason="r", to=recorded if named else None,
                                now=OPENED, actor="alice")
                        expected = [(str(tier), str(done.tier))]
                    except (Conflict, UsageError):
                        expected = []
                    event = Event(OPENED, "alice", "escalated" if up else "deescalated", "tier",
                                  str(found), str(recorded), "r")
                    got = whatif._as_commanded(case, [event], policy)
                    assert [(e.from_value, e.to_value) for e in got] == expected, (
                        policy.top_tier, tier, found, recorded)
