"""`esc queue` (SPEC §4): every filter and sort, against hand-placed cases."""

from __future__ import annotations

import pytest

NOW = "2026-11-02T10:00:00Z"  # Monday


@pytest.fixture
def board(esc):
    """Six cases around 10:00 on Monday (24x7 unless said):
    1 high, opened Sun 12:00, acked 12:30: update due Mon 12:30, at risk since 07:42
    2 urgent, opened 09:50: respond by 10:05, warns at 10:02: fine at 10:00
    3 high, opened 08:00: respond by 09:00, breached 1h
    4 urgent, opened 09:00: respond by 09:15, breached 45m
    5 high, opened 09:55, pending since 09:57
    6 low (business), opened 09:00: respond by 17:00
    """
    esc.ok("owner", "add", "bob", "--tier", "2")
    esc.ok("owner", "add", "alice")

    def open_(priority, at, *extra):
        return esc.doc("open", f"{priority} case", "--customer", "Globex", "--priority", priority,
                       *extra, now=at)["id"]

    open_("high", "2026-11-01T12:00:00Z", "--owner", "bob", "--team", "billing")
    esc.ok("ack", "1", now="2026-11-01T12:30:00Z")
    open_("urgent", "2026-11-02T09:50:00Z", "--category", "billing")
    open_("high", "2026-11-02T08:00:00Z", "--tier", "2", "--owner", "alice")
    open_("urgent", "2026-11-02T09:00:00Z")
    open_("high", "2026-11-02T09:55:00Z", "--team", "billing")
    esc.ok("ack", "5", now="2026-11-02T09:56:00Z")
    esc.ok("pending", "5", "--reason", "logs", now="2026-11-02T09:57:00Z")
    open_("low", "2026-11-02T09:00:00Z")
    esc.now = NOW
    return esc


def ids(esc, *args):
    return [doc["id"] for doc in esc.doc("queue", *args)]


def test_sorts(board):
    # urgency: breached (most overdue first), at risk, earliest due; pending last
    assert ids(board) == [3, 4, 1, 2, 6, 5]
    assert ids(board, "--sort", "urgency") == [3, 4, 1, 2, 6, 5]
    assert ids(board, "--sort", "due") == [3, 4, 2, 1, 6, 5]
    assert ids(board, "--sort", "age") == [1, 3, 4, 6, 2, 5]
    assert ids(board, "--sort", "id") == [1, 2, 3, 4, 5, 6]


def test_status_lists_in_the_queue(board):
    docs = {d["id"]: d for d in board.doc("queue")}
    assert docs[3]["breached"] == ["response"] and docs[4]["breached"] == ["response"]
    assert docs[1]["at_risk"] == ["update"] and docs[1]["breached"] == []
    assert docs[2]["at_risk"] == [] and docs[5]["at_risk"] == docs[5]["breached"] == []


def test_filters(board):
    assert ids(board, "--breached") == [3, 4]
    assert ids(board, "--at-risk") == [1]
    assert ids(board, "--owner", "bob") == [1]
    assert ids(board, "--owner", "me") == [3]  # acting as alice
    assert ids(board, "--unassigned") == [4, 2, 6, 5]
    assert ids(board, "--team", "billing") == [1, 5]
    assert ids(board, "--tier", "2") == [3]
    assert ids(board, "--priority", "p1") == [4, 2]
    assert ids(board, "--priority", "high", "--sort", "id") == [1, 3, 5]
    assert ids(board, "--category", "billing") == [2]
    assert ids(board, "--state", "pending") == [5]
    assert ids(board, "--limit", "2") == [3, 4]
    assert ids(board, "--unassigned", "--priority", "urgent") == [4, 2]


def test_state_filter_and_limit_zero(board):
    board.ok("resolve", "6", "--resolution", "done")
    board.ok("resolve", "2", "--resolution", "done")
    board.ok("close", "2")
    assert ids(board) == [3, 4, 1, 5]
    assert ids(board, "--state", "resolved") == [6]
    assert ids(board, "--state", "resolved,closed", "--sort", "id") == [2, 6]
    assert ids(board, "--state", "resolved", "--state", "closed", "--sort", "id") == [2, 6]
    for n in range(7, 60):
        board.ok("open", f"bulk {n}", "--customer", "c", "--priority", "low")
    assert len(board.doc("queue")) == 50
    assert len(board.doc("queue", "--limit", "0")) == 57


@pytest.mark.parametrize("args", [("--tier", "9"), ("--sort", "fastest"), ("--state", "done"),
                                  ("--limit", "-1"), ("--priority", "p9"), ("--tier", "x"),
                                  ("--category", "bogus")])
def test_bad_filters_exit_2(board, args):
    result = board("queue", *args)
    assert result.code == 2 and result.err.startswith("error:") and result.out == ""


def test_filters_naming_nothing_are_mistakes_not_empty_lists(board):
    """A category outside the policy is an invalid value (2); an owner or team that
    does not exist is not found (3): a lead who mistyped a handle must not read an
    empty queue as "nothing to do" (docs/leads.md)."""
    def refused(*args):
        result = board("queue", *args)
        assert result.out == "" and len(result.err.splitlines()) == 1
        return result.code, result.err

    assert refused("--category", "bogus") == (2, "error: unknown category 'bogus' (use "
                                              "technical, billing, service-delay, policy, "
                                              "product-quality, other)\n")
    assert refused("--owner", "nobody") == (3, "error: no owner 'nobody' (esc owner list "
                                            "shows them)\n")
    assert refused("--owner", "me", "--as", "carol") == (
        3, "error: you (carol) are not an owner (esc owner list shows them)\n")
    assert refused("--team", "x") == (3, "error: no team 'x': no owner, case or policy names "
                                      "it (esc owner list shows the owners' teams)\n")
    # a team a case carries, one an owner names, and any letter case of a category
    assert ids(board, "--team", "billing") == [1, 5]
    board.ok("owner", "add", "dave", "--team", "network")
    assert ids(board, "--team", "network") == []
    assert ids(board, "--category", "BILLING") == [2]
    # a known owner with nothing open (deactivated owners are known too)
    board.ok("owner", "add", "erin")
    board.ok("owner", "deactivate", "erin")
    assert ids(board, "--owner", "erin") == []


def test_empty_queue_on_a_terminal_and_in_a_pipe(esc):
    from tests.test_output import on_terminal

    assert esc.ok("queue").out.startswith("id\t")
    code, out, _ = on_terminal(esc, "queue")
    assert code == 0 and "the queue is empty" in out
    assert esc.doc("queue") == []
