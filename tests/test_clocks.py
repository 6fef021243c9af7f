"""SLA clocks of SPEC §2 through the CLI, with due times computed by hand.

Default policy: medium and low run on the business calendar (Mon-Fri 09:00-17:00 UTC),
urgent and high on 24x7. Targets: urgent 15m/1h/4h, high 1h/24h/48h, medium 4h/16h/40h,
low 8h/-/80h (respond/update/resolve); warn_at 0.8.
"""

from __future__ import annotations

import tomllib

import pytest

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy


def open_case(esc, priority: str, now: str, *extra) -> str:
    return str(esc.doc("open", "VPN down", "--customer", "Initech", "--priority", priority,
                       *extra, now=now)["id"])


def clocks(doc) -> tuple:
    return doc["respond_by"], doc["update_by"], doc["resolve_by"]


def load_policy(esc, tmp_path, change=None, *flags, name="policy.toml"):
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    if change:
        change(doc)
    path = tmp_path / name
    path.write_text(dump_policy(doc))
    return esc.ok("policy", "load", str(path), *flags)


# -- business calendar: the Friday-afternoon medium case ---------------------------

def test_friday_afternoon_medium_case(esc):
    # 2026-11-06 is a Friday. Opened 15:00.
    case = open_case(esc, "medium", "2026-11-06T15:00:00Z")
    doc = esc.doc("show", case, now="2026-11-06T15:00:00Z")
    # respond 4h: Fri 15:00-17:00 = 2h, then Mon 09:00 + 2h = Mon 11:00
    assert doc["respond_by"] == "2026-11-09T11:00:00Z"
    # resolve 40h: Fri 2h + Mon..Thu 4 x 8h = 34h, then Fri 13th 09:00 + 6h = 15:00
    assert doc["resolve_by"] == "2026-11-13T15:00:00Z"
    # no first response yet: the update clock has not started
    assert doc["update_by"] is None
    by_name = {c["clock"]: c for c in doc["clocks"]}
    # warn at 0.8: respond 3h12m = Fri 2h + Mon 1h12m -> Mon 10:12;
    # resolve 32h = Fri 2h + Mon..Wed 24h + Thu 6h -> Thu 15:00
    assert by_name["response"]["warn_at"] == "2026-11-09T10:12:00Z"
    assert by_name["resolution"]["warn_at"] == "2026-11-12T15:00:00Z"
    assert by_name["resolution"]["target"] == "40h"  # business hours, never "1d16h"

    # the weekend does not count: at Mon 10:11 nothing is at risk yet, at 10:12 response is
    assert esc.doc("show", case, now="2026-11-09T10:11:00Z")["at_risk"] == []
    late = esc.doc("show", case, now="2026-11-09T10:12:00Z")
    assert (late["at_risk"], late["breached"]) == (["response"], [])
    late = esc.doc("show", case, now="2026-11-09T11:00:00Z")
    assert (late["at_risk"], late["breached"]) == ([], ["response"])

    # ack Mon 09:30 starts the update clock: 16h = Mon 09:30-17:00 7h30m + Tue 8h + Wed 30m
    doc = esc.doc("ack", case, now="2026-11-09T09:30:00Z")
    assert doc["acknowledged_at"] == "2026-11-09T09:30:00Z"
    assert doc["update_by"] == "2026-11-11T09:30:00Z"
    assert doc["missed"] == []


def test_low_priority_has_no_update_clock(esc):
    case = open_case(esc, "low", "2026-11-02T09:00:00Z")
    doc = esc.doc("ack", case, now="2026-11-02T09:10:00Z")
    # respond 8h: Mon 09:00 -> 17:00; resolve 80h = two full weeks of 40h -> Fri 13th 17:00
    assert doc["respond_by"] == "2026-11-02T17:00:00Z"
    assert doc["resolve_by"] == "2026-11-13T17:00:00Z"
    assert doc["update_by"] is None


