"""benchmarks/pg_run.py keeps working: at 2,000 cases, one run of each command on the
test run's own PostgreSQL (the store moved in by esc export | esc import, reads, writes,
a sweep with work to do, imports against SQLite's), its table printed and every
database it made dropped. Benchmarks are not tests: no figure is asserted here. Left
out for time: "two sweeps at once" (10,000 cases, fixed in the runner)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests import pgserver

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
COMMANDS = ["show", "queue --limit 50", "overdue", "search", "report, 30 days",
            "sweep, nothing due", "ack", "note", "escalate", "import (2,000 rows)",
            "import (2,000 rows), SQLite"]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def test_the_postgresql_runner_times_every_command_and_drops_its_databases(pg_server, tmp_path):
    admin = pg_server["uri"]
    before = set(pgserver.psql(admin, "SELECT datname FROM pg_database").splitlines())
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, str(BENCH / "pg_run.py"), "--sizes", "2000", "--runs", "1", "--warmup", "0",
         "--only", "show,queue,overdue,search,report,sweep,ack,note,escalate,import",
         "--uri", admin, "--workdir", str(tmp_path), "--json", str(results)],
        capture_output=True, text=True, timeout=220)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    lines = run.stdout.splitlines()
    header = next(line for line in lines if line.startswith("command"))
    for column in ("median ms", "floor ms", "ratio", "target", "met"):
        assert column in header
    rows = {line.split("  ")[0]: line for line in lines[lines.index(header) + 2:] if line.strip()}
    for label in COMMANDS:
        assert label in rows, (label, run.stdout)
    assert not [line for line in lines if "FAILED" in line], run.stdout
    swept = next(label for label in rows if label.startswith("sweep, ") and label.endswith(" due")
                 and label != "sweep, nothing due")
    did = next(line for line in lines if line.startswith(f"{swept}: "))
    assert "escalated 0," not in did and "escalated" in did  # the sweep had work
    assert "moved from SQLite (esc export | esc import)" in run.stdout
    tables = json.loads(results.read_text())["sizes"]
    assert [t for t in tables if t.startswith("PostgreSQL, N = 2,000 cases")]
    after = set(pgserver.psql(admin, "SELECT datname FROM pg_database").splitlines())
    assert not {name for name in after - before if name.startswith("bench_")}
