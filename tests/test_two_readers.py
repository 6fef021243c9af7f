"""two_readers.both: two reads at once on two connections, the second in a thread. An
error or a Ctrl-C on either side reaches the caller, and the other side's statement is
cancelled rather than waited for. Fake connections: this is about the threads."""

from __future__ import annotations

import threading

import pytest

from esc_cli.store.two_readers import both, captured


class FakeConnection:
    """A connection whose statement runs until interrupt() cancels it."""

    def __init__(self):
        self.cancelled = threading.Event()
        self.running = threading.Event()
        self.interrupts = 0

    def interrupt(self) -> None:
        self.interrupts += 1
        self.cancelled.set()

    def long_statement(self) -> str:
        self.running.set()
        if not self.cancelled.wait(10):
            return "finished"
        raise RuntimeError("canceling statement due to user request")


def test_each_side_reads_its_own_connection():
    first, second = FakeConnection(), FakeConnection()
    seen = both(first, second, lambda conn: ("mine", conn), lambda conn: ("theirs", conn))
    assert seen == (("mine", first), ("theirs", second))
    assert second.interrupts == 0


def test_without_a_second_connection_both_read_the_first():
    first = FakeConnection()
    assert both(first, None, lambda c: c, lambda c: c) == (first, first)


def test_an_error_on_this_side_cancels_the_other_and_is_raised():
    first, second = FakeConnection(), FakeConnection()

    def mine(conn):
        assert second.running.wait(5)
        raise ValueError("a chain could not be read")

    with pytest.raises(ValueError, match="chain"):
        both(first, second, mine, lambda conn: conn.long_statement())
    assert second.interrupts == 1  # cancelled, not waited for (10 s)


def test_a_ctrl_c_on_this_side_cancels_the_other_and_is_raised():
    first, second = FakeConnection(), FakeConnection()

    def mine(conn):
        assert second.running.wait(5)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        both(first, second, mine, lambda conn: conn.long_statement())
    assert second.interrupts == 1


def test_an_error_on_the_other_side_is_raised_here():
    first, second = FakeConnection(), FakeConnection()

    def theirs(conn):
        raise LookupError("case_search is missing")

    with pytest.raises(LookupError, match="case_search"):
        both(first, second, lambda conn: "done", theirs)


def test_captured_gives_the_result_or_the_error_when_asked():
    first, second = FakeConnection(), FakeConnection()
    own, found = both(first, second, lambda c: 1, captured(lambda c: ["row 7 differs"]))
    assert own == 1 and found() == ["row 7 differs"]

    def broken(conn):
        raise OSError("server closed the connection")

    own, found = both(first, second, lambda c: 2, captured(broken))
    assert own == 2
    with pytest.raises(OSError, match="closed"):
        found()