def test_urgent_runs_around_the_clock(esc):
    # Saturday night: 24x7 ignores the weekend.
    case = open_case(esc, "urgent", "2026-11-07T22:00:00Z")
    doc = esc.doc("show", case, now="2026-11-07T22:00:00Z")
    assert clocks(doc) == ("2026-11-07T22:15:00Z", None, "2026-11-08T02:00:00Z")
    # ack 22:10: update 1h -> 23:10
    doc = esc.doc("ack", case, now="2026-11-07T22:10:00Z")
    assert clocks(doc) == ("2026-11-07T22:15:00Z", "2026-11-07T23:10:00Z", "2026-11-08T02:00:00Z")
    # an internal note does not restart the update clock, a customer one does
    assert esc.doc("note", case, "looking", now="2026-11-07T22:20:00Z")["update_by"] == "2026-11-07T23:10:00Z"
    doc = esc.doc("note", case, "rebooting", "--customer", now="2026-11-07T22:40:00Z")
    assert doc["update_by"] == "2026-11-07T23:40:00Z"
    # pending 23:00: update stops (null), resolution frozen
    doc = esc.doc("pending", case, "--reason", "waiting for logs", now="2026-11-07T23:00:00Z")
    assert doc["update_by"] is None and doc["paused_since"] == "2026-11-07T23:00:00Z"
    assert doc["resolve_by"] == "2026-11-08T02:00:00Z"
    # resume 23:30: update restarts -> 00:30; resolution moves 30m later -> 02:30
    doc = esc.doc("resume", case, now="2026-11-07T23:30:00Z")
    assert doc["paused_since"] is None
    assert clocks(doc) == ("2026-11-07T22:15:00Z", "2026-11-08T00:30:00Z", "2026-11-08T02:30:00Z")
    # resolved 00:20: the update clock stops (before its due time: not missed)
    doc = esc.doc("resolve", case, "--resolution", "fixed", now="2026-11-08T00:20:00Z")
    assert doc["update_by"] is None and doc["resolved_at"] == "2026-11-08T00:20:00Z"
    assert doc["missed"] == []
    # reopen 00:40: update restarts -> 01:40; 20m resolved time does not count -> 02:50
    doc = esc.doc("reopen", case, "--reason", "back", now="2026-11-08T00:40:00Z")
    assert doc["resolved_at"] is None and doc["reopened"] == 1
    assert clocks(doc) == ("2026-11-07T22:15:00Z", "2026-11-08T01:40:00Z", "2026-11-08T02:50:00Z")


def test_customer_note_on_a_new_case_is_the_first_response(esc):
    case = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    doc = esc.doc("note", case, "on it", "--customer", now="2026-11-02T10:05:00Z")
    assert doc["state"] == "open" and doc["acknowledged_at"] == "2026-11-02T10:05:00Z"
    assert doc["update_by"] == "2026-11-02T11:05:00Z"


def test_resolve_before_any_response_counts_as_the_response(esc):
    case = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    doc = esc.doc("resolve", case, "--resolution", "dup", now="2026-11-02T10:30:00Z")
    # respond_by was 10:15: the response came with the resolution, 15m late
    assert doc["acknowledged_at"] == "2026-11-02T10:30:00Z"
    assert doc["missed"] == ["response"] and doc["breached"] == []


def test_business_pause_over_the_weekend_moves_resolution_by_working_time(esc):
    # Opened Mon 2026-11-02 09:00: resolve 40h = Mon..Fri 8h each -> Fri 17:00.
    case = open_case(esc, "medium", "2026-11-02T09:00:00Z")
    esc.ok("ack", case, now="2026-11-02T09:30:00Z")
    doc = esc.doc("pending", case, "--reason", "customer away", now="2026-11-06T16:00:00Z")
    assert doc["resolve_by"] == "2026-11-06T17:00:00Z"
    # frozen while pending, even long after the due time: never at risk, never breached
    frozen = esc.doc("show", case, now="2026-11-09T09:59:00Z")
    assert (frozen["at_risk"], frozen["breached"]) == ([], [])
    assert frozen["paused_since"] == "2026-11-06T16:00:00Z"
    assert {c["clock"]: c["state"] for c in frozen["clocks"]}["resolution"] == "frozen"
    assert esc.doc("queue", "--breached", now="2026-11-09T09:59:00Z") == []
    # Paused Fri 16:00 -> Mon 10:00 = Fri 16-17 (1h) + Mon 09-10 (1h) = 2h of working time.
    doc = esc.doc("resume", case, now="2026-11-09T10:00:00Z")
    assert doc["resolve_by"] == "2026-11-09T11:00:00Z"  # Fri 17:00 + 2 working hours
    assert doc["breached"] == []
    assert esc.doc("show", case, now="2026-11-09T11:00:00Z")["breached"] == ["resolution"]


