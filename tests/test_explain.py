"""`esc explain`: how each due time was computed, and what the sweep does next — which
must be exactly what the sweep then does at that instant.

Default policy; 2026-11-02 and 2026-11-09 are Mondays, 2026-11-06 a Friday. The
business calendar is Mon-Fri 09:00-17:00 UTC."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest

CLOCK_KEYS = {"clock", "target", "calendar", "zone", "started_at", "worked", "paused", "warn_at",
              "due_at", "state", "status"}


def test_business_case_with_a_weekend_pause(esc):
    # SPEC §2: paused Friday 16:00 to Monday 10:00 moves the resolution due by two hours
    case = str(esc.doc("open", "Invoice wrong", "--customer", "Initech", "--priority", "medium",
                       now="2026-11-06T15:00:00Z")["id"])
    esc.ok("ack", case, now="2026-11-06T15:30:00Z")
    esc.ok("pending", case, "--reason", "need the PO number", now="2026-11-06T16:00:00Z")
    esc.ok("resume", case, now="2026-11-09T10:00:00Z")
    doc = esc.doc("explain", case, now="2026-11-09T12:00:00Z")
    assert doc["case"] == int(case)
    clocks = {c["clock"]: c for c in doc["clocks"]}
    assert list(clocks) == ["response", "update", "resolution"]
    assert all(CLOCK_KEYS <= set(c) for c in doc["clocks"])
    resolution = clocks["resolution"]
    assert (resolution["target"], resolution["calendar"], resolution["zone"]) == ("40h", "business", "UTC")
    assert (resolution["state"], resolution["status"]) == ("running", "ok")
    assert resolution["paused"] == [{"from": "2026-11-06T16:00:00Z", "to": "2026-11-09T10:00:00Z"}]
    # 40h of opening hours: Fri 15-16 (1h), Mon 10-17 (7h), Tue-Thu (24h), Fri 13th 09-17
    # (8h); without the pause it would have been due Fri 13th 15:00
    assert resolution["worked"] == [
        {"from": "2026-11-06T15:00:00Z", "to": "2026-11-06T16:00:00Z"},
        {"from": "2026-11-09T10:00:00Z", "to": "2026-11-09T17:00:00Z"},
        {"from": "2026-11-10T09:00:00Z", "to": "2026-11-10T17:00:00Z"},
        {"from": "2026-11-11T09:00:00Z", "to": "2026-11-11T17:00:00Z"},
        {"from": "2026-11-12T09:00:00Z", "to": "2026-11-12T17:00:00Z"},
        {"from": "2026-11-13T09:00:00Z", "to": "2026-11-13T17:00:00Z"},
    ]
    assert resolution["due_at"] == "2026-11-13T17:00:00Z"
    # warn at 32h: Fri 1h + Mon 7h + Tue-Thu 24h -> Thu 17:00
    assert resolution["warn_at"] == "2026-11-12T17:00:00Z"
    response = clocks["response"]
    assert (response["state"], response["status"], response["stopped_at"]) == (
        "stopped", "met", "2026-11-06T15:30:00Z")
    assert response["worked"] == [{"from": "2026-11-06T15:00:00Z", "to": "2026-11-06T15:30:00Z"}]
    # the update clock restarted at resume: 16h of opening hours from Mon 10:00 -> Wed 10:00,
    # warn at 12h48m -> Tue 14:48
    update = clocks["update"]
    assert (update["started_at"], update["due_at"], update["warn_at"]) == (
        "2026-11-09T10:00:00Z", "2026-11-11T10:00:00Z", "2026-11-10T14:48:00Z")
    assert doc["next"] == {"action": "warn", "at": "2026-11-10T14:48:00Z", "tier": None,
                           "clock": "update"}


def test_predicted_next_action_is_what_the_sweep_does(esc):
    """Jump from prediction to prediction: at each `next.at` the sweep takes exactly the
    predicted action, then the case climbs to the top tier and nothing is left."""
    case = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                       now="2026-11-02T10:00:00Z")["id"])
    esc.ok("ack", case, now="2026-11-02T10:05:00Z")
    seen = []
    now = "2026-11-02T10:05:00Z"
    for _ in range(12):
        upcoming = esc.doc("explain", case, now=now)["next"]
        if upcoming is None:
            break
        now = upcoming["at"]
        result = esc.doc("sweep", now=now)
        action, clock, tier = upcoming["action"], upcoming["clock"], upcoming["tier"]
        seen.append((now[11:16], action, clock, tier))
        if action == "warn":
            assert result["warned"] == [{"case": int(case), "clock": clock}]
        elif action == "breach":
            assert result["breached"] == [{"case": int(case), "clock": clock}]
            assert result["escalated"] == []
        elif action == "escalate":
            assert [(e["case"], e["to"]) for e in result["escalated"]] == [(int(case), tier)]
    assert seen == [
        ("10:53", "warn", "update", None),          # 0.8 x 1h after the ack at 10:05
        ("11:05", "breach", "update", None),        # update breaches: recorded, no climb
        ("13:12", "warn", "resolution", None),      # 0.8 x 4h
        ("14:00", "escalate", "resolution", 2),
        ("18:00", "escalate", "stale", 3),          # idle at tier 2 since 14:00 for 4h
        ("22:00", "escalate", "stale", 4),          # tier 4 is the top: the climb stops
    ]
    final = esc.doc("explain", case, now=now)
    assert final["tier"] == 4 and final["next"] is None
    assert esc.doc("sweep", now="2026-11-09T10:00:00Z")["escalated"] == []


def test_a_clock_past_its_warning_and_its_due_unswept_is_next_breached_not_warned(esc):
    # explain said "Next: warn at 10:12" at 10:20, when the sweep breaches and escalates
    # a clock it first sees already past due (SPEC 3.1) and never warns it
    case = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent",
                       now="2026-11-02T10:00:00Z")["id"])
    before = esc.doc("explain", case, now="2026-11-02T10:13:00Z")["next"]
    assert (before["action"], before["at"]) == ("warn", "2026-11-02T10:12:00Z")  # not due yet
    after = esc.doc("explain", case, now="2026-11-02T10:20:00Z")["next"]
    assert (after["action"], after["clock"], after["tier"]) == ("escalate", "response", 2)
    swept = esc.doc("sweep", now="2026-11-02T10:20:00Z")
    assert swept["warned"] == [] and [e["to"] for e in swept["escalated"]] == [2]


def test_resolved_case_predicts_its_close(esc):
    case = str(esc.doc("open", "x", "--customer", "a", "--priority", "low")["id"])
    esc.ok("resolve", case, "--resolution", "done", now="2026-11-02T11:00:00Z")
    upcoming = esc.doc("explain", case, now="2026-11-02T11:00:00Z")["next"]
    assert (upcoming["action"], upcoming["at"]) == ("close", "2026-11-09T11:00:00Z")
    assert esc.doc("sweep", now=upcoming["at"])["closed"] == [{"case": int(case)}]
    closed = esc.doc("explain", case, now=upcoming["at"])
    assert closed["next"] is None and closed["state"] == "closed"


def test_pending_case_has_frozen_clocks_and_nothing_next(esc):
    case = str(esc.doc("open", "x", "--customer", "a", "--priority", "high")["id"])
    esc.ok("ack", case, now="2026-11-02T10:10:00Z")
    esc.ok("pending", case, "--reason", "waiting", now="2026-11-02T10:20:00Z")
    doc = esc.doc("explain", case, now="2026-11-05T10:00:00Z")
    assert doc["next"] is None
    states = {c["clock"]: (c["state"], c["status"]) for c in doc["clocks"]}
    assert states == {"response": ("stopped", "met"), "update": ("frozen", "ok"),
                      "resolution": ("frozen", "ok")}
    resolution = next(c for c in doc["clocks"] if c["clock"] == "resolution")
    assert resolution["paused"] == [{"from": "2026-11-02T10:20:00Z", "to": None}]
    plain = esc.ok("explain", case, now="2026-11-05T10:00:00Z").out
    assert "Next: nothing; its clocks are paused while it waits on the customer" in plain


def test_a_stopped_clock_shows_no_pause_past_its_stop(esc):
    """The resolution clock pauses while a case is resolved (a reopen moves its due time),
    but once stopped that is its stop: a resolved case showed "paused since" its
    resolution, "frozen until the case resumes"; one resolved straight from pending
    showed its wait as never ending, and "met with 2h to spare" for a stop 2h past due."""
    plain = str(esc.doc("open", "x", "--customer", "a", "--priority", "urgent",
                        now="2026-11-02T00:00:00Z")["id"])
    esc.ok("resolve", plain, "--resolution", "done", now="2026-11-02T02:00:00Z")
    waited = str(esc.doc("open", "y", "--customer", "a", "--priority", "urgent",
                         now="2026-11-02T00:00:00Z")["id"])
    esc.ok("ack", waited, now="2026-11-02T00:05:00Z")
    esc.ok("pending", waited, "--reason", "asked for logs", now="2026-11-02T01:00:00Z")
    esc.ok("resolve", waited, "--resolution", "fixed", now="2026-11-02T06:00:00Z")

    def resolution(case):
        doc = esc.doc("explain", case, now="2026-11-02T07:00:00Z")
        return next(c for c in doc["clocks"] if c["clock"] == "resolution")

    assert resolution(plain)["paused"] == []
    assert resolution(waited)["paused"] == [
        {"from": "2026-11-02T01:00:00Z", "to": "2026-11-02T06:00:00Z"}]
    assert resolution(waited)["status"] == "met"
    text = esc.ok("explain", waited, now="2026-11-02T07:00:00Z").out
    assert "frozen until" not in text and "to spare" not in text.split("resolution:")[1]
    assert "resolution: target 4h on the 24x7 calendar (UTC) — met (pending not counted)" in text
    assert "  paused    Mon 02 Nov 01:00–06:00 UTC (until it stopped)" in text
    assert "frozen until" not in esc.ok("explain", plain, now="2026-11-02T07:00:00Z").out


def test_plain_explanation_reads_well(esc):
    esc.tz = "Europe/Berlin"
    case = str(esc.doc("open", "VPN \x1b[31mdown", "--customer", "a", "--priority", "medium",
                       now="2026-11-02T15:00:00Z")["id"])
    text = esc.ok("explain", case, now="2026-11-02T16:00:00Z").out
    lines = text.splitlines()
    assert lines[0] == f"#{case} VPN down"  # the escape sequence is removed
    assert "response: target 4h on the business calendar (UTC) — ok, due in 19h" in lines
    # spans are shown in the calendar's zone, and in the display zone next to them
    assert "  worked    Mon 02 Nov 15:00–16:00 UTC  (Mon 02 Nov 16:00–17:00 CET)" in lines
    assert "  ahead     Mon 02 Nov 16:00–17:00 UTC  (Mon 02 Nov 17:00–18:00 CET)" in lines
    assert "  ahead     Tue 03 Nov 09:00–11:00 UTC  (Tue 03 Nov 10:00–12:00 CET)" in lines
    assert "  due at    Tue 03 Nov 2026 12:00 CET" in lines
    # respond 4h: Mon 15-17 + Tue 09-11 -> Tue 11:00 UTC; warn at 3h12m -> Tue 10:12 UTC
    assert "Next: warn at Tue 03 Nov 2026 11:12 CET (response SLA at risk; in 18h 12m)" in lines


def test_span_in_the_same_zone_is_said_once(esc):
    # the calendar's UTC and a display zone of Etc/UTC (a system's default) read alike
    esc.tz = "Etc/UTC"
    case = str(esc.doc("open", "x", "--customer", "a", "--priority", "urgent",
                       now="2026-12-05T21:32:00Z")["id"])
    lines = esc.ok("explain", case, now="2026-12-06T03:21:00Z").out.splitlines()
    worked = [line for line in lines if line.startswith("  worked ")]
    assert worked and all("(" not in line for line in worked), worked
    assert "  worked    Sat 05 Dec 21:32–21:47 UTC" in lines


@dataclass
class _Env:
    now: int
    tz: str = "UTC"
    stdout_tty: bool = True
    no_color: bool = True


def test_terminal_view_names_the_escalation(esc):
    from rich.console import Console

    from esc_cli.render import explain as ops
    from esc_cli.render.output import Output, parse_iso

    case = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "urgent")["id"])
    esc.ok("sweep", now="2026-11-02T10:15:00Z")  # response breached: tier 2
    esc.ok("sweep", now="2026-11-02T13:12:00Z")  # resolution at risk (0.8 x 4h)
    doc = esc.doc("explain", case, now="2026-11-02T13:30:00Z")
    out = Output(_Env(parse_iso("2026-11-02T13:30:00Z")))
    buffer = io.StringIO()
    out._console = Console(file=buffer, width=100, no_color=True, record=True)
    ops.explain(out, doc)
    screen = buffer.getvalue()
    assert "response: target 15m on the 24x7 calendar (UTC) — BREACHED 3h 15m ago" in screen
    assert "resolution: target 4h on the 24x7 calendar (UTC) — AT RISK, due in 30m" in screen
    assert "urgent · new · tier 2 Specialist · unassigned · policy v1" in screen
    # resolution due 14:00: the next climb is to tier 3
    assert ("Next: escalate to tier 3 at Mon 02 Nov 2026 14:00 UTC (Manager, resolution SLA "
            "breach; in 30m)") in screen


@pytest.mark.parametrize("width", [60, 80, 120])
def test_spans_in_two_zones_fit_the_terminal(esc, width):
    from rich.console import Console

    from esc_cli.render import explain as ops
    from esc_cli.render.output import Output, parse_iso

    case = str(esc.doc("open", "Checkout down", "--customer", "Globex", "--priority", "high",
                       now="2026-11-01T20:00:00Z")["id"])
    now = "2026-11-02T03:00:00Z"  # the 24x7 spans run over midnight: "Sun … → Mon …"
    doc = esc.doc("explain", case, now=now)
    out = Output(_Env(parse_iso(now), tz="America/New_York"))
    buffer = io.StringIO()
    out._console = Console(file=buffer, width=width, no_color=True)
    ops.explain(out, doc)
    lines = buffer.getvalue().splitlines()
    assert all(len(line) <= width for line in lines), [line for line in lines if len(line) > width]
    at = lines.index("  worked    Sun 01 Nov 20:00 UTC → Mon 02 Nov 03:00 UTC" if width < 100 else
                     "  worked    Sun 01 Nov 20:00 UTC → Mon 02 Nov 03:00 UTC  "
                     "(Sun 01 Nov 15:00–22:00 EST)")
    if width < 100:
        assert lines[at + 1] == "            (Sun 01 Nov 15:00–22:00 EST)"


def test_unknown_and_bad_ids(esc):
    assert esc("explain", "99").code == 3
    assert esc("explain", "abc").code == 2
