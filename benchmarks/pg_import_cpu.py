"""Where an import's CPU goes, PostgreSQL against SQLite: one PostgreSQL import then one
SQLite import of the same CSV per round, each into a fresh copy of a store holding only
owners, with the wall time, esc's CPU (its process and its workers, by getrusage) and
the server's (the CPU of the backends the postmaster reaped meanwhile: run it against a
server nothing else uses).

  .venv/bin/python benchmarks/pg_import_cpu.py --uri URI --template DB --sqlite-base FILE
      --csv FILE [--rounds 3] [--pin]

--pin puts esc on core 0 and every PostgreSQL process on core 1 (and back at the end):
the server on its own core, as a shared server apart from the laptops is; both stores
then import with ESC_IMPORT_WORKERS=2 (one core would mean none). The stores
pg_run.py --keep leaves fit: --template bench_nN_import_base, --sqlite-base
benchmarks/.work/nN/esc.db.import-base.db, --csv benchmarks/.work/nN/esc.db.import.csv
(or a bigger file from generate.write_import_csv). benchmarks/RESULTS.md, "The import,
fourth stop", has the figures.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from tests import pgserver  # noqa: E402

NOW = "2026-11-18T14:00:00Z"
CLONE = "bench_pg_import_cpu"


def _postmaster(uri: str) -> int:
    data = pgserver.psql(uri, "SHOW data_directory").strip()
    return int(Path(data, "postmaster.pid").read_text().split()[0])


def _server_cpu(pid: int) -> float:
    """The postmaster's own CPU and its reaped children's (utime, stime, cutime, cstime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _pin_server(pid: int, cores: str) -> None:
    for child in [pid, *map(int, subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                 text=True).stdout.split())]:
        subprocess.run(["taskset", "-a", "-p", "-c", cores, str(child)], check=True,
                       capture_output=True)


def _import(argv: list[str], db: str, csv: str, server: int) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    server_before = _server_cpu(server)
    started = time.perf_counter()
    done = subprocess.run([*argv, "--db", db, "--now", NOW, "--as", "bench", "import", csv],
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    time.sleep(0.3)  # the backend's exit, reaped by the postmaster
    if done.returncode != 0:
        raise SystemExit(f"esc import failed: {done.stderr.strip()[-500:]}")
    esc = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return wall, esc, _server_cpu(server) - server_before


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uri", required=True, help="an admin URI of a server nothing else uses")
    ap.add_argument("--template", required=True, help="a PostgreSQL esc store holding only owners")
    ap.add_argument("--sqlite-base", required=True, help="the same store as an SQLite file")
    ap.add_argument("--csv", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pin", action="store_true", help="esc on core 0, the server on core 1")
    args = ap.parse_args()
    esc = str(Path(sys.executable).with_name("esc"))
    argv = ["taskset", "-c", "0", esc] if args.pin else [esc]
    if args.pin:
        os.environ["ESC_IMPORT_WORKERS"] = "2"
    server = _postmaster(args.uri)
    folder = Path(tempfile.mkdtemp(prefix="esc-import-cpu-"))
    if args.pin:
        _pin_server(server, "1")
    try:
        for round_ in range(1, args.rounds + 1):
            pgserver.psql(args.uri, f'DROP DATABASE IF EXISTS "{CLONE}"')
            pgserver.psql(args.uri, f'CREATE DATABASE "{CLONE}" TEMPLATE "{args.template}"')
            uri = pgserver.with_database(args.uri, CLONE)
            # the schema upgraded to this esc's, untimed
            subprocess.run([esc, "--db", uri, "queue", "--limit", "1"], check=True, capture_output=True)
            pg = _import(argv, uri, args.csv, server)
            lite_db = folder / "import.db"
            for suffix in ("", "-wal", "-shm"):
                Path(f"{lite_db}{suffix}").unlink(missing_ok=True)
            shutil.copy(args.sqlite_base, lite_db)
            lite = _import(argv, str(lite_db), args.csv, server)
            print(f"round {round_}: PostgreSQL {pg[0]:.2f} s (esc CPU {pg[1]:.2f} s, server CPU "
                  f"{pg[2]:.2f} s), SQLite {lite[0]:.2f} s (esc CPU {lite[1]:.2f} s): "
                  f"{lite[0] / pg[0]:.2f}x SQLite's rate; load {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        if args.pin:
            _pin_server(server, f"0-{os.cpu_count() - 1}")
        pgserver.psql(args.uri, f'DROP DATABASE IF EXISTS "{CLONE}"')
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