def test_missed_clocks(esc):
    # urgent: respond 15m, update 1h, resolve 4h on 24x7
    case = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    doc = esc.doc("ack", case, now="2026-11-02T10:20:00Z")  # 5m after respond_by
    assert doc["missed"] == ["response"] and doc["breached"] == []
    # update due 11:20; going pending at 11:30 stops it late
    doc = esc.doc("pending", case, "--reason", "r", now="2026-11-02T11:30:00Z")
    assert doc["missed"] == ["response", "update"]
    esc.ok("resume", case, now="2026-11-02T11:40:00Z")
    # resolve_by = 14:00 + 10m pause = 14:10; resolving at 14:30 misses it
    doc = esc.doc("resolve", case, "--resolution", "x", now="2026-11-02T14:30:00Z")
    assert doc["resolve_by"] == "2026-11-02T14:10:00Z"
    # the update clock restarted at 11:40 (due 12:40) and stopped at 14:30: missed too
    assert doc["missed"] == ["response", "update", "resolution"]
    shown = {c["clock"]: c for c in esc.doc("show", case, now="2026-11-02T15:00:00Z")["clocks"]}
    assert shown["resolution"]["status"] == "missed" and shown["response"]["status"] == "missed"


def test_breached_and_at_risk_are_disjoint_and_met_is_not_missed(esc):
    case = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    # respond warn = 0.8 x 15m = 12m -> 10:12
    doc = esc.doc("show", case, now="2026-11-02T10:12:00Z")
    assert (doc["at_risk"], doc["breached"]) == (["response"], [])
    doc = esc.doc("show", case, now="2026-11-02T10:15:00Z")
    assert (doc["at_risk"], doc["breached"]) == ([], ["response"])
    doc = esc.doc("ack", case, now="2026-11-02T10:14:00Z")
    assert (doc["at_risk"], doc["breached"], doc["missed"]) == ([], [], [])


# -- priority changes and policy versions -------------------------------------------

def test_set_priority_recomputes_from_opened_at(esc):
    case = open_case(esc, "medium", "2026-11-06T15:00:00Z")
    esc.ok("ack", case, now="2026-11-06T15:02:00Z")
    # raised to urgent at 15:05: 24x7 from opened_at 15:00 -> respond 15:15, resolve 19:00;
    # update 1h from the ack at 15:02 -> 16:02
    doc = esc.doc("set", case, "--priority", "urgent", now="2026-11-06T15:05:00Z")
    assert clocks(doc) == ("2026-11-06T15:15:00Z", "2026-11-06T16:02:00Z", "2026-11-06T19:00:00Z")
    event = esc.doc("show", case, now="2026-11-06T15:05:00Z")["events"][-1]
    assert (event["kind"], event["field"], event["from"], event["to"]) == (
        "changed", "priority", "medium", "urgent")
    # lowered to low: business calendar again, respond 8h = Fri 2h + Mon 6h -> Mon 15:00,
    # resolve 80h = Fri 2h + 9 days x 8h = 74h + 6h on Fri 20th -> 15:00
    doc = esc.doc("set", case, "--priority", "p4", now="2026-11-06T15:06:00Z")
    assert clocks(doc) == ("2026-11-09T15:00:00Z", None, "2026-11-20T15:00:00Z")


