"""Two reads of one snapshot at once, on the two connections a store's read_pair gives
(esc report's halves; esc doctor's search check beside its chain and due-time checks),
and waiting on another thread so that a Ctrl-C is seen at once."""

from __future__ import annotations

import sqlite3


def both(conn: sqlite3.Connection, second: sqlite3.Connection | None, mine, theirs):
    """(mine(conn), theirs(second)), theirs in another thread: the sqlite3 module lets
    go of the GIL while SQLite runs a statement (psycopg2 while it waits for the
    server, whose two backends then run at once), so two connections use two cores.
    Without a second connection, both run here on conn."""
    if second is None:
        return mine(conn), theirs(conn)
    import threading

    outcome: dict = {}
    # waited on rather than joined: in Python 3.11 a Ctrl-C inside Thread.join can leave
    # the thread marked ended while it still runs (pg_bulk.Sender met it)
    finished = threading.Event()

    def run() -> None:
        try:
            outcome["value"] = theirs(second)
        except BaseException as err:  # re-raised in the calling thread
            outcome["error"] = err
        finally:
            finished.set()

    helper = threading.Thread(target=run, name="esc-second-reader", daemon=True)
    helper.start()
    try:
        own = mine(conn)
    except BaseException:
        second.interrupt()  # Ctrl-C or an error here: do not wait for its statement
        raise
    finally:
        try:
            wait_interruptibly(finished)
        except BaseException:  # Ctrl-C while waiting for its statement: cancel it first
            second.interrupt()
            finished.wait()
            raise
    if "error" in outcome:
        raise outcome["error"]
    return own, outcome["value"]


def captured(work):
    """`work(conn)` as a reader for `both` that never raises: it returns a function
    that gives work's result or raises its error, for a check run early on the second
    connection and reported in its turn."""

    def read(conn):
        try:
            value = work(conn)
        except Exception as err:  # raised again when the result is asked for
            error = err

            def again():
                raise error

            return again
        return lambda: value

    return read


def wait_interruptibly(event) -> None:
    """event.wait(), in slices: CPython runs a signal's handler between bytecodes, so a
    Ctrl-C that lands just as a blocking wait begins is not seen until the wait ends (a
    test met it: the import then waited for its last batches before stopping)."""
    while not event.wait(0.05):
        pass
