#!/usr/bin/env python3
"""The SQL one esc command runs, each statement's time and its query plan.

  .venv/bin/python benchmarks/queryplans.py [--copy] -- --db STORE --now T queue --limit 50

Runs the command in-process with a trace callback on every SQLite connection esc
opens, then, on a read-only connection to the same store, times each distinct
SELECT again (best of --repeat, default 3) and prints `EXPLAIN QUERY PLAN` for it.
The statements are replayed in order on one connection in a transaction that is
rolled back, so a SELECT that reads a temporary table made earlier still runs. A plan line
with `SCAN cases` or `SCAN events` (no index) on a command's path is the first
thing to look at. --copy runs the command itself on a throwaway copy (for writes).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time


def capture(argv: list[str]) -> list[str]:
    """Statements the command executed, in order (with their parameters bound)."""
    statements: list[str] = []
    real_connect = sqlite3.connect

    def connect(*args, **kwargs):
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(statements.append)
        return conn

    sqlite3.connect = connect
    saved = sys.stdout
    sys.stdout = open(os.devnull, "w")
    try:
        from esc_cli.app import main

        main(argv)
    except SystemExit:
        pass
    finally:
        sys.stdout.close()
        sys.stdout = saved
        sqlite3.connect = real_connect
    return statements


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copy", action="store_true", help="run on a throwaway copy of the store")
    ap.add_argument("--min-ms", type=float, default=0.0, help="only statements at least this slow")
    ap.add_argument("--repeat", type=int, default=3, help="time each statement this many times (best)")
    ap.add_argument("argv", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    argv = a.argv[1:] if a.argv and a.argv[0] == "--" else a.argv
    db = argv[argv.index("--db") + 1]
    scratch = None
    if a.copy:
        scratch = tempfile.mkdtemp()
        copy = os.path.join(scratch, "esc.db")
        shutil.copy(db, copy)
        argv = [copy if x == db else x for x in argv]
        db = copy
    statements = capture(argv)
    # Replay in order on one connection, inside a transaction rolled back at the end:
    # statements may depend on earlier ones (temporary tables), and nothing is kept.
    replay = sqlite3.connect(db, isolation_level=None)
    replay.execute("BEGIN")
    seen = set()
    print(f"esc {' '.join(argv)}: {len(statements)} statements")
    for sql in statements:
        text = " ".join(sql.split())
        if re.match(r"(?i)^(BEGIN|COMMIT|ROLLBACK|END|SAVEPOINT|RELEASE|PRAGMA)\b", text):
            continue
        reading = re.match(r"(?i)^(WITH|SELECT)\b", text) is not None
        plan = []
        if reading and text not in seen:
            try:
                plan = [row[3] if row[1] == 0 else "  " + row[3]
                        for row in replay.execute("EXPLAIN QUERY PLAN " + text)]
            except sqlite3.Error as err:
                plan = [f"(no plan: {err})"]
        best = None
        for _ in range(max(1, a.repeat) if reading else 1):
            started = time.perf_counter()
            try:
                replay.execute(text).fetchall()
            except sqlite3.Error as err:
                print(f"\n-- failed on replay: {err}\n{text[:300]}")
                break
            elapsed = time.perf_counter() - started
            best = elapsed if best is None else min(best, elapsed)
        if not reading or text in seen or best is None or best * 1000 < a.min_ms:
            continue
        seen.add(text)
        shown = text if len(text) <= 600 else text[:600] + " ..."
        print(f"\n-- {best * 1000:.2f} ms\n{shown}")
        for line in plan:
            print(f"   {line}")
    replay.execute("ROLLBACK")
    replay.close()
    if scratch:
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