def test_set_priority_replays_pauses_in_the_new_calendar(esc):
    # high (24x7) opened Fri 15:00, pending Fri 16:00 -> Mon 10:00 (66h wall clock)
    case = open_case(esc, "high", "2026-11-06T15:00:00Z")
    esc.ok("ack", case, now="2026-11-06T15:10:00Z")
    esc.ok("pending", case, "--reason", "r", now="2026-11-06T16:00:00Z")
    doc = esc.doc("resume", case, now="2026-11-09T10:00:00Z")
    # 48h + 66h paused = 114h after Fri 15:00 -> Wed 11th 09:00
    assert doc["resolve_by"] == "2026-11-11T09:00:00Z"
    # as medium (business): the pause is worth 2 working hours; 40h + 2h from Fri 15:00:
    # Fri 2h + Mon..Thu 32h = 34h, then Fri 13th 09:00 + 8h -> 17:00
    doc = esc.doc("set", case, "--priority", "medium", now="2026-11-09T10:05:00Z")
    assert doc["resolve_by"] == "2026-11-13T17:00:00Z"


def test_policy_load_applies_to_new_cases_and_recompute_moves_unresolved_ones(esc, tmp_path):
    old = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    done = open_case(esc, "urgent", "2026-11-02T10:00:00Z")
    esc.ok("resolve", done, "--resolution", "x", now="2026-11-02T10:01:00Z")
    before = esc.doc("show", done)

    def faster(doc):
        doc["priorities"]["urgent"]["resolve"] = "2h"
        doc["priorities"]["urgent"]["respond"] = "10m"

    load_policy(esc, tmp_path, faster)
    assert esc.doc("show", old)["resolve_by"] == "2026-11-02T14:00:00Z"  # untouched
    new = open_case(esc, "urgent", "2026-11-02T10:30:00Z")
    assert clocks(esc.doc("show", new)) == ("2026-11-02T10:40:00Z", None, "2026-11-02T12:30:00Z")

    result = load_policy(esc, tmp_path, faster, "--recompute")
    # one unresolved case, two due times moved (respond 10:15 -> 10:10, resolve 14:00 -> 12:00)
    assert "2 due time(s) moved on 1 case(s)" in result.out
    assert clocks(esc.doc("show", old)) == ("2026-11-02T10:10:00Z", None, "2026-11-02T12:00:00Z")
    after = esc.doc("show", done)
    assert after == before  # resolved cases keep their due times


def test_policy_load_recompute_json(esc, tmp_path):
    open_case(esc, "high", "2026-11-02T10:00:00Z")
    path = tmp_path / "p.toml"
    doc = tomllib.loads(DEFAULT_POLICY_TOML)
    doc["priorities"]["high"]["resolve"] = "24h"
    path.write_text(dump_policy(doc))
    result = esc.doc("policy", "load", str(path), "--recompute")
    assert result["cases_moved"] == 1 and result["due_times_moved"] == 1
    assert result["recomputed"] is True


# -- DST: business calendars in America/New_York and Europe/Berlin ------------------

def zoned(zone):
    def change(doc):
        doc["calendars"]["business"]["timezone"] = zone
    return change


def sundays(zone):
    """A calendar open only on Sundays 00:00-06:00 local, so the switch night is worked."""
    def change(doc):
        doc["calendars"]["night"] = {"timezone": zone, "days": ["sun"], "hours": "00:00-06:00"}
        doc["priorities"]["low"]["calendar"] = "night"
        doc["priorities"]["low"]["respond"] = "5h"
        doc["priorities"]["low"]["resolve"] = "7h"
    return change


