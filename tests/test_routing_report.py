"""The report's time to owner and unowned escalations on a hand-worked history, in
every format and under --by; and `esc oncall`."""

from __future__ import annotations

import csv
import io

import pytest

from tests.test_routing_service import policy


@pytest.fixture
def history(esc):
    esc.ok("owner", "add", "bob", "--tier", "2")
    esc.ok("owner", "add", "dana", "--tier", "3")

    def at(hhmm: str) -> str:
        return f"2026-11-02T{hhmm}:00Z"

    cases = [esc.doc("open", f"case {n}", "--customer", "Acme", "--priority", "high",
                     now=at("10:00"))["id"] for n in range(5)]
    c1, c2, c3, c4, c5 = cases
    # 1: escalated unowned at 10:00, bob takes it at 10:30: 1800 s
    esc.ok("escalate", str(c1), "--reason", "r", now=at("10:00"))
    esc.ok("assign", str(c1), "bob", now=at("10:30"))
    # 2: dana (tier 3) owns it and keeps it through the escalation: 0 s
    esc.ok("assign", str(c2), "dana", now=at("10:00"))
    esc.ok("escalate", str(c2), "--reason", "r", now=at("10:05"))
    # 3: escalated at 10:10, nobody ever takes it: unowned
    esc.ok("escalate", str(c3), "--reason", "r", now=at("10:10"))
    # 4: escalated at 10:10, escalated again at 10:20 before anyone took it: the first
    # escalation is neither timed nor unowned, the second is unowned
    esc.ok("escalate", str(c4), "--reason", "r", now=at("10:10"))
    esc.ok("escalate", str(c4), "--reason", "r", now=at("10:20"))
    # 5: escalated at 10:15, bob at 11:15: 3600 s
    esc.ok("escalate", str(c5), "--reason", "r", now=at("10:15"))
    esc.ok("assign", str(c5), "bob", now=at("11:15"))
    esc.now = at("12:00")
    return esc


WINDOW = ("--since", "2026-11-02", "--until", "2026-11-03")


def test_time_to_owner_and_unowned(history):
    doc = history.doc("report", *WINDOW)
    # delays 0, 1800, 3600: p50 is rank ceil(1.5) = 2 -> 1800, p90 rank ceil(2.7) = 3 -> 3600
    assert doc["time_to_owner"] == {"p50": 1800, "p90": 3600}
    assert doc["unowned"] == 2  # cases 3 and 4
    assert doc["by_priority"]["high"]["time_to_owner"] == {"p50": 1800, "p90": 3600}
    assert doc["by_priority"]["urgent"] == {**doc["by_priority"]["urgent"],
                                            "time_to_owner": {"p50": None, "p90": None}, "unowned": 0}
    assert doc["previous"]["time_to_owner"] == {"p50": None, "p90": None}
    assert doc["previous"]["unowned"] == 0


def test_an_owner_after_the_windows_end_is_unowned_in_it(history):
    doc = history.doc("report", "--since", "2026-11-02", "--until", "2026-11-02T11:00")
    # case 5's owner came at 11:15: unowned at 11:00; delays 0 and 1800
    assert doc["time_to_owner"] == {"p50": 0, "p90": 1800}
    assert doc["unowned"] == 3


def test_by_owner_and_every_format(history):
    by = {e["value"]: e for e in history.doc("report", *WINDOW, "--by", "owner")["by"]}
    # bob: 1800 and 3600 (p50 rank 1, p90 rank ceil(1.8) = 2); dana: 0; unowned ones have no owner
    assert by["bob"]["time_to_owner"] == {"p50": 1800, "p90": 3600} and by["bob"]["unowned"] == 0
    assert by["dana"]["time_to_owner"] == {"p50": 0, "p90": 0}
    assert by["(none)"]["unowned"] == 2 and by["(none)"]["time_to_owner"]["p50"] is None
    rows = list(csv.DictReader(io.StringIO(history.ok("report", *WINDOW, "--format", "csv").out)))
    assert (rows[0]["time_to_owner_p50"], rows[0]["time_to_owner_p90"], rows[0]["unowned"]) == \
        ("1800", "3600", "2")
    markdown = history.ok("report", *WINDOW, "--format", "markdown", "--by", "tier").out
    assert "| Time to owner p50 / p90 | 30m / 1h |" in markdown.replace("  ", " ")
    assert "Unowned" in markdown
    page = history.ok("report", *WINDOW, "--format", "html").out
    assert "Owner p50 / p90" in page and 'data-key="unowned" data-value="2"' in page
    plain = history.ok("report", *WINDOW).out
    assert "time_to_owner_p50\t1800" in plain and "unowned\t2" in plain


def test_oncall_shows_each_rotation_and_the_next_handoffs(esc, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text(policy(
        tier3='[tiers.3.oncall]\npeople = ["dana", "erin"]\nevery = "1w"\nhandoff = "mon 09:00"\n'
              'timezone = "Europe/Berlin"\nstart = "2026-10-26"\n',
        extra='\n[teams.billing.oncall]\npeople = ["bill"]\nhandoff = "08:00"\ntimezone = "UTC"\n'))
    esc.ok("policy", "load", str(path))
    for handle in ("dana", "erin"):
        esc.ok("owner", "add", handle, "--tier", "3")
    esc.ok("owner", "away", "erin", "--until", "2026-11-03T00:00")
    rows = esc.doc("oncall")  # Mon 2026-11-02 10:00Z = 11:00 Berlin: erin's week began at 09:00
    assert [r["scope"] for r in rows] == ["tier:3", "team:billing"]
    tier = rows[0]
    assert (tier["on_call"], tier["away_until"], tier["takes_cases"]) == ("erin", "2026-11-03T00:00:00Z", "dana")
    assert tier["until"] == "2026-11-09T08:00:00Z"
    assert [n["handle"] for n in tier["next"]] == ["dana", "erin", "dana"]
    # bill is on call but no owner: nobody takes cases; one person never hands over
    assert (rows[1]["on_call"], rows[1]["takes_cases"], rows[1]["next"]) == ("bill", None, [])
    # across the DST change: the week of 2026-10-19 (shift -1: people[-1 mod 2], erin)
    # ends Mon 10-26 09:00 CET = 08:00Z, 169 hours after it began at 09:00 CEST
    before = esc.doc("oncall", "--at", "2026-10-25T12:00:00Z")[0]
    assert (before["on_call"], before["until"]) == ("erin", "2026-10-26T08:00:00Z")
    assert esc("oncall", "--at", "soon").code == 2
    assert esc.ok("oncall").out.splitlines()[0].startswith("scope\ton_call\ttakes_cases")
