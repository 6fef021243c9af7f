#!/usr/bin/env python3
"""esc's benchmark suite: whole `esc` processes, in a pipe, beside the floor app.

  .venv/bin/python benchmarks/run.py [--sizes 10000,100000,1000000] [--runs 5]
                                     [--quick] [--only show,queue] [--no-tw] [--json FILE]

For each size it builds (or reuses) a generated store (benchmarks/generate.py),
then times every command several times and prints, per command, the median,
min and max wall time, the median CPU time, the peak RSS, the floor measured
beside it and the ratio to that floor, and whether the issue's target is met.

- Every run of a command is paired with a run of the floor app just before it
  (`FLOOR_MODE=lazy FLOOR_DB=floor.db python floor_app.py show 1`, and its
  `--help` for `esc --help`), with the same Python, so a ratio compares figures
  taken seconds apart: these machines drift by up to 1.5x between minutes.
- Writes act on distinct cases (`ack` on a `new` case, `escalate` below the top
  tier, ...), reads on a working copy of the store; the sweep with 1,000 cases
  falling due and the import run on a fresh copy each time (copied untimed).
- `--now` is the generator's NOW; `--tz UTC`; the acting user is `bench`.
- Commands `esc --help` does not list are skipped, and the output says so.
- With taskwarrior installed (`task`), the equivalents of the yardstick
  tw_bench.sh (import, next, add, modify) run at the same size, on the same
  generated cases, and the ratios are printed.

--quick is what CI runs: 10,000 cases, one run each, no taskwarrior.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

MIB = 1024 * 1024
NOTE = "Called the customer: the VPN tunnel drops again after the router firmware update."
OPEN_ARGS = ["--customer", "Globex Logistics", "--priority", "high", "--category", "technical",
             "--channel", "email", "--tag", "vpn"]
SEARCH = "duplicate charge"

# the targets at 1M cases: (kind, limit)
#   ratio: median / floor's median <= limit;  seconds: median <= limit;  rate: >= limit/s
TARGETS = {
    "--help": ("ratio", 1.2), "show": ("ratio", 1.75), "open": ("ratio", 1.75),
    "ack": ("ratio", 1.75), "note": ("ratio", 1.75), "escalate": ("ratio", 1.75),
    "queue --limit 50": ("ratio", 2.0), "overdue": ("ratio", 2.0), "explain": ("ratio", 2.0),
    "sweep, nothing due": ("ratio", 2.0), "sweep, 1,000 due": ("seconds", 1.0),
    "report, 30 days": ("seconds", 0.5), "report --by owner": ("seconds", 0.8),
    "report, all time": ("seconds", 1.5), "import": ("rate", 50_000),
}
RSS_LIMIT = 40.0
IMPORT_RSS_LIMIT = 150.0
STORE_LIMIT = 1.5 * 1024
TW_RATIOS = (("queue --limit 50", "task next", 30.0), ("note", "task modify", 10.0),
             ("ack", "task modify", 10.0), ("escalate", "task modify", 10.0),
             ("open", "task add", None))


def say(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def yardstick(name: str, explicit: str | None) -> Path:
    """The shared yardstick if present (../shared/yardsticks next to the repository),
    else the verbatim copy kept in benchmarks/yardsticks/."""
    for folder in filter(None, (explicit, os.environ.get("ESC_YARDSTICKS"),
                                str(HERE.parent.parent / "shared" / "yardsticks"))):
        if (Path(folder) / name).exists():
            return Path(folder) / name
    return HERE / "yardsticks" / name


def bytecode_env(workdir: Path) -> dict:
    """Python's bytecode cache for every timed process. An installed esc has its .pyc
    files (pip compiles them); an editable install in a tree where nothing may be
    written, or with PYTHONDONTWRITEBYTECODE set, recompiles every module of esc on
    every run, which is not what users pay. The cache lives in the work dir, so
    nothing is written into src/."""
    return {"PYTHONPYCACHEPREFIX": str(Path(workdir).resolve() / "pycache"), "PYTHONDONTWRITEBYTECODE": ""}


def prime(python: str, esc: str, floor_app: str, env: dict) -> None:
    """Compile esc's modules into the cache, and warm the rest with one untimed run
    of each program, so the first timed run does not pay for compiling."""
    import esc_cli

    full = dict(os.environ, **env)
    package = str(Path(esc_cli.__file__).parent)
    subprocess.run([python, "-m", "compileall", "-q", package], env=full, check=False,
                   stdout=subprocess.DEVNULL)
    for argv in ([esc, "--help"], [python, floor_app, "--help"]):
        subprocess.run(argv, env=full, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


class Timer:
    """Feeds steps to benchmarks/timer.py, a small separate process (see its doc)."""

    def __init__(self, python: str, env: dict | None = None):
        self.python = python
        self.env = env or {}

    def __call__(self, steps: list[dict]) -> list[dict]:
        steps = [dict(step, env={**self.env, **(step.get("env") or {})}) for step in steps]
        process = subprocess.Popen([self.python, str(HERE / "timer.py")], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            out, err = process.communicate(json.dumps(steps))
        except BaseException:
            process.terminate()  # it kills the command it is timing
            process.wait()
            raise
        if process.returncode != 0:
            raise RuntimeError(f"timer failed: {err[-2000:]}")
        return json.loads(out)


class Bench:
    """One size: the stores, the case ids the writes use, and the measurements."""

    def __init__(self, args, size: int, timer: Timer, available: set[str]):
        self.args = args
        self.n = size
        self.timer = timer
        self.available = available
        self.work = Path(args.workdir) / f"n{size}"
        self.work.mkdir(parents=True, exist_ok=True)
        self.pristine = self.work / "esc.db"
        self.copy = self.work / "work.db"
        self.floor_db = self.work / "floor.db"
        self.results: list[dict] = []
        self.esc = args.esc
        self.python = args.python
        self.floor_app = str(yardstick("floor_app.py", args.yardsticks))

    # -- stores --------------------------------------------------------------------------

    def prepare(self) -> None:
        manifest_path = Path(str(self.pristine) + ".json")
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else None
        schema = _schema_version(self.pristine) if self.pristine.exists() else None
        want_tw = self.tw_wanted()
        current = _esc_schema_version(self.python)
        stale = (manifest is None or self.args.regenerate
                 or manifest.get("generator_version") != generate.GENERATOR_VERSION
                 or manifest.get("seed") != self.args.seed or schema is None or schema > current
                 or (self.args.import_rows is not None and manifest.get("import_rows") != self.import_rows()))
        if stale:
            say(f"generating {self.n:,} cases into {self.pristine} ...")
            argv = [self.python, str(HERE / "generate.py"), str(self.n), str(self.pristine),
                    "--seed", str(self.args.seed), "--quiet", "--import-rows", str(self.import_rows())]
            if self.args.jobs:
                argv += ["--jobs", str(self.args.jobs)]
            if want_tw:
                argv += ["--tw", str(self.work / "tasks.json")]
            subprocess.run(argv, check=True)
            manifest = json.loads(manifest_path.read_text())
        elif want_tw and not (self.work / "tasks.json").exists():
            generate.write_taskwarrior(self.pristine, self.work / "tasks.json")
        if not stale and schema < current:
            # esc's schema moved on: upgrade the stores once, untimed, the way esc upgrades
            # a user's store; otherwise every fresh copy would time the migration
            say(f"upgrading {self.pristine} from schema {schema} to {current} ...")
            started = time.perf_counter()
            for store in (self.pristine, Path(manifest["import_base"])):
                _upgrade(self.python, store)
            manifest.setdefault("upgrades", []).append(
                {"from": schema, "to": current, "seconds": round(time.perf_counter() - started, 1)})
            manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
        self.manifest = manifest
        self.now = manifest["now"]
        _copy_store(self.pristine, self.copy)
        if not self.floor_db.exists():
            con = sqlite3.connect(self.floor_db)
            con.execute("CREATE TABLE cases (id INTEGER PRIMARY KEY, title TEXT, state TEXT, due_at TEXT)")
            con.execute("INSERT INTO cases VALUES (1, 'Customer cust0001 reports vpn problem #1', 'open', "
                        "'2026-11-22T16:00:00Z')")
            con.commit()
            con.close()

    def import_rows(self) -> int:
        if self.args.import_rows is not None:
            return min(self.args.import_rows, self.n)
        return min(self.n, 100_000)

    def tw_wanted(self) -> bool:
        return not self.args.no_tw and shutil.which("task") is not None

    def pick(self, sql: str, count: int, params=()) -> list[int]:
        con = sqlite3.connect(f"file:{self.copy}?mode=ro", uri=True)
        try:
            return [r[0] for r in con.execute(sql, params).fetchmany(count)]
        finally:
            con.close()

    # -- steps ---------------------------------------------------------------------------

    def esc_argv(self, *args: str, db: Path | None = None, now: str | None = None) -> list[str]:
        return [self.esc, "--db", str(db or self.copy), "--now", now or self.now, "--as", "bench",
                "--tz", "UTC", *args]

    def floor_step(self, help_: bool = False) -> dict:
        argv = [self.python, self.floor_app] + (["--help"] if help_ else ["show", "1"])
        return {"argv": argv, "env": {"FLOOR_MODE": "lazy", "FLOOR_DB": str(self.floor_db)}}

    def measure(self, label: str, command: str, argvs: list[list[str]], prepare=None,
                help_floor: bool = False, rows: int | None = None, env: dict | None = None,
                paired: bool = True, timeout: float = 1800, key: str | None = None) -> dict | None:
        """Time one benchmark: len(argvs) runs (the first `warmup` discarded), each after
        a run of the floor. Returns the summary (also kept in self.results)."""
        if command and command not in self.available:
            say(f"  {label:28} skipped: `esc {command}` is not in `esc --help`")
            self.results.append({"label": label, "skipped": f"esc {command} not available"})
            return None
        groups = []
        for argv in argvs:
            group = [self.floor_step(help_floor)] if paired else []
            step = {"argv": argv, "timeout": timeout, "env": env or {}}
            if prepare:
                step["prepare"] = prepare
            groups.append(group + [step])
        steps = [step for group in groups for step in group]
        # the first run alone; then only as many more as fit the time budget
        raw = self.timer(groups[0])
        each = sum(r["wall"] for r in raw) * 1.2
        more = len(groups) - 1
        if more and each * (more + 1) > self.args.budget:
            more = max(0, int(self.args.budget / each) - 1)
            if more < len(groups) - 1:
                say(f"  {label:28} {each:.0f} s a run: {more + 1} run(s) instead of {len(groups)} "
                    f"(--budget {self.args.budget:g} s)")
        if more:
            raw += self.timer([step for group in groups[1:1 + more] for step in group])
        warm = self.args.warmup
        pairs = []
        for index in range(len(raw) // (2 if paired else 1)):
            floor = raw[2 * index] if paired else None
            pairs.append((floor, raw[2 * index + 1] if paired else raw[index]))
        pairs = pairs[warm:] if len(pairs) > warm else pairs
        runs = [run for _, run in pairs]
        failed = [run for run in runs if run["code"] != 0]
        result = {"label": label, "key": key or label, "command": command, "argv": argvs[-1],
                  "runs": len(runs)}
        if failed:
            result["failed"] = f"exit {failed[0]['code']}: {failed[0]['err'].strip().splitlines()[-1:] or ''}"
        ok = [run for run in runs if run["code"] == 0] or runs
        walls = [run["wall"] for run in ok]
        result.update(median=statistics.median(walls), min=min(walls), max=max(walls),
                      cpu=statistics.median(run["cpu"] for run in ok),
                      rss=max(run["rss_mib"] for run in ok), out_bytes=ok[-1]["out_bytes"])
        if any(run["rss_floor"] for run in ok):
            # at the timer's own peak: one more untimed run under GNU time has the real one
            extra = dict(steps[-1], gnu_time=True)
            real = self.timer([extra])[0]["rss_mib"]
            result["rss"] = real if real is not None else result["rss"]
            result["rss_at_floor"] = real is None
        if paired:
            floors = [floor["wall"] for floor, _ in pairs]
            result["floor"] = statistics.median(floors)
            result["floor_rss"] = max(floor["rss_mib"] for floor, _ in pairs)
            result["ratio"] = result["median"] / result["floor"]
            # CPU time is far less disturbed by other load on the machine than wall time
            result["floor_cpu"] = statistics.median(floor["cpu"] for floor, _ in pairs)
            result["cpu_ratio"] = result["cpu"] / result["floor_cpu"] if result["floor_cpu"] else None
        if rows:
            result["rows"] = rows
            result["rate"] = rows / result["median"]
        self.results.append(result)
        say("  " + _progress_line(result))
        return result

    # -- the suite -----------------------------------------------------------------------

    def run(self) -> dict:
        args = self.args
        total = args.warmup + args.runs
        self.prepare()
        m = self.manifest
        say(f"N={self.n:,}: store {m['bytes'] / MIB:.1f} MiB, generated in {m['seconds']['total']} s")
        only = set(args.only.split(",")) if args.only else None

        def wanted(name: str) -> bool:
            return only is None or name in only

        if wanted("help"):
            self.measure("--help", "", [[self.esc, "--help"]] * total, help_floor=True)
        show_id = self.pick(
            "SELECT id FROM cases WHERE state = 'open' AND escalations > 0 ORDER BY due_at, id", 1) or \
            self.pick("SELECT id FROM cases WHERE state IN ('new', 'open', 'pending') ORDER BY id", 1)
        show_id = str(show_id[0]) if show_id else "1"
        reads = [
            ("show", "show", ["show", show_id]),
            ("explain", "explain", ["explain", show_id]),
            ("queue --limit 50", "queue", ["queue", "--limit", "50"]),
            ("queue --json", "queue", ["queue", "--json"]),
            ("overdue", "overdue", ["overdue"]),
            ("search", "search", ["search", *SEARCH.split()]),
            ("report, 30 days", "report", ["report"]),
            ("report --by owner", "report", ["report", "--by", "owner"]),
            ("report, all time", "report", ["report", "--since", "2000-01-01"]),
            ("sweep, nothing due", "sweep", ["sweep"]),
        ]
        for label, command, argv in reads:
            if wanted(label.split(",")[0].split(" ")[0]):
                result = self.measure(label, command, [self.esc_argv(*argv)] * total)
                if result and label == "sweep, nothing due":
                    result["did"] = _json_of(self.esc_argv("sweep", "--dry-run", "--json"),
                                             lambda d: {"checked": d.get("checked")})

        # writes: each run on its own case, so none is refused for the case's state
        if wanted("open"):
            self.measure("open", "open", [self.esc_argv("open", f"VPN tunnel drops every hour (bench {i})",
                                                        *OPEN_ARGS) for i in range(total)])
        fresh = self.pick("SELECT id FROM cases WHERE state = 'new' ORDER BY id DESC", total)
        if wanted("ack"):
            self.writes("ack", fresh, lambda case: ["ack", str(case)])
        opened = self.pick("SELECT id FROM cases WHERE state = 'open' AND tier < 3 ORDER BY id DESC", 2 * total)
        if wanted("note"):
            self.writes("note", opened[:total], lambda case: ["note", str(case), NOTE])
        if wanted("escalate"):
            self.writes("escalate", opened[total:], lambda case: ["escalate", str(case), "--reason",
                                                                  "customer asked for a specialist"])

        if wanted("sweep") and "sweep" in self.available:
            scratch = self.work / "sweep.db"
            due = m["sweep_window_cases"]
            result = self.measure(f"sweep, {due:,} due", "sweep",
                                  [self.esc_argv("sweep", db=scratch, now=m["sweep_window_until"])] * total,
                                  prepare=_copy_argv(self.pristine, scratch), key="sweep, 1,000 due")
            if result:
                # what that sweep did, from one more run on a fresh copy
                _copy_store(self.pristine, scratch)
                result["did"] = _json_of([*self.esc_argv("sweep", "--json", db=scratch,
                                                           now=m["sweep_window_until"])],
                                         lambda d: {k: (len(v) if isinstance(v, list) else v)
                                                    for k, v in d.items() if k in (
                                                        "checked", "warned", "breached", "escalated", "closed",
                                                        "notified")})
        if wanted("import") and m.get("import_csv"):
            target = self.work / "import.db"
            result = self.measure(f"import ({m['import_rows']:,} rows)", "import",
                                  [self.esc_argv("import", m["import_csv"], db=target)] * total,
                                  prepare=_copy_argv(Path(m["import_base"]), target), rows=m["import_rows"],
                                  key="import")
            if result and self.n >= 1_000_000 and not args.quick:
                self.import_million(target, result["rate"])
        if self.tw_wanted() and wanted("tw"):
            self.taskwarrior()
        return self.summary()

    def writes(self, label: str, ids: list[int], argv) -> None:
        total = self.args.warmup + self.args.runs
        if len(ids) < total:
            say(f"  {label:28} skipped: the store has {len(ids)} suitable cases, {total} needed")
            self.results.append({"label": label, "skipped": "not enough suitable cases"})
            return
        self.measure(label, label, [self.esc_argv(*argv(case)) for case in ids])

    def import_million(self, target: Path, rate: float) -> None:
        """The issue's RSS target: a 1M-row file, streamed. One run, when it can finish."""
        if rate * 1800 < self.n:
            say(f"  {'import (1M rows)':28} skipped: at {rate:,.0f} cases/s it would take "
                f"{self.n / rate / 60:.0f} minutes")
            self.results.append({"label": f"import ({self.n:,} rows)",
                                 "skipped": f"too slow at {rate:,.0f} cases/s"})
            return
        big = self.work / "import-all.csv"
        if not big.exists():
            say("  writing a 1M-row import file ...")
            generate.write_import_csv(self.pristine, big, self.n)
        rows = sum(1 for _ in open(big, "rb")) - 1
        saved = self.args.warmup
        self.args.warmup = 0
        self.measure(f"import ({rows:,} rows)", "import", [self.esc_argv("import", str(big), db=target)],
                     prepare=_copy_argv(Path(self.manifest["import_base"]), target), rows=rows, paired=False,
                     key="import", timeout=7200)
        self.args.warmup = saved

    def taskwarrior(self) -> None:
        """tw_bench.sh's commands, on the same cases (generate.write_taskwarrior)."""
        data = self.work / "tw-data"
        rc = self.work / "taskrc"
        rc.write_text(f"data.location={data}\nconfirmation=off\nverbose=nothing\ncolor=off\nhooks=off\n"
                      "news.version=2.6.2\n")
        env = {"TASKRC": str(rc), "TASKDATA": str(data)}
        runs = self.args.warmup + self.args.runs
        task = shutil.which("task")
        reset = [["rm", "-rf", str(data)], ["mkdir", "-p", str(data)]]
        tasks = str(self.work / "tasks.json")
        saved = self.args.warmup
        self.args.warmup = 0  # a fresh import per run is slow: one, like tw_bench.sh's IMPORT_RUNS=1
        self.measure("task import", "", [[task, "import", tasks]], prepare=reset, env=env, paired=False,
                     rows=self.n, timeout=7200)
        self.args.warmup = saved
        self.measure("task next", "", [[task, "next"]] * runs, env=env)
        self.measure("task add", "", [[task, "add", "Customer cust0001 reports vpn problem", "priority:H",
                                       "project:technical", "+tier2"]] * runs, env=env)
        self.measure("task modify", "", [[task, "1", "modify", "priority:H"]] * runs, env=env,
                     prepare=[[task, "1", "modify", "priority:L"]])

    # -- results ---------------------------------------------------------------------------

    def summary(self) -> dict:
        by_label = {r["label"]: r for r in self.results}
        for result in self.results:
            if "skipped" in result:
                continue
            target = TARGETS.get(result["key"])
            checks = []
            if result.get("failed"):
                checks.append(False)
            if target:
                kind, limit = target
                if kind == "ratio" and "ratio" in result:
                    checks.append(result["ratio"] <= limit)
                    result["target"] = f"<= {limit:g}x"
                elif kind == "seconds":
                    checks.append(result["median"] <= limit)
                    result["target"] = f"<= {limit:g} s"
                elif kind == "rate" and "rate" in result:
                    checks.append(result["rate"] >= limit)
                    result["target"] = f">= {limit:,.0f}/s"
            if not result["key"].startswith("task "):
                limit = IMPORT_RSS_LIMIT if result["key"].startswith("import") else RSS_LIMIT
                result["rss_ok"] = result["rss"] <= limit
                checks.append(result["rss_ok"])
            result["met"] = all(checks) if checks else None
        ratios = []
        for mine, theirs, want in TW_RATIOS:
            a, b = by_label.get(mine), by_label.get(theirs)
            if a and b and "median" in a and "median" in b:
                times = b["median"] / a["median"]
                cpu_times = b["cpu"] / a["cpu"] if a["cpu"] else None
                ratios.append({"esc": mine, "taskwarrior": theirs, "times_faster": times,
                               "cpu_times_faster": cpu_times, "target": want,
                               "met": None if want is None else times >= want})
        ours = next((r for r in self.results if r.get("key") == "import" and "rate" in r), None)
        theirs = by_label.get("task import")
        if ours and theirs and "rate" in ours and "rate" in theirs:
            ratios.append({"esc": "import", "taskwarrior": "task import", "times_faster": ours["rate"] / theirs["rate"],
                           "target": None, "met": None})
        store = _store_breakdown(self.pristine, self.n)
        store["met"] = store["bytes_per_case"] <= STORE_LIMIT
        return {"n": self.n, "manifest": self.manifest, "results": self.results, "taskwarrior": ratios,
                "store": store}


