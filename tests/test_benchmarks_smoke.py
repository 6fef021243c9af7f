"""The benchmark suite keeps working: a tiny store from the generator is exactly what
the domain makes (every life checked, `esc doctor` passes, the sweep has nothing to
do at the generator's NOW), and the runner's quick mode times every command and
prints its table. Benchmarks are not tests: no figure is asserted here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
ESC = str(Path(sys.executable).with_name("esc"))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]


def _commands() -> str:
    return subprocess.run([ESC, "--help"], capture_output=True, text=True,
                          env=dict(os.environ, COLUMNS="200")).stdout


def test_generated_store_is_consistent_and_the_runner_prints_its_table(tmp_path):
    store = tmp_path / "n2000" / "esc.db"
    store.parent.mkdir()
    subprocess.run([sys.executable, str(BENCH / "generate.py"), "2000", str(store), "--quiet",
                    "--jobs", "1", "--verify", "--import-rows", "300"], check=True, timeout=120)
    manifest = json.loads(Path(f"{store}.json").read_text())
    assert manifest["cases"] == 2000
    unresolved = sum(manifest["states"].get(s, 0) for s in ("new", "open", "pending"))
    assert unresolved == 200
    assert 4 <= manifest["events"] / 2000 <= 8
    assert manifest["sweep_due_at_now"] == 0
    assert manifest["checked_lives"] >= manifest["shifted_lives"] > 0
    csv_lines = Path(manifest["import_csv"]).read_text().splitlines()
    assert len(csv_lines) == 301 and csv_lines[0].startswith("title,")

    base = [ESC, "--db", str(store), "--now", manifest["now"], "--tz", "UTC"]
    helped = _commands()
    if " doctor " in helped:
        doctor = subprocess.run([*base, "doctor", "--json"], capture_output=True, text=True)
        assert doctor.returncode == 0, doctor.stdout + doctor.stderr
        assert json.loads(doctor.stdout)["ok"] is True
    if " sweep " in helped:
        dry = subprocess.run([*base, "sweep", "--dry-run", "--json"], capture_output=True, text=True)
        assert dry.returncode == 0, dry.stderr
        assert json.loads(dry.stdout)["checked"] == 0

    # the runner reuses that store (same seed, generator and schema) in its work dir
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--sizes", "2000", "--workdir", str(tmp_path),
         "--import-rows", "300", "--yardsticks", str(BENCH / "yardsticks"), "--json", str(results)],
        capture_output=True, text=True, timeout=140)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "generating" not in run.stderr  # the store above was reused
    lines = run.stdout.splitlines()
    header = next(line for line in lines if line.startswith("command"))
    for column in ("median ms", "peak RSS MiB", "floor ms", "ratio", "met"):
        assert column in header
    labels = {line.split("  ")[0] for line in lines}
    for label in ("--help", "show", "queue --limit 50", "open", "ack", "note", "escalate"):
        assert label in labels, label
    document = json.loads(results.read_text())
    measured = [r for r in document["sizes"][0]["results"] if "median" in r]
    assert all(r["median"] > 0 and r["floor"] > 0 for r in measured if "floor" in r)
    assert not [r for r in measured if r.get("failed")]
    skipped = [r["label"] for r in document["sizes"][0]["results"] if "skipped" in r]
    # the commands every esc has are timed, whatever panels `esc --help` groups them in
    assert not {"show", "queue --limit 50", "open", "ack", "note", "escalate"} & set(skipped), skipped
    for label in skipped:  # a command missing from `esc --help` is named, not silently dropped
        assert f"{label}" in run.stdout


def test_the_sqlite_ceiling_script_copies_an_import_and_prints_its_rate(tmp_path):
    base = tmp_path / "base.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update(ESC_NOW="2026-11-02T10:00:00Z", ESC_TZ="UTC", ESC_USER="bench")
    subprocess.run([ESC, "--db", str(base), "init"], check=True, env=env, capture_output=True)
    rows = tmp_path / "cases.csv"
    rows.write_text("title,customer,priority,opened_at,acknowledged_at\n" + "".join(
        f"Case {i},Globex,high,2026-11-01T09:00:00Z,2026-11-01T09:30:00Z\n" for i in range(40)))
    imported = tmp_path / "imported.db"
    imported.write_bytes(base.read_bytes())
    subprocess.run([ESC, "--db", str(imported), "import", str(rows)], check=True, env=env,
                   capture_output=True)
    done = subprocess.run([sys.executable, str(BENCH / "sqlite_ceiling.py"), "--imported",
                           str(imported), "--base", str(base)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "SQLite alone: 40 cases and 80 events" in done.stdout
    assert "cases/s" in done.stdout.splitlines()[-1]
