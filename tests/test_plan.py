"""`esc explain`'s plan "if nothing changes": every step the sweep will take, and the
sweep then takes each one exactly when the plan said (not a minute earlier).

Default policy unless a test loads another; the business calendar is Mon-Fri
09:00-17:00 UTC. 2026-11-06 and 2026-11-13 are Fridays, 2026-11-09 and 2026-11-16
Mondays."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy

STEP_KEYS = {"at", "action", "clock", "due", "from_tier", "to_tier", "to_tier_name", "owner",
             "team", "reason", "notify", "email", "channels", "routing"}


def _load_policy(esc, tmp_path, **changes) -> None:
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    for dotted, value in changes.items():
        node = policy
        *parents, last = dotted.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(policy))
    esc.ok("policy", "load", str(path))


def _minus_minute(at: str) -> str:
    moment = datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return (moment - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sweep_through(esc, case: int, plan: list[dict]) -> None:
    """Sweep one minute before each planned instant (nothing happens to the case) and
    at it (exactly the planned steps happen, notified to the planned recipient)."""
    instants = sorted({step["at"] for step in plan})
    for at in instants:
        early = esc.doc("sweep", now=_minus_minute(at))
        assert not any(item["case"] == case for key in ("warned", "breached", "escalated",
                                                        "closed") for item in early[key]), (at, early)
        steps = [s for s in plan if s["at"] == at]
        result = esc.doc("sweep", now=at)
        mine = {key: [item for item in result[key] if item["case"] == case]
                for key in ("warned", "breached", "escalated", "closed", "notified")}
        assert [w["clock"] for w in mine["warned"]] == [s["clock"] for s in steps if s["action"] == "warn"]
        assert [b["clock"] for b in mine["breached"]] == [s["clock"] for s in steps if s["action"] == "breach"]
        assert [(e["from"], e["to"], e["reason"]) for e in mine["escalated"]] == [
            (s["from_tier"], s["to_tier"], s["reason"]) for s in steps if s["action"] == "escalate"]
        assert bool(mine["closed"]) == any(s["action"] == "close" for s in steps)
        assert sorted(n["recipient"] for n in mine["notified"]) == sorted(
            s["notify"] for s in steps if s["notify"])
    # and after the last step nothing is left to do
    assert esc.doc("explain", str(case), now=instants[-1])["plan"] == []


def test_business_case_plan_with_holiday_pause_and_owner(esc, tmp_path):
    _load_policy(esc, tmp_path, calendars__business__holidays=["2026-11-11"])
    esc.ok("owner", "add", "bob", "--email", "bob@example.com", "--tier", "1")
    case = esc.doc("open", "Invoice wrong", "--customer", "Initech", "--priority", "medium",
                   "--owner", "bob", "--team", "billing", now="2026-11-06T15:00:00Z")["id"]
    esc.ok("ack", str(case), now="2026-11-06T15:30:00Z")
    esc.ok("pending", str(case), "--reason", "need the PO", now="2026-11-06T16:00:00Z")
    esc.ok("resume", str(case), now="2026-11-09T10:00:00Z")
    doc = esc.doc("explain", str(case), now="2026-11-09T12:00:00Z")
    plan = doc["plan"]
    assert all(set(step) == STEP_KEYS for step in plan)
    assert [(s["at"], s["action"], s["clock"], s["to_tier"], s["owner"], s["notify"])
            for s in plan] == [
        # update restarted at resume Mon 10:00, 16h: Mon 7h + Tue 8h + (Wed 11 is a
        # holiday) Thu 1h -> Thu 10:00; warn at 12h48m: Mon 7h + Tue 5h48m -> Tue 14:48
        ("2026-11-10T14:48:00Z", "warn", "update", None, "bob", "owner:bob"),
        ("2026-11-12T10:00:00Z", "breach", "update", None, "bob", "owner:bob"),
        # resolution 40h + 2h paused working time (Fri 16-17, Mon 09-10) from Fri 15:00:
        # Fri 2h, Mon 8h, Tue 8h, Thu 8h, Fri 8h = 34h -> warn (32h+2h) Fri 13 17:00;
        # Mon 16th 8h more = 42h -> due Mon 16 17:00
        ("2026-11-13T17:00:00Z", "warn", "resolution", None, "bob", "owner:bob"),
        ("2026-11-16T17:00:00Z", "breach", "resolution", None, None, None),
        # bob is tier 1: the case goes unassigned to tier 2, the team is told
        ("2026-11-16T17:00:00Z", "escalate", "resolution", 2, None, "team:billing"),
        # stale after 4h of opening hours at tier 2: Tue 17 09:00-13:00
        ("2026-11-17T13:00:00Z", "escalate", "stale", 3, None, "team:billing"),
        ("2026-11-17T17:00:00Z", "escalate", "stale", 4, None, "team:billing"),
    ]
    assert plan[0]["email"] == "bob@example.com" and plan[0]["due"] == "2026-11-12T10:00:00Z"
    assert plan[4]["to_tier_name"] == "Specialist"
    assert plan[4]["reason"] == "resolution SLA breached"
    # the explain document keeps its keys and its `next` agrees with the plan's first step
    assert doc["next"]["at"] == plan[0]["at"] and doc["next"]["action"] == "warn"
    _sweep_through(esc, case, plan)


def test_owner_at_a_high_tier_keeps_the_case_and_channels_are_named(esc, tmp_path):
    _load_policy(esc, tmp_path, channels=[{"type": "command", "argv": ["true"]}])
    esc.ok("owner", "add", "carol", "--email", "carol@example.com", "--tier", "3")
    case = esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                   "--owner", "carol", now="2026-11-02T10:00:00Z")["id"]
    plan = esc.doc("explain", str(case), now="2026-11-02T10:01:00Z")["plan"]
    assert [(s["at"][11:16], s["action"], s["clock"], s["to_tier"], s["owner"], s["notify"])
            for s in plan] == [
        ("10:12", "warn", "response", None, "carol", "owner:carol"),     # 0.8 x 15m
        ("10:15", "breach", "response", None, "carol", None),
        ("10:15", "escalate", "response", 2, "carol", "owner:carol"),    # tier 3 >= 2: keeps
        ("13:12", "warn", "resolution", None, "carol", "owner:carol"),   # 0.8 x 4h
        # a sweep climbs one tier per run: the resolution breach while breached already
        ("14:00", "breach", "resolution", None, "carol", None),
        ("14:00", "escalate", "resolution", 3, "carol", "owner:carol"),
        # stale 4h at tier 3 from 14:00; carol is tier 3, so tier 4 unassigns her
        ("18:00", "escalate", "stale", 4, None, "tier:4"),
    ]
    assert plan[0]["channels"] == ["command:1"] and plan[1]["channels"] == []
    _sweep_through(esc, case, plan)


def test_work_the_sweep_has_not_caught_up_with_happens_at_the_next_sweep(esc):
    case = esc.doc("open", "x", "--customer", "a", "--priority", "urgent",
                   now="2026-11-02T10:00:00Z")["id"]
    doc = esc.doc("explain", str(case), now="2026-11-02T10:30:00Z")
    # warned at 10:12 and breached at 10:15 without a sweep: all of it at 10:30
    assert [(s["at"][11:16], s["action"], s["clock"]) for s in doc["plan"][:3]] == [
        ("10:30", "breach", "response"), ("10:30", "escalate", "response"),
        ("13:12", "warn", "resolution")]
    text = esc.ok("explain", str(case), now="2026-11-02T10:30:00Z").out
    assert ("  next sweep        escalate to tier 2 Specialist (response SLA breached), "
            "unassigned → notify tier:2") in text.splitlines()


def test_resolved_pending_and_closed_cases(esc):
    resolved = str(esc.doc("open", "x", "--customer", "a", "--priority", "low")["id"])
    esc.ok("resolve", resolved, "--resolution", "done", now="2026-11-02T11:00:00Z")
    plan = esc.doc("explain", resolved, now="2026-11-02T11:00:00Z")["plan"]
    assert [(s["at"], s["action"], s["reason"]) for s in plan] == [
        ("2026-11-09T11:00:00Z", "close", "resolved for 7d")]   # close_after 7d, wall-clock
    text = esc.ok("explain", resolved, now="2026-11-02T11:00:00Z").out.splitlines()
    assert "Plan if nothing changes (every step the sweep will take):" in text
    assert "  Mon 09 Nov 11:00  close (resolved for 7d)" in text
    assert text[-1] == "  then nothing more is scheduled"
    _sweep_through(esc, int(resolved), plan)

    pending = str(esc.doc("open", "y", "--customer", "a", "--priority", "high")["id"])
    esc.ok("ack", pending, now="2026-11-02T10:10:00Z")
    esc.ok("pending", pending, "--reason", "waiting", now="2026-11-02T10:20:00Z")
    doc = esc.doc("explain", pending, now="2026-11-05T10:00:00Z")
    assert doc["plan"] == [] and doc["next"] is None
    assert "Plan if nothing changes" not in esc.ok("explain", pending,
                                                   now="2026-11-05T10:00:00Z").out


def test_plan_is_pure_and_leaves_the_case_alone(esc):
    """Asking twice gives the same plan; explain writes nothing (a sweep finds the same
    work afterwards)."""
    case = str(esc.doc("open", "x", "--customer", "a", "--priority", "high")["id"])
    first = esc.doc("explain", case, now="2026-11-02T10:30:00Z")["plan"]
    assert esc.doc("explain", case, now="2026-11-02T10:30:00Z")["plan"] == first
    assert len(esc.doc("show", case)["events"]) == 1


def test_terminal_plan_wraps_under_its_own_column(esc):
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from esc_cli.render import explain as ops
    from esc_cli.render.output import Output, parse_iso

    case = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                       now="2026-11-02T10:00:00Z")["id"])
    doc = esc.doc("explain", case, now="2026-11-02T10:01:00Z")
    env = SimpleNamespace(now=parse_iso("2026-11-02T10:01:00Z"), tz="UTC", stdout_tty=True,
                          no_color=True)
    out = Output(env)
    out._console = Console(width=80, record=True, file=io.StringIO(), color_system=None)
    ops.explain(out, doc)
    lines = out._console.export_text().splitlines()
    assert all(len(line) <= 80 for line in lines)
    start = lines.index("Plan if nothing changes (every step the sweep will take):")
    plan = lines[start + 1:]
    assert plan[0].startswith("  Mon 02 Nov 10:12  warn: response SLA at risk, due Mon 02 Nov 10:15")
    # a long step continues under the step column, never under the time
    escalate = next(i for i, line in enumerate(plan) if "escalate to tier 4" in line)
    assert plan[escalate + 1].startswith(" " * 20) and plan[escalate + 1].strip()
    assert plan[-1] == "  then nothing more is scheduled"