# -- helpers ---------------------------------------------------------------------------------

def _json_of(argv: list[str], pick) -> dict | None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    try:
        return pick(json.loads(done.stdout))
    except (ValueError, AttributeError):
        return None


def _copy_argv(source: Path, target: Path) -> list[list[str]]:
    # `sync FILE` (untimed, like the copy): a fresh 1.5 GB copy is all dirty page cache,
    # and the timed command's first WAL checkpoint would otherwise pay for writing the
    # whole copy out (0.6 s at 1M here) - work a store in real use never has pending
    return [["rm", "-f", str(target), f"{target}-wal", f"{target}-shm"],
            ["cp", "--reflink=auto", str(source), str(target)],
            ["sync", str(target)]]


def _copy_store(source: Path, target: Path) -> None:
    for argv in _copy_argv(source, target):
        subprocess.run(argv, check=True)


def _schema_version(path: Path) -> int | None:
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return con.execute("PRAGMA user_version").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return None


def _esc_schema_version(python: str) -> int:
    """Asked afresh each time: the code under test may change between two sizes."""
    done = subprocess.run([python, "-c", "from esc_cli.store.migrations import SCHEMA_VERSION as v; print(v)"],
                          capture_output=True, text=True, check=True)
    return int(done.stdout.strip())


def _upgrade(python: str, store: Path) -> None:
    code = ("import sys; from pathlib import Path; from esc_cli.store.db import Store; "
            "s = Store.open(Path(sys.argv[1])); s.conn.execute('PRAGMA wal_checkpoint(TRUNCATE)'); s.close()")
    subprocess.run([python, "-c", code, str(store)], check=True)