@pytest.mark.parametrize("zone,opened,respond_by,resolve_by", [
    # New York springs forward Sun 2026-03-08. Fri 03-06 15:00 EST = 20:00Z;
    # respond 4h: Fri 2h, Mon 09:00 EDT (13:00Z) + 2h = 15:00Z;
    # resolve 40h: Fri 2h + Mon..Thu 32h, Fri 03-13 09:00 EDT + 6h = 15:00 EDT = 19:00Z.
    ("America/New_York", "2026-03-06T20:00:00Z", "2026-03-09T15:00:00Z", "2026-03-13T19:00:00Z"),
    # ... and falls back Sun 2026-11-01. Fri 10-30 15:00 EDT = 19:00Z; Mon 11-02 11:00 EST = 16:00Z;
    # Fri 11-06 15:00 EST = 20:00Z.
    ("America/New_York", "2026-10-30T19:00:00Z", "2026-11-02T16:00:00Z", "2026-11-06T20:00:00Z"),
    # Berlin springs forward Sun 2026-03-29. Fri 03-27 15:00 CET = 14:00Z; Mon 11:00 CEST = 09:00Z;
    # Fri 04-03 15:00 CEST = 13:00Z.
    ("Europe/Berlin", "2026-03-27T14:00:00Z", "2026-03-30T09:00:00Z", "2026-04-03T13:00:00Z"),
    # ... and falls back Sun 2026-10-25. Fri 10-23 15:00 CEST = 13:00Z; Mon 11:00 CET = 10:00Z;
    # Fri 10-30 15:00 CET = 14:00Z.
    ("Europe/Berlin", "2026-10-23T13:00:00Z", "2026-10-26T10:00:00Z", "2026-10-30T14:00:00Z"),
])
def test_business_calendar_over_a_dst_weekend(esc, tmp_path, zone, opened, respond_by, resolve_by):
    load_policy(esc, tmp_path, zoned(zone))
    case = open_case(esc, "medium", opened)
    doc = esc.doc("show", case, now=opened)
    assert (doc["respond_by"], doc["resolve_by"]) == (respond_by, resolve_by)
    assert {c["clock"]: c["zone"] for c in doc["clocks"]}["resolution"] == zone


@pytest.mark.parametrize("zone,opened,respond_by,resolve_by", [
    # Sun 2026-03-08 New York: 00:00 EST (05:00Z) to 06:00 EDT (10:00Z) is 5 real hours.
    # respond 5h -> 10:00Z; resolve 7h -> 5h that night + 2h on Sun 03-15 from 00:00 EDT (04:00Z).
    ("America/New_York", "2026-03-08T05:00:00Z", "2026-03-08T10:00:00Z", "2026-03-15T06:00:00Z"),
    # Sun 2026-11-01 New York: 00:00 EDT (04:00Z) to 06:00 EST (11:00Z) is 7 real hours.
    ("America/New_York", "2026-11-01T04:00:00Z", "2026-11-01T09:00:00Z", "2026-11-01T11:00:00Z"),
    # Sun 2026-03-29 Berlin: 00:00 CET (23:00Z the day before) to 06:00 CEST (04:00Z): 5h.
    # resolve: + 2h on Sun 04-05 from 00:00 CEST (22:00Z on 04-04) -> 2026-04-05T00:00Z.
    ("Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29T04:00:00Z", "2026-04-05T00:00:00Z"),
    # Sun 2026-10-25 Berlin: 00:00 CEST (22:00Z on 10-24) to 06:00 CET (05:00Z): 7h.
    ("Europe/Berlin", "2026-10-24T22:00:00Z", "2026-10-25T03:00:00Z", "2026-10-25T05:00:00Z"),
])
def test_business_hours_across_the_switch_count_real_time(esc, tmp_path, zone, opened,
                                                          respond_by, resolve_by):
    load_policy(esc, tmp_path, sundays(zone))
    case = open_case(esc, "low", opened)
    doc = esc.doc("show", case, now=opened)
    assert (doc["respond_by"], doc["resolve_by"]) == (respond_by, resolve_by)


def test_pause_across_dst_in_new_york_moves_by_working_time(esc, tmp_path):
    load_policy(esc, tmp_path, zoned("America/New_York"))
    # Opened Mon 2026-03-02 09:00 EST (14:00Z): 40h -> Fri 03-06 17:00 EST (22:00Z).
    case = open_case(esc, "medium", "2026-03-02T14:00:00Z")
    esc.ok("ack", case, now="2026-03-02T14:30:00Z")
    assert esc.doc("show", case, now="2026-03-02T14:30:00Z")["resolve_by"] == "2026-03-06T22:00:00Z"
    # pending Fri 16:00 EST (21:00Z) -> Mon 10:00 EDT (14:00Z): 1h + 1h of working time
    esc.ok("pending", case, "--reason", "r", now="2026-03-06T21:00:00Z")
    doc = esc.doc("resume", case, now="2026-03-09T14:00:00Z")
    # Fri 17:00 EST + 2 working hours = Mon 03-09 11:00 EDT = 15:00Z
    assert doc["resolve_by"] == "2026-03-09T15:00:00Z"
