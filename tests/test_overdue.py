"""`esc overdue`: breached and at-risk cases, one row per case by its worst clock.

Default policy; 2026-11-02 is a Monday. Urgent respond 15m, high respond 1h (24x7);
medium respond 4h on the business calendar (09:00-17:00 UTC); warn at 80%."""

from __future__ import annotations

import pytest

NOW = "2026-11-02T12:00:00Z"


def open_case(esc, priority, now, *extra) -> int:
    return esc.doc("open", f"{priority} case", "--customer", "Globex", "--priority", priority,
                   *extra, now=now)["id"]


@pytest.fixture
def board(esc):
    esc.ok("owner", "add", "bob", "--tier", "2")
    cases = {
        # response due 10:15: 1h45m overdue at 12:00
        "urgent": open_case(esc, "urgent", "2026-11-02T10:00:00Z"),
        # response due 11:00: 1h overdue
        "high": open_case(esc, "high", "2026-11-02T10:00:00Z", "--tier", "2", "--team", "web",
                          "--owner", "bob"),
        # response due 12:05, warn 11:53: at risk
        "risky": open_case(esc, "high", "2026-11-02T11:05:00Z"),
        # response due 14:00 (4h of opening hours), warn 13:12: fine, unless --within 2h
        "medium": open_case(esc, "medium", "2026-11-02T10:00:00Z", "--team", "web"),
        # waiting on the customer: never overdue
        "pending": open_case(esc, "high", "2026-11-02T09:00:00Z"),
        "resolved": open_case(esc, "urgent", "2026-11-02T09:00:00Z"),
    }
    esc.ok("ack", str(cases["pending"]), now="2026-11-02T09:10:00Z")
    esc.ok("pending", str(cases["pending"]), "--reason", "logs", now="2026-11-02T09:20:00Z")
    esc.ok("resolve", str(cases["resolved"]), "--resolution", "x", now="2026-11-02T09:30:00Z")
    return cases


def test_worst_first_with_clock_and_amount(esc, board):
    docs = esc.doc("overdue", now=NOW)
    assert [d["id"] for d in docs] == [board["urgent"], board["high"], board["risky"]]
    rows = [(d["clock"], d["clock_status"], d["clock_due"], d["overdue_by"], d["due_in"])
            for d in docs]
    assert rows == [
        ("response", "breached", "2026-11-02T10:15:00Z", 6300, None),
        ("response", "breached", "2026-11-02T11:00:00Z", 3600, None),
        ("response", "at_risk", "2026-11-02T12:05:00Z", None, 300),
    ]
    # case objects, as the queue has them
    assert docs[1]["tier"] == 2 and docs[1]["owner"] == "bob" and docs[1]["breached"] == ["response"]
    assert docs[2]["at_risk"] == ["response"]

    # --within adds what falls due in that span
    docs = esc.doc("overdue", "--within", "2h", now=NOW)
    assert [d["id"] for d in docs] == [board["urgent"], board["high"], board["risky"],
                                       board["medium"]]
    assert (docs[-1]["clock_status"], docs[-1]["due_in"]) == ("due_soon", 7200)
    assert [d["id"] for d in esc.doc("overdue", "--within", "1h59m", now=NOW)] == [
        board["urgent"], board["high"], board["risky"]]

    # filters
    assert [d["id"] for d in esc.doc("overdue", "--tier", "2", now=NOW)] == [board["high"]]
    assert [d["id"] for d in esc.doc("overdue", "--team", "web", "--within", "2h", now=NOW)] == [
        board["high"], board["medium"]]
    # a team nothing names is a mistake (exit 3); one an owner names may have nothing due
    missing = esc("overdue", "--team", "billing", now=NOW)
    assert (missing.code, missing.err) == (3, "error: no team 'billing': no owner, case or "
                                           "policy names it (esc owner list shows the "
                                           "owners' teams)\n")
    esc.ok("owner", "add", "bill", "--team", "billing", now=NOW)
    assert esc.doc("overdue", "--team", "billing", now=NOW) == []

    # in a pipe: a table with a header row
    lines = esc.ok("overdue", now=NOW).out.splitlines()
    assert lines[0].split("\t") == ["id", "priority", "state", "tier", "owner", "team", "clock",
                                    "status", "due_at", "overdue_by", "customer", "title"]
    assert lines[1].split("\t")[:10] == [str(board["urgent"]), "urgent", "new", "1", "", "",
                                         "response", "breached", "2026-11-02T10:15:00Z", "6300"]
    assert len(lines) == 4


def test_bad_values_exit_2(esc):
    for args in (("--within", "soon"), ("--tier", "9")):
        result = esc("overdue", *args)
        assert result.code == 2 and result.err.startswith("error:"), args


def test_a_case_is_listed_by_its_worst_clock_not_its_earliest(esc):
    case = str(open_case(esc, "high", "2026-11-02T10:00:00Z"))
    esc.ok("ack", case, now="2026-11-02T10:05:00Z")
    esc.ok("note", case, "on it", "--customer", now="2026-11-03T09:00:00Z")
    # at Wed 01:00: update (24h from Tue 09:00) is due first, Wed 09:00, and warns only
    # at 19h12m, Wed 04:12; resolution (48h from Mon 10:00, due Wed 10:00) passed its
    # warn at 38h24m, Wed 00:24
    [doc] = esc.doc("overdue", now="2026-11-04T01:00:00Z")
    assert doc["due_at"] == "2026-11-04T09:00:00Z"
    assert (doc["clock"], doc["clock_status"], doc["clock_due"]) == (
        "resolution", "at_risk", "2026-11-04T10:00:00Z")


def test_nothing_overdue(esc):
    assert esc.doc("overdue") == []
    assert esc.ok("overdue").out.splitlines() == [
        "id\tpriority\tstate\ttier\towner\tteam\tclock\tstatus\tdue_at\toverdue_by\tcustomer\ttitle"]