def _store_breakdown(path: Path, n: int) -> dict:
    """Bytes per case of the whole file, and by part (dbstat: every table and index)."""
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    parts = {"cases": 0, "events": 0, "indexes": 0, "search": 0, "notifications": 0, "other": 0}
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        kinds = dict(con.execute("SELECT name, type FROM sqlite_master"))
        tables = dict(con.execute("SELECT name, tbl_name FROM sqlite_master"))
        for name, pages in con.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name"):
            if "fts" in name:
                part = "search"
            elif kinds.get(name) == "index" or name.startswith("sqlite_autoindex"):
                part = "indexes" if tables.get(name) in ("cases", "events") else (
                    "notifications" if tables.get(name) in ("notifications", "deliveries") else "other")
            elif name in ("cases", "events"):
                part = name
            elif name in ("notifications", "deliveries"):
                part = "notifications"
            else:
                part = "other"
            parts[part] += pages
    except sqlite3.Error:
        pass
    finally:
        con.close()
    return {"bytes": size, "bytes_per_case": size / n,
            "per_case": {k: round(v / n, 1) for k, v in parts.items()}}


def _available_commands(esc: str) -> set[str]:
    """Command names `esc --help` lists (its command panels, Rich or plain: "Commands",
    or groups such as "Work a case"; never the Options panel)."""
    done = subprocess.run([esc, "--help"], capture_output=True, text=True, check=False,
                          env=dict(os.environ, COLUMNS="200"))
    names, inside = set(), False
    for line in done.stdout.splitlines():
        if "Commands" in line or line.lstrip().startswith(("╭", "+-")):
            inside = "Options" not in line
            continue
        if inside:
            match = re.match(r"^[\s│|]*([a-z][a-z-]*)\s{2,}", line)
            if match:
                names.add(match.group(1))
    return names


