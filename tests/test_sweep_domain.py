"""What the sweep decides for one case (domain/sweep.py), with hand-computed instants.

Default policy: urgent respond 15m / update 1h / resolve 4h on 24x7; medium 4h / 16h /
40h on the business calendar (Mon-Fri 09:00-17:00 UTC); warn_at 0.8; tiers 1-3
stale_after 4h, tier 4 (top) none; close_after 7d. 2026-11-02 is a Monday.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from esc_cli.domain import lifecycle, notices, sweep
from esc_cli.domain.model import Owner
from esc_cli.domain.policy import default_policy

POLICY = default_policy()
H, M = 3600, 60


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


T0 = at("2026-11-02T10:00:00")


def opened(priority="urgent", now=T0, tier=1, owner=None):
    case, events = lifecycle.open_case(
        title="VPN down", customer="Initech", priority=priority, category="other",
        channel="email", description="", tier=tier, team=None, owner=owner, tags=(),
        policy=POLICY, policy_version=1, now=now, actor="alice")
    case = replace(case, id=7)
    return lifecycle.settle(case, events, POLICY), events


def move(case, events, change):
    changed, new = change
    events = events + new
    return lifecycle.settle(changed, events, POLICY), events


def run(case, events, now, owner=None):
    """One sweep of the case at `now`: (case, events, plan)."""
    plan = sweep.plan(case, events, POLICY, now)
    changed, new = sweep.apply(case, plan, POLICY, now, owner)
    events = events + new
    return lifecycle.settle(changed, events, POLICY), events, plan


def test_warns_at_80_percent_then_breaches_and_escalates():
    case, events = opened()
    # respond 15m: warn at 0.8 x 15m = 12m -> 10:12; due 10:15
    assert case.sweep_at == at("2026-11-02T10:12:00")
    assert sweep.plan(case, events, POLICY, at("2026-11-02T10:11:59")).empty
    case, events, plan = run(case, events, at("2026-11-02T10:12:00"))
    assert plan.warn == (("response", at("2026-11-02T10:15:00")),)
    assert events[-1].kind == "warned" and events[-1].field == "response"
    assert events[-1].to_value == "2026-11-02T10:15:00Z" and events[-1].actor == "sweep"
    assert case.sweep_at == at("2026-11-02T10:15:00")
    # the same instant again: the warning is recorded, nothing left to do
    assert sweep.plan(case, events, POLICY, at("2026-11-02T10:12:00")).empty

    case, events, plan = run(case, events, at("2026-11-02T10:15:00"))
    assert plan.breach == (("response", at("2026-11-02T10:15:00")),)
    assert (plan.escalate_to, plan.escalate_reason) == (2, "response SLA breached")
    assert [e.kind for e in events[-2:]] == ["breached", "escalated"]
    assert (events[-1].field, events[-1].from_value, events[-1].to_value) == ("tier", "1", "2")
    assert case.tier == 2 and case.tier_since == at("2026-11-02T10:15:00")
    # next: resolution warns at 0.8 x 4h = 3h12m -> 13:12
    assert case.sweep_at == at("2026-11-02T13:12:00")


def test_a_clock_first_seen_past_due_is_breached_not_warned():
    case, events = opened()
    plan = sweep.plan(case, events, POLICY, at("2026-11-02T10:20:00"))
    assert plan.warn == () and [c for c, _ in plan.breach] == ["response"]


def test_two_clocks_breached_at_once_escalate_once_with_one_notification():
    case, events = opened()
    # first sweep at 14:30: response (10:15) and resolution (14:00) are both past due
    case, events, plan = run(case, events, at("2026-11-02T14:30:00"))
    assert [c for c, _ in plan.breach] == ["response", "resolution"]
    assert (plan.escalate_to, plan.escalate_reason) == (2, "response and resolution SLA breached")
    new = [e for e in events if e.actor == "sweep"]
    notes = notices.notifications_for(case, new, None, earlier=len(events) - len(new))
    assert [(n["kind"], n["clock"], n["from_tier"], n["to_tier"]) for n in notes] == [
        ("escalation", "response,resolution", 1, 2)]
    assert notes[0]["recipient_label"] == "tier:2"


def test_stale_climb_to_the_top_tier_and_stop_there():
    """Follow `next_action` through the whole life of an unanswered urgent case: every
    predicted action is the one the sweep takes at that instant."""
    case, events = opened()
    seen = []
    for _ in range(20):
        upcoming = sweep.next_action(case, events, POLICY)
        if upcoming is None:
            break
        assert case.sweep_at == upcoming["at"]
        case, events, plan = run(case, events, upcoming["at"])
        stamp = datetime.fromtimestamp(upcoming["at"], timezone.utc).strftime("%H:%M")
        seen.append((stamp, upcoming["action"], upcoming["clock"], upcoming["tier"]))
        if upcoming["action"] == "warn":
            assert [clock for clock, _ in plan.warn] == [upcoming["clock"]]
        elif upcoming["action"] == "escalate":
            assert plan.escalate_to == upcoming["tier"] == case.tier
    assert seen == [
        ("10:12", "warn", "response", None),
        ("10:15", "escalate", "response", 2),        # response breach: 1 -> 2
        ("13:12", "warn", "resolution", None),       # 0.8 x 4h
        ("14:00", "escalate", "resolution", 3),      # resolution breach: 2 -> 3
        ("18:00", "escalate", "stale", 4),           # idle at tier 3 since 14:00 for 4h
    ]
    # tier 4 is the top: nothing more, ever
    assert case.tier == 4 and case.sweep_at is None
    assert sweep.plan(case, events, POLICY, at("2026-11-09T10:00:00")).empty
    stale = [e for e in events if e.kind == "escalated"][-1]
    assert stale.reason == "stale: no activity at tier 3 for 4h"


def test_activity_at_the_tier_delays_the_stale_climb():
    case, events = opened()
    case, events, _ = run(case, events, at("2026-11-02T14:30:00"))  # both breached: tier 2
    assert case.tier == 2
    # an internal note at 16:00 is activity: stale from 16:00 + 4h = 20:00, not 18:30
    case, events = move(case, events, lifecycle.note(case, "looking", False,
                                                     at("2026-11-02T16:00:00"), "bob"))
    assert case.sweep_at == at("2026-11-02T20:00:00")
    assert sweep.plan(case, events, POLICY, at("2026-11-02T19:59:00")).empty
    case, events, plan = run(case, events, at("2026-11-02T20:00:00"))
    assert plan.escalate_cause == "stale" and case.tier == 3


def test_pending_cases_never_breach_while_paused():
    case, events = opened("high")
    case, events = move(case, events, lifecycle.acknowledge(case, T0 + 10 * M, "bob"))
    case, events = move(case, events, lifecycle.set_pending(case, "logs?", T0 + 20 * M, "bob"))
    assert case.sweep_at is None
    assert sweep.plan(case, events, POLICY, at("2026-11-20T10:00:00")).empty
    assert sweep.next_action(case, events, POLICY) is None
    # resumed after 10 days: resolution (48h) moves later by the 10 days paused
    case, events = move(case, events, lifecycle.resume(case, at("2026-11-12T10:20:00"), "bob"))
    assert case.resolve_by == at("2026-11-14T10:00:00")


def test_business_hours_case_does_not_breach_overnight():
    # medium opened Mon 16:00: respond 4h = Mon 16-17 (1h) + Tue 09:00-12:00 -> Tue 12:00;
    # warn 3h12m = Mon 1h + Tue 2h12m -> Tue 11:12
    case, events = opened("medium", at("2026-11-02T16:00:00"))
    assert case.respond_by == at("2026-11-03T12:00:00")
    assert case.sweep_at == at("2026-11-03T11:12:00")
    for night in ("2026-11-02T17:30:00", "2026-11-03T03:00:00", "2026-11-03T08:59:00"):
        assert sweep.plan(case, events, POLICY, at(night)).empty
    assert sweep.next_action(case, events, POLICY) == {
        "action": "warn", "at": at("2026-11-03T11:12:00"), "tier": None, "clock": "response"}


def test_close_after_seven_days():
    case, events = opened("high")
    case, events = move(case, events, lifecycle.resolve(case, "fixed", T0 + H, "bob"))
    assert case.sweep_at == T0 + H + 7 * 86400
    assert not sweep.plan(case, events, POLICY, T0 + H + 7 * 86400 - 1).close
    case, events, plan = run(case, events, T0 + H + 7 * 86400)
    assert plan.close and case.state == "closed" and case.sweep_at is None
    assert (events[-1].kind, events[-1].actor, events[-1].reason) == (
        "closed", "sweep", "resolved for 7d")


def test_escalation_keeps_an_owner_whose_tier_reaches_the_new_one():
    senior = Owner("carol", tier=3)
    case, events = opened(owner=senior)
    case, events, _ = run(case, events, at("2026-11-02T10:15:00"), owner=senior)
    assert case.tier == 2 and case.owner == "carol"
    assert [e.kind for e in events if e.actor == "sweep"] == ["breached", "escalated"]


def test_escalation_unassigns_an_owner_below_the_new_tier():
    junior = Owner("bob", tier=1)
    case, events = opened(owner=junior)
    case, events, _ = run(case, events, at("2026-11-02T10:15:00"), owner=junior)
    assert case.tier == 2 and case.owner is None
    unassigned = events[-1]
    assert (unassigned.kind, unassigned.from_value, unassigned.to_value) == ("assigned", "bob", None)


def test_history_later_than_now_is_skipped():
    case, events = opened()
    assert sweep.plan(case, events, POLICY, T0 - 60).skipped


def test_top_tier_breach_is_recorded_without_escalation():
    case, events = opened(tier=4)
    case, events, plan = run(case, events, at("2026-11-02T10:15:00"))
    assert plan.escalate_to is None and [c for c, _ in plan.breach] == ["response"]
    new = [e for e in events if e.actor == "sweep"]
    notes = notices.notifications_for(case, new, None, earlier=len(events) - len(new))
    assert [n["kind"] for n in notes] == ["breach"]


def test_update_breach_does_not_escalate():
    case, events = opened()
    case, events = move(case, events, lifecycle.acknowledge(case, T0 + 5 * M, "bob"))
    # update 1h from the first response (10:05): due 11:05
    case, events, plan = run(case, events, at("2026-11-02T11:05:00"))
    assert [c for c, _ in plan.breach] == ["update"] and plan.escalate_to is None


def test_worst_clock_bands():
    case, events = opened("high")
    # high: respond 1h (warn 10:48, due 11:00), resolve 48h
    assert sweep.worst_clock(case, T0) is None
    assert sweep.worst_clock(case, T0, T0 + 2 * H) == (2, "response", T0 + H)
    assert sweep.worst_clock(case, at("2026-11-02T10:50:00")) == (1, "response", T0 + H)
    assert sweep.worst_clock(case, at("2026-11-02T11:30:00")) == (0, "response", T0 + H)
    # acknowledged: response stops; the update clock (24h) is not at risk, nothing is
    case, events = move(case, events, lifecycle.acknowledge(case, T0 + 10 * M, "bob"))
    assert sweep.worst_clock(case, at("2026-11-02T11:30:00")) is None
