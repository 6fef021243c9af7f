"""esc import into PostgreSQL and into SQLite, the same file, interleaved run by run; and
the server's share alone (the import's own batches replayed with no Python work).

  .venv/bin/python benchmarks/pg_import.py --uri URI [--sizes 10000,100000] [--rounds 5]

pg_run.py times its PostgreSQL imports first and SQLite's after: on a machine whose load
swings by the minute (two cores, several engineers) the two halves run under different
loads and their ratio swings with it. Here each round runs one PostgreSQL import then one
SQLite import back to back, each into a fresh copy of the same store (untimed), and the
ratio is of the medians. Then "server alone": the batches one import sent (captured by
wrapping store.pg_bulk.insert_encoded) are replayed into fresh clones through the same
store code (the deferred index drops, per batch SET LOCAL + two COPYs + the search
documents, the index builds, COMMIT): the most a PostgreSQL import can reach on this
server if esc's Python cost nothing.

Needs the stores pg_run.py leaves: `pg_run.py --uri URI --keep --only import --sizes N`
once (the generated SQLite store in benchmarks/.work/nN and `bench_nN_import_base` on the
server). The CSV is the one pg_run.py and run.py import.
"""

from __future__ import annotations

import argparse
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests import pgserver  # noqa: E402

NOW = "2026-11-18T14:00:00Z"
CAPTURE = """
import pickle
from esc_cli.store import pg_bulk
kept = []
real = pg_bulk.insert_encoded
def keep(conn, batch):
    kept.append(batch)
    real(conn, batch)
pg_bulk.insert_encoded = keep
from esc_cli.app import main
try:
    main()
finally:
    with open(OUT, "wb") as out:
        pickle.dump(kept, out)
"""


class Bench:
    def __init__(self, args, size: int):
        self.args, self.size = args, size
        self.work = Path(args.workdir) / f"n{size}"
        self.csv = self.work / "esc.db.import.csv"
        self.base = self.work / "esc.db.import-base.db"
        self.template = f"bench_n{size}_import_base"
        if not self.csv.exists() or not self.base.exists():
            raise SystemExit(f"no {self.csv}: run pg_run.py --uri URI --keep --only import --sizes {size} first")
        found = pgserver.psql(args.uri, f"SELECT 1 FROM pg_database WHERE datname = '{self.template}'")
        if not found:
            raise SystemExit(f"no database {self.template} on the server: run pg_run.py --uri URI --keep first")
        self.tmp = Path(tempfile.mkdtemp(prefix="esc-pg-import-"))

    def clone(self, name: str) -> str:
        pgserver.psql(self.args.uri, f'DROP DATABASE IF EXISTS "{name}"')
        pgserver.psql(self.args.uri, f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        uri = pgserver.with_database(self.args.uri, name)
        # the schema upgraded to this esc's, untimed (as pg_run.py's --keep does)
        subprocess.run([self.args.esc, "--db", uri, "queue", "--limit", "1"], check=True,
                       capture_output=True)
        return uri

    def sqlite_copy(self) -> str:
        target = self.tmp / "import.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        shutil.copy(self.base, target)
        return str(target)

    def timed(self, db: str) -> float:
        started = time.perf_counter()
        done = subprocess.run([self.args.esc, "--db", db, "--now", NOW, "--as", "bench", "import",
                               str(self.csv)], capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"esc import failed: {done.stderr.strip()[-500:]}")
        return wall

    def interleaved(self) -> tuple[list[float], list[float]]:
        pg, lite = [], []
        for round_ in range(self.args.warmup + self.args.rounds):
            a = self.timed(self.clone("bench_pg_import"))
            b = self.timed(self.sqlite_copy())
            load = os.getloadavg()[0]
            print(f"  n={self.size:,} round {round_ + 1}: PostgreSQL {a:.2f} s, SQLite {b:.2f} s "
                  f"(load {load:.1f}){' warm-up' if round_ < self.args.warmup else ''}", flush=True)
            if round_ >= self.args.warmup:
                pg.append(a)
                lite.append(b)
        return pg, lite

    def server_alone(self) -> list[float]:
        out = self.tmp / "batches.pkl"
        uri = self.clone("bench_pg_import")
        code = CAPTURE.replace("OUT", repr(str(out)))
        subprocess.run([self.args.python, "-c", code, "--db", uri, "--now", NOW, "--as", "bench",
                        "import", str(self.csv)], check=True, capture_output=True)
        with open(out, "rb") as handle:
            batches = pickle.load(handle)
        from esc_cli.store import bulk, pg_bulk
        from esc_cli.store.pg import PgStore
        from esc_cli.store.pg_location import location

        walls = []
        for _ in range(self.args.rounds):
            store = PgStore.open(location(self.clone("bench_pg_import")))
            started = time.perf_counter()
            with store.write() as conn, bulk.deferred_indexes(conn, True):
                for batch in batches:
                    pg_bulk.insert_encoded(conn, batch)
            walls.append(time.perf_counter() - started)
            store.close()
        return walls

    def close(self) -> None:
        pgserver.psql(self.args.uri, 'DROP DATABASE IF EXISTS "bench_pg_import"')
        shutil.rmtree(self.tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uri", required=True, help="the server pg_run.py --keep left its stores on")
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--workdir", default=str(HERE / ".work"))
    args = ap.parse_args()
    args.python = sys.executable
    args.esc = str(Path(sys.executable).with_name("esc"))
    print(f"esc import, PostgreSQL and SQLite interleaved; {args.rounds} rounds (+{args.warmup} warm-up); "
          f"load {os.getloadavg()[0]:.1f} at the start", flush=True)
    for size in (int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()):
        bench = Bench(args, size)
        try:
            pg, lite = bench.interleaved()
            alone = bench.server_alone()
        finally:
            bench.close()
        pg_m, lite_m, alone_m = statistics.median(pg), statistics.median(lite), statistics.median(alone)
        print(f"n={size:,}: PostgreSQL {pg_m:.2f} s ({size / pg_m:,.0f}/s), SQLite {lite_m:.2f} s "
              f"({size / lite_m:,.0f}/s): {lite_m / pg_m:.2f}x SQLite's rate; server alone "
              f"{alone_m:.2f} s ({size / alone_m:,.0f}/s): the import at {alone_m / pg_m:.2f}x of that "
              f"ceiling; load {os.getloadavg()[0]:.1f} at the end", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