def _times(x: float) -> str:
    return f"{x:.1f}x" if x >= 1 else f"{x:.2f}x"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}" if seconds >= 10 else f"{seconds * 1000:,.1f}"


def _progress_line(r: dict) -> str:
    text = f"{r['label']:28} {_ms(r['median']):>9} ms [{_ms(r['min'])}-{_ms(r['max'])}]  rss {r['rss']:.1f} MiB"
    if "ratio" in r:
        text += f"  floor {_ms(r['floor'])} ms  x{r['ratio']:.2f}"
    if "rate" in r:
        text += f"  {r['rate']:,.0f}/s"
    if r.get("failed"):
        text += f"  FAILED {r['failed']}"
    return text


def render(summary: dict, markdown: bool = False) -> str:
    n = summary["n"]
    m = summary["manifest"]
    store = summary["store"]
    per = store["per_case"]
    lines = []
    head = (f"N = {n:,} cases ({m['states'].get('new', 0) + m['states'].get('open', 0) + m['states'].get('pending', 0):,} "
            f"unresolved, {m['breached_at_now']:,} breached and {m['at_risk_at_now']:,} at risk at NOW)")
    lines.append(("### " if markdown else "") + head)
    lines.append("")
    lines.append(f"store: {store['bytes'] / MIB:,.1f} MiB = {store['bytes_per_case']:,.0f} B/case "
                 f"(cases {per['cases']:.0f}, events {per['events']:.0f}, indexes {per['indexes']:.0f}, "
                 f"search {per['search']:.0f}, notifications {per['notifications']:.0f}); "
                 f"target <= 1,536 B/case: {'met' if store['met'] else 'NOT MET'}; "
                 f"generated in {m['seconds']['total']:.0f} s"
                 + "".join(f", upgraded from schema {u['from']} to {u['to']} in {u['seconds']:g} s"
                           for u in m.get("upgrades", [])))
    lines.append("")
    cols = ["command", "median ms", "min ms", "max ms", "cpu ms", "peak RSS MiB", "floor ms", "ratio",
            "cpu ratio", "target", "met"]
    rows = []
    for r in summary["results"]:
        if "skipped" in r:
            rows.append([r["label"], "skipped: " + r["skipped"], "", "", "", "", "", "", "", "", ""])
            continue
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else ""
        if "rate" in r:
            ratio = f"{r['rate']:,.0f}/s"
        met = "" if r.get("met") is None else ("yes" if r["met"] else "NO")
        if r.get("failed"):
            met = "FAILED"
        cpu_ratio = f"{r['cpu_ratio']:.2f}x" if r.get("cpu_ratio") else ""
        rows.append([r["label"], _ms(r["median"]), _ms(r["min"]), _ms(r["max"]), _ms(r["cpu"]),
                     f"{r['rss']:.1f}", _ms(r["floor"]) if "floor" in r else "", ratio, cpu_ratio,
                     r.get("target", ""), met])
    lines.extend(_table(cols, rows, markdown))
    if summary["taskwarrior"]:
        lines.append("")
        tw_rows = [[t["esc"], t["taskwarrior"], _times(t["times_faster"]),
                    _times(t["cpu_times_faster"]) if t.get("cpu_times_faster") else "",
                    "" if t["target"] is None else f">= {t['target']:g}x",
                    "" if t["met"] is None else ("yes" if t["met"] else "NO")] for t in summary["taskwarrior"]]
        lines.extend(_table(["esc", "taskwarrior", "esc faster by (wall)", "by CPU time", "target", "met"],
                            tw_rows, markdown))
    notes = [f"{r['label']}: " + ", ".join(f"{k} {v:,}" for k, v in r["did"].items() if v is not None)
             for r in summary["results"] if r.get("did")]
    if notes:
        lines.append("")
        lines.extend(notes)
    failed = [r["label"] for r in summary["results"] if r.get("failed")]
    if failed:
        lines.append("")
        for r in summary["results"]:
            if r.get("failed"):
                lines.append(f"FAILED {r['label']}: {r['failed']}")
    return "\n".join(lines)


