#!/usr/bin/env python3
"""esc's benchmarks on PostgreSQL: whole `esc` processes against a postgresql:// store,
each run paired with the PostgreSQL floor (benchmarks/floor_pg.py: a bare Typer app that
imports psycopg2, connects and reads one row by primary key).

  .venv/bin/python benchmarks/pg_run.py [--sizes 10000,100000] [--runs 5] [--uri URI]
                                        [--only show,sweep2] [--markdown FILE]

- The store is the one `generate.py` builds for run.py (cached in benchmarks/.work/nN/),
  moved into PostgreSQL as a team would move: `esc export` from the SQLite file,
  `esc import` into an initialised PostgreSQL database (the time is printed, untimed
  otherwise). That database becomes a template; reads and writes act on one clone,
  each sweep and import run on a fresh clone (made untimed).
- Without --uri a private server is started for the run (tests/pgserver.py's cluster,
  127.0.0.1, with fsync and synchronous commit ON as a real server has them) and
  stopped at the end. With --uri (a superuser, or a role that may CREATE DATABASE) the
  benchmark's databases are made there and dropped at the end.
- "two sweeps over 10,000 due": 10,000 urgent cases opened at one instant (imported
  from a CSV), swept two hours later by one `esc sweep` alone, then, on a fresh clone,
  by two started together; the wall time until the last one exits.
- The import rate is compared with SQLite's, measured in the same run on the same file.

CPU and RSS figures are the esc process's only: the server's own work shows in the wall
time, not in the cpu column.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run  # noqa: E402
from run import say  # noqa: E402

from tests import pgserver  # noqa: E402

# the targets for PostgreSQL (issue 18), set at 1M cases
TARGETS = {
    "show": ("ratio", 1.5), "ack": ("ratio", 1.5), "note": ("ratio", 1.5), "escalate": ("ratio", 1.5),
    "queue --limit 50": ("ratio", 2.0), "overdue": ("ratio", 2.0),
    "sweep, 1,000 due": ("seconds", 1.5), "report, 30 days": ("seconds", 1.0),
}
DURABLE = ("max_connections=100", "shared_buffers=128MB")
SWEEP2_CASES = 10_000
SWEEP2_OPENED = "2026-11-16T08:00:00Z"
SWEEP2_AT = "2026-11-16T10:00:00Z"


class PgBench(run.Bench):
    """run.Bench with the stores in PostgreSQL and the PostgreSQL floor."""

    def __init__(self, args, size, timer, available, admin: str):
        super().__init__(args, size, timer, available)
        self.admin = admin
        self.made: list[str] = []
        self.floor_pg = str(HERE / "floor_pg.py")

    def uri(self, name: str) -> str:
        return pgserver.with_database(self.admin, name)

    def _strategy(self) -> str:
        # PostgreSQL 15 copies a template through the WAL by default: gigabytes of WAL
        # per clone of a 1M store; copying the files is what earlier versions did
        if not hasattr(self, "_file_copy"):
            self._file_copy = int(pgserver.psql(self.admin, "SHOW server_version_num")) >= 150000
        return " STRATEGY FILE_COPY" if self._file_copy else ""

    def create(self, name: str, template: str = "template0") -> str:
        pgserver.psql(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pgserver.psql(self.admin, f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self._strategy()}',
                      timeout=3600)
        if name not in self.made:
            self.made.append(name)
        return self.uri(name)

    def clone_argv(self, name: str, template: str) -> list[list[str]]:
        psql = pgserver.psql_path()
        return [[psql, "-X", "-q", "-d", self.admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                 "-c", f'CREATE DATABASE "{name}" TEMPLATE "{template}"{self._strategy()}']]

    def template(self, name: str) -> None:
        pgserver.psql(self.admin, f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')

    def store_key(self, store: Path) -> str:
        """What the moved store was made from: the generator, its seed and size (a later
        esc schema upgrades a kept store, see kept)."""
        m = self.manifest
        return f"{store.name}:{m['generator_version']}:{m['seed']}:{m['n']}:{m.get('import_rows')}"

    def kept(self, store: Path, name: str) -> float | None:
        """--keep: the seconds the move took when `name` is already `store` moved (its
        comment records what the store was made from, and those seconds), else None. A
        newer esc schema is applied to it once here, untimed, as esc upgrades a user's
        store."""
        key = self.store_key(store) + ":"
        found = pgserver.psql(self.admin, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                                          f"WHERE datname = '{name}'")
        if not self.args.keep or not found.startswith(key):
            return None
        pgserver.psql(self.admin, f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
        subprocess.run([self.esc, "--db", self.uri(name), "--now", self.now, "queue", "--limit", "1"],
                       check=True, stdout=subprocess.DEVNULL)
        pgserver.psql(self.uri(name), "VACUUM ANALYZE", timeout=3600)
        self.template(name)
        return float(found[len(key):])

    def move(self, store: Path, name: str) -> float:
        """`esc export` the SQLite store, `esc import` it into a new database: seconds."""
        seconds = self.kept(store, name)
        if seconds is not None:
            say(f"  {name}: kept from an earlier run (--keep)")
            return seconds
        dump = self.work / f"{store.name}.export.json"
        started = time.perf_counter()
        if not dump.exists() or dump.stat().st_mtime < store.stat().st_mtime:
            subprocess.run([self.esc, "--db", str(store), "export", "-o", str(dump)], check=True)
        uri = self.create(name)
        subprocess.run([self.esc, "--db", uri, "--now", self.now, "init"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run([self.esc, "--db", uri, "--now", self.now, "--as", "bench", "import", str(dump)],
                       check=True, stdout=subprocess.DEVNULL)
        seconds = time.perf_counter() - started
        pgserver.psql(uri, "VACUUM ANALYZE", timeout=3600)
        self.template(name)
        pgserver.psql(self.admin, f"COMMENT ON DATABASE \"{name}\" IS "
                                  f"'{self.store_key(store)}:{seconds:.1f}'")
        say(f"  {name}: export | import {seconds:.1f} s")
        return seconds

    def prepare(self) -> None:
        super().prepare()  # the generated SQLite stores, cached, and the manifest
        self.sqlite_copy = self.copy
        tag = f"n{self.n}"
        say(f"moving {self.n:,} cases into PostgreSQL (esc export | esc import) ...")
        self.moved = self.move(self.pristine, f"bench_{tag}_src")
        say(f"  moved in {self.moved:.1f} s")
        self.move(Path(self.manifest["import_base"]), f"bench_{tag}_import_base")
        self.copy = self.create(f"bench_{tag}_work", f"bench_{tag}_src")
        self.floor_uri = self.create("bench_floor")
        subprocess.run([self.python, self.floor_pg, "setup"], env=dict(os.environ, FLOOR_PG=self.floor_uri),
                       check=True)

    def pick(self, sql: str, count: int, params=()) -> list[int]:
        import psycopg2

        conn = psycopg2.connect(self.copy)
        try:
            cur = conn.cursor()
            cur.execute(sql.replace("?", "%s"), params)
            return [r[0] for r in cur.fetchmany(count)]
        finally:
            conn.close()

    def floor_step(self, help_: bool = False) -> dict:
        argv = [self.python, self.floor_pg] + (["--help"] if help_ else ["show", "1"])
        return {"argv": argv, "env": {"FLOOR_PG": self.floor_uri}}

    # -- the suite -------------------------------------------------------------------------

    def run(self) -> dict:
        args = self.args
        total = args.warmup + args.runs
        self.prepare()
        m = self.manifest
        tag = f"n{self.n}"
        only = set(args.only.split(",")) if args.only else None

        def wanted(name: str) -> bool:
            return only is None or name in only

        show_id = self.pick("SELECT id FROM cases WHERE state = 'open' AND escalations > 0 ORDER BY due_at, id", 1)
        show_id = str(show_id[0]) if show_id else "1"
        for label, command, argv in [
            ("show", "show", ["show", show_id]),
            ("queue --limit 50", "queue", ["queue", "--limit", "50"]),
            ("overdue", "overdue", ["overdue"]),
            ("search", "search", ["search", *run.SEARCH.split()]),
            ("report, 30 days", "report", ["report"]),
            ("sweep, nothing due", "sweep", ["sweep"]),
        ]:
            if wanted(label.split(",")[0].split(" ")[0]):
                self.measure(label, command, [self.esc_argv(*argv)] * total)
        fresh = self.pick("SELECT id FROM cases WHERE state = 'new' ORDER BY id DESC", total)
        if wanted("ack"):
            self.writes("ack", fresh, lambda case: ["ack", str(case)])
        opened = self.pick("SELECT id FROM cases WHERE state = 'open' AND tier < 3 ORDER BY id DESC", 2 * total)
        if wanted("note"):
            self.writes("note", opened[:total], lambda case: ["note", str(case), run.NOTE])
        if wanted("escalate"):
            self.writes("escalate", opened[total:], lambda case: ["escalate", str(case), "--reason",
                                                                  "customer asked for a specialist"])
        if wanted("sweep"):
            due = m["sweep_window_cases"]
            scratch = f"bench_{tag}_sweep"
            self.made.append(scratch)
            result = self.measure(f"sweep, {due:,} due", "sweep",
                                  [self.esc_argv("sweep", db=self.uri(scratch), now=m["sweep_window_until"])] * total,
                                  prepare=self.clone_argv(scratch, f"bench_{tag}_src"), key="sweep, 1,000 due")
            if result:
                self.create(scratch, f"bench_{tag}_src")
                result["did"] = run._json_of(self.esc_argv("sweep", "--json", db=self.uri(scratch),
                                                           now=m["sweep_window_until"]),
                                             lambda d: {k: len(v) for k, v in d.items()
                                                        if k in ("warned", "breached", "escalated", "closed",
                                                                 "notified")})
        if wanted("import") and m.get("import_csv"):
            self.imports(tag, total)
        if wanted("sweep2"):
            self.two_sweeps(total)
        return self.summary()

    def imports(self, tag: str, total: int) -> None:
        m = self.manifest
        target = f"bench_{tag}_import"
        self.made.append(target)
        self.measure(f"import ({m['import_rows']:,} rows)", "import",
                     [self.esc_argv("import", m["import_csv"], db=self.uri(target))] * total,
                     prepare=self.clone_argv(target, f"bench_{tag}_import_base"), rows=m["import_rows"],
                     key="import")
        # SQLite's rate on the same file in the same run: the yardstick for this one
        sqlite_target = self.work / "import.db"
        self.measure(f"import ({m['import_rows']:,} rows), SQLite", "import",
                     [self.esc_argv("import", m["import_csv"], db=sqlite_target)] * total,
                     prepare=run._copy_argv(Path(m["import_base"]), sqlite_target), rows=m["import_rows"],
                     key="import, SQLite", paired=False)

    def two_sweeps(self, total: int) -> None:
        """One sweep alone against two started together, over 10,000 due cases, on fresh
        clones, `total` rounds alternating; wall time until the last sweep exits."""
        base = "bench_due10k"
        csv_path = self.work / "due10k.csv"
        with csv_path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["title", "customer", "priority", "opened_at"])
            for n in range(SWEEP2_CASES):
                writer.writerow([f"Outage {n}", f"cust{n % 500:04d}", "urgent", SWEEP2_OPENED])
        uri = self.create(base)
        subprocess.run([self.esc, "--db", uri, "--now", SWEEP2_OPENED, "init"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run([self.esc, "--db", uri, "--now", SWEEP2_OPENED, "--as", "bench", "import", str(csv_path)],
                       check=True, stdout=subprocess.DEVNULL)
        pgserver.psql(uri, "VACUUM ANALYZE")
        self.template(base)
        env = dict(os.environ, **self.timer.env)
        times = {1: [], 2: []}
        did = {}
        for _ in range(total):
            for count in (1, 2):
                scratch = self.create(f"bench_due10k_{count}", base)
                argv = self.esc_argv("sweep", "--json", db=scratch, now=SWEEP2_AT)
                started = time.perf_counter()
                procs = [subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                         for _ in range(count)]
                outs = [p.communicate() for p in procs]
                times[count].append(time.perf_counter() - started)
                if any(p.returncode for p in procs):
                    raise RuntimeError(f"sweep failed: {[o[1] for o in outs]}")
                did[count] = [len(json.loads(o[0])["escalated"]) for o in outs]
        warm = self.args.warmup
        one, two = (statistics.median(times[c][warm:] or times[c]) for c in (1, 2))
        self.results.append({"label": f"two sweeps at once, {SWEEP2_CASES:,} due", "key": "sweep2",
                             "median": two, "min": min(times[2]), "max": max(times[2]),
                             "alone": one, "runs": len(times[2][warm:] or times[2]),
                             "did": {"escalated by the one alone": sum(did[1]),
                                     "by the two": " + ".join(map(str, did[2]))}})
        say(f"  two sweeps over {SWEEP2_CASES:,} due: {two * 1000:,.0f} ms together, {one * 1000:,.0f} ms alone "
            f"(escalated {did[2]} vs {did[1]})")

    def summary(self) -> dict:
        by_key = {r.get("key", r["label"]): r for r in self.results if "skipped" not in r}
        sqlite_import = by_key.get("import, SQLite", {}).get("rate")
        for result in self.results:
            if "skipped" in result:
                continue
            key = result.get("key", result["label"])
            checks = [not result.get("failed")]
            target = TARGETS.get(key)
            if target and target[0] == "ratio" and "ratio" in result:
                checks.append(result["ratio"] <= target[1])
                result["target"] = f"<= {target[1]:g}x"
            elif target and target[0] == "seconds":
                checks.append(result["median"] <= target[1])
                result["target"] = f"<= {target[1]:g} s"
            elif key == "import" and sqlite_import:
                checks.append(result["rate"] >= sqlite_import)
                result["target"] = f">= SQLite's {sqlite_import:,.0f}/s"
            elif key == "sweep2":
                checks.append(result["median"] < result["alone"])
                result["target"] = f"< one alone ({result['alone'] * 1000:,.0f} ms)"
            else:
                result["met"] = None
                continue
            result["met"] = all(checks)
        size = int(pgserver.psql(self.admin, f"SELECT pg_database_size('bench_n{self.n}_src')"))
        return {"n": self.n, "manifest": self.manifest, "results": self.results, "moved_seconds": self.moved,
                "database_bytes": size}

    def drop_all(self) -> None:
        for name in reversed(self.made):
            if self.args.keep and name.endswith(("_src", "_import_base")):
                continue  # moved stores, for the next run
            exists = pgserver.psql(self.admin, f"SELECT count(*) FROM pg_database WHERE datname = '{name}'")
            if exists == "1":
                pgserver.psql(self.admin, f'ALTER DATABASE "{name}" WITH IS_TEMPLATE false')
                pgserver.drop(self.admin, name)


def render(summary: dict, markdown: bool = False) -> str:
    n, m = summary["n"], summary["manifest"]
    unresolved = sum(m["states"].get(s, 0) for s in ("new", "open", "pending"))
    lines = [("### " if markdown else "") + f"PostgreSQL, N = {n:,} cases ({unresolved:,} unresolved, "
             f"{m['breached_at_now']:,} breached and {m['at_risk_at_now']:,} at risk at NOW)", "",
             f"database: {summary['database_bytes'] / run.MIB:,.1f} MiB = {summary['database_bytes'] / n:,.0f} B/case; "
             f"moved from SQLite (esc export | esc import) in {summary['moved_seconds']:.1f} s", ""]
    cols = ["command", "median ms", "min ms", "max ms", "cpu ms", "peak RSS MiB", "floor ms", "ratio",
            "cpu ratio", "target", "met"]
    rows = []
    for r in summary["results"]:
        if "skipped" in r:
            rows.append([r["label"], "skipped: " + r["skipped"]] + [""] * 9)
            continue
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else ""
        if "rate" in r:
            ratio = f"{r['rate']:,.0f}/s"
        if r.get("key") == "sweep2":
            ratio = f"{r['median'] / r['alone']:.2f}x alone"
        met = "" if r.get("met") is None else ("yes" if r["met"] else "NO")
        rows.append([r["label"], run._ms(r["median"]), run._ms(r["min"]), run._ms(r["max"]),
                     run._ms(r["cpu"]) if "cpu" in r else "", f"{r['rss']:.1f}" if "rss" in r else "",
                     run._ms(r["floor"]) if "floor" in r else "", ratio,
                     f"{r['cpu_ratio']:.2f}x" if r.get("cpu_ratio") else "", r.get("target", ""),
                     "FAILED" if r.get("failed") else met])
    lines.extend(run._table(cols, rows, markdown))
    notes = [f"{r['label']}: " + ", ".join(f"{k} {v:,}" if isinstance(v, int) else f"{k} {v}"
                                           for k, v in r["did"].items())
             for r in summary["results"] if r.get("did")]
    notes += [f"FAILED {r['label']}: {r['failed']}" for r in summary["results"] if r.get("failed")]
    if notes:
        lines += [""] + notes
    return "\n".join(lines)


def main(argv=None) -> int:
    import signal

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated store sizes")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--only", help="comma-separated: show,queue,overdue,search,report,sweep,ack,note,"
                                   "escalate,import,sweep2")
    ap.add_argument("--uri", help="a PostgreSQL server to use (default: a private one for the run)")
    ap.add_argument("--keep", action="store_true",
                    help="with --uri: keep the moved stores for the next run, and use kept ones")
    ap.add_argument("--workdir", default=str(HERE / ".work"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--markdown", help="also write the tables as Markdown to this file")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    a = ap.parse_args(argv)
    # what run.Bench reads that this runner does not offer
    a.jobs, a.import_rows, a.regenerate, a.no_tw, a.quick, a.yardsticks = None, None, False, True, False, None
    a.python = sys.executable
    a.esc = str(Path(sys.executable).with_name("esc"))
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    cache = run.bytecode_env(Path(a.workdir))
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    run.prime(a.python, a.esc, str(HERE / "floor_pg.py"), cache)
    timer = run.Timer(a.python, cache)
    available = run._available_commands(a.esc)
    cluster = None
    if a.uri:
        admin = a.uri
    else:
        binaries = pgserver.bin_dir()
        if binaries is None:
            ap.error("no PostgreSQL binaries: give --uri, or install Debian's postgresql (sh .ci/postgres)")
        cluster = pgserver.Cluster(binaries, DURABLE)
        admin = cluster.start()
    version = pgserver.psql(admin, "SHOW server_version")
    env = run.environment(a)
    head = (f"esc on PostgreSQL {version}, {env['when']}: {env['cores']} cores, Python {env['python']}, "
            f"typer {env['typer']}; {a.runs} runs (+{a.warmup} warm-up) per command; medians of whole "
            "processes in a pipe; ratio = median / the PostgreSQL floor's median (benchmarks/floor_pg.py), "
            "each run paired with a floor run; server on 127.0.0.1, fsync on; targets are issue 18's, set at 1M")
    say(head)
    out, md = [head, ""], [head, ""]
    try:
        for size in sizes:
            bench = PgBench(a, size, timer, available, admin)
            try:
                summary = bench.run()
            finally:
                bench.drop_all()
            out += [render(summary), ""]
            md += [render(summary, markdown=True), ""]
            print(render(summary), flush=True)
    finally:
        if cluster is not None:
            cluster.stop()
    if a.markdown:
        Path(a.markdown).write_text("\n".join(md))
    if a.json:
        Path(a.json).write_text(json.dumps({"head": head, "sizes": out}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
