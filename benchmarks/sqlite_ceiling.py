"""How fast SQLite alone can take an import's rows, with no Python per row.

Copies the cases and events an `esc import` wrote (IMPORTED) into a fresh copy of the
store they were imported into (BASE) with `INSERT ... SELECT`, the way an import into an
empty store goes (indexes and search triggers dropped, rows in, indexes and the search
index built once, triggers back, one commit), and prints each phase. No import written
in Python can beat this rate on the same machine; issue 8's notes quote it.

    .venv/bin/python benchmarks/sqlite_ceiling.py                 # the 100k benchmark files
    .venv/bin/python benchmarks/sqlite_ceiling.py --imported X.db --base Y.db
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE / ".work" / "v2" / "n100000"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--imported", type=Path, default=DEFAULT / "import.db",
                        help="a store an import wrote (the runner leaves import.db in its work dir)")
    parser.add_argument("--base", type=Path, default=DEFAULT / "esc.db.import-base.db",
                        help="the store that import started from")
    args = parser.parse_args()
    for path in (args.imported, args.base):
        if not path.exists():
            parser.error(f"{path} does not exist: run benchmarks/run.py --sizes 100000 --only import first")
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "ceiling.db"
        shutil.copyfile(args.base, target)
        conn = sqlite3.connect(target, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("ATTACH ? AS src", (f"file:{args.imported}?mode=ro",))
        phases = {}
        started = mark = time.perf_counter()

        def phase(name: str) -> None:
            nonlocal mark
            now = time.perf_counter()
            phases[name] = now - mark
            mark = now

        conn.execute("BEGIN IMMEDIATE")
        saved = conn.execute(
            "SELECT type, name, sql FROM main.sqlite_master WHERE type IN ('index', 'trigger') "
            "AND sql IS NOT NULL AND tbl_name IN ('cases', 'events') ORDER BY type DESC").fetchall()
        for kind, name, _ in saved:
            conn.execute(f'DROP {kind.upper()} main."{name}"')
        conn.execute("INSERT INTO main.events SELECT * FROM src.events")
        phase("events in")
        conn.execute("INSERT INTO main.cases SELECT * FROM src.cases")
        phase("cases in")
        for kind, _, sql in saved:
            if kind == "index":
                conn.execute(sql)
        phase("indexes built")
        conn.execute("INSERT INTO cases_fts (cases_fts) VALUES ('rebuild')")
        phase("search index built")
        for kind, _, sql in saved:
            if kind == "trigger":
                conn.execute(sql)
        conn.execute("COMMIT")
        phase("commit")
        total = time.perf_counter() - started
        cases = conn.execute("SELECT count(*) FROM main.cases").fetchone()[0]
        events = conn.execute("SELECT count(*) FROM main.events").fetchone()[0]
        conn.close()
    print(f"SQLite alone: {cases:,} cases and {events:,} events from {args.imported}")
    for name, seconds in phases.items():
        print(f"  {name:20} {seconds:6.2f} s")
    print(f"  {'total':20} {total:6.2f} s = {cases / total:,.0f} cases/s")


if __name__ == "__main__":
    main()