def _table(cols: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        out = ["| " + " | ".join(cols) + " |", "|" + "|".join(" --- " for _ in cols) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        return out
    widths = [max(len(str(x)) for x in [c] + [row[i] for row in rows]) for i, c in enumerate(cols)]
    fmt = lambda row: "  ".join((str(v).ljust(w) if i == 0 else str(v).rjust(w))  # noqa: E731
                                for i, (v, w) in enumerate(zip(row, widths))).rstrip()
    return [fmt(cols), fmt(["-" * w for w in widths])] + [fmt(row) for row in rows]


def environment(args) -> dict:
    versions = {}
    for module in ("typer", "rich", "sqlite_utils", "pendulum"):
        try:
            from importlib.metadata import version

            versions[module] = version(module.replace("_", "-"))
        except Exception:
            versions[module] = "?"
    tw = shutil.which("task")
    tw_version = subprocess.run([tw, "--version"], capture_output=True, text=True).stdout.strip() if tw else None
    return {"when": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "cores": os.cpu_count(),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, **versions,
            "taskwarrior": tw_version, "load_average": os.getloadavg()[0],
            "floor_app": str(yardstick("floor_app.py", args.yardsticks))}


def main(argv=None) -> int:
    import signal

    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated store sizes")
    ap.add_argument("--runs", type=int, default=5, help="timed runs per command")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first")
    ap.add_argument("--quick", action="store_true", help="10,000 cases, 1 run, no warm-up, no taskwarrior")
    ap.add_argument("--only", help="comma-separated: help,show,explain,queue,overdue,search,report,sweep,"
                                   "open,ack,note,escalate,import,tw")
    ap.add_argument("--workdir", default=str(HERE / ".work"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", type=int, default=None, help="generator worker processes")
    ap.add_argument("--import-rows", type=int, default=None, help="rows in the import file (default min(N, 100000))")
    ap.add_argument("--regenerate", action="store_true", help="rebuild the stores even if they are current")
    ap.add_argument("--no-tw", action="store_true", help="leave taskwarrior out")
    ap.add_argument("--yardsticks", help="folder with floor_app.py (default ../shared/yardsticks, "
                                         "else benchmarks/yardsticks)")
    ap.add_argument("--budget", type=float, default=300.0,
                    help="seconds one benchmark may take; slower ones get fewer runs (default 300)")
    ap.add_argument("--json", help="also write the results as JSON to this file")
    ap.add_argument("--markdown", help="also write the tables as Markdown to this file")
    a = ap.parse_args(argv)
    if a.quick:
        a.sizes = "10000" if "--sizes" not in (argv or sys.argv) else a.sizes
        a.runs, a.warmup, a.no_tw = 1, 0, True
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    a.python = sys.executable
    a.esc = str(Path(sys.executable).with_name("esc"))
    if not Path(a.esc).exists():
        ap.error(f"no esc next to {sys.executable}: run this with the virtualenv's python")
    env = environment(a)
    available = _available_commands(a.esc)
    cache = bytecode_env(Path(a.workdir))
    Path(a.workdir).mkdir(parents=True, exist_ok=True)
    prime(a.python, a.esc, str(yardstick("floor_app.py", a.yardsticks)), cache)
    timer = Timer(a.python, cache)
    say(f"esc benchmarks: {env['when']}, {env['cores']} cores, Python {env['python']}, SQLite {env['sqlite']}, "
        f"typer {env['typer']}, load {env['load_average']:.1f}; floor app {env['floor_app']}")
    if not env["taskwarrior"]:
        say("taskwarrior is not installed (apt-get install -y taskwarrior): no comparison")
    summaries = []
    for size in sizes:
        summaries.append(Bench(a, size, timer, available).run())
    out = [f"esc benchmarks, {env['when']}: {env['cores']} cores, Python {env['python']}, SQLite {env['sqlite']}, "
           f"typer {env['typer']}, rich {env['rich']}, sqlite-utils {env['sqlite_utils']}, pendulum "
           f"{env['pendulum']}, taskwarrior {env['taskwarrior'] or 'not installed'}; "
           f"{a.runs} runs (+{a.warmup} warm-up) per command; medians of whole processes in a pipe; "
           "ratio = median / the floor's median, each run paired with a floor run (cpu ratio: the same "
           "with CPU time, steadier on a busy machine); bytecode cached (PYTHONPYCACHEPREFIX), as an "
           "installed esc has it; "
           "targets are the issue's, set at 1M cases", ""]
    md = list(out)
    for summary in summaries:
        out += [render(summary), ""]
        md += [render(summary, markdown=True), ""]
    print("\n".join(out).rstrip())
    if a.json:
        Path(a.json).write_text(json.dumps({"environment": env, "sizes": summaries}, indent=2, default=str))
    if a.markdown:
        Path(a.markdown).write_text("\n".join(md).rstrip() + "\n")
    failed = [r for s in summaries for r in s["results"] if r.get("failed")]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
