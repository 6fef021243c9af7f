"""`esc demo` against the shipped sample data, and the generator that wrote it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EscRunner, run_process

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
SAMPLE_NOW = json.loads((SAMPLE / "demo.json").read_text())["now"]


def _has(module: str) -> bool:
    """The sweep, overdue and report services are their own parts of esc; the demo shows
    what is installed."""
    from importlib.util import find_spec

    return find_spec(module) is not None


HAS_SWEEP = _has("esc_cli.services.sweep")
HAS_REPORT = _has("esc_cli.services.report")


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One demo (the slow part: a few hundred cases and a sweep), shared by the checks."""
    base = tmp_path_factory.mktemp("demo")
    runner = EscRunner(base / "never.db")
    target = base / "store" / "demo.db"
    result = runner("demo", "--into", str(target), "--json")
    assert result.code == 0, result.err
    return runner, target, result.json()


def test_demo_loads_the_sample_into_a_new_store_and_shows_everything(demo_run):
    runner, target, document = demo_run
    assert document["db"] == str(target) and target.exists()
    assert document["now"] == SAMPLE_NOW  # the sample's instant, not --now
    assert document["imported"]["owners.csv"]["owners"] >= 10
    assert document["imported"]["cases.json"]["cases"] >= 200
    assert document["queue"] and all(c["state"] in ("new", "open", "pending") for c in document["queue"])
    if HAS_SWEEP:
        assert document["overdue"], "the sample should have overdue cases at its now"
        assert any(c["breached"] for c in document["overdue"])
    if HAS_REPORT:
        report = document["report"]
        assert report["opened"] > 0 and report["backlog"] == document["unresolved"]
        assert report["escalation_rate"] and report["csat_count"] > 0
    assert document["command"] == f"esc --db {target} queue"
    assert not runner.db.exists(), "demo must never touch --db / ESC_DB"


@pytest.mark.skipif(not HAS_SWEEP, reason="esc sweep is not part of this build")
def test_the_sweep_ran_live_and_notified_through_the_command_channel(demo_run):
    _, target, document = demo_run
    sweep = document["sweep"]
    assert sweep["now"] == SAMPLE_NOW and sweep["escalated"] and sweep["notified"]
    lines = Path(document["notifications_file"]).read_text().splitlines()
    delivered = [n for n in sweep["notified"] if n["delivered"]]
    assert len(lines) == len(delivered) > 0
    assert {json.loads(line)["case"] for line in lines} == {n["case"] for n in delivered}


def test_the_printed_command_opens_the_same_store(demo_run):
    _, target, document = demo_run
    again = EscRunner(target, now=SAMPLE_NOW)
    queue = again.doc("queue", "--limit", str(len(document["queue"])))
    assert [c["id"] for c in queue] == [c["id"] for c in document["queue"]]
    if again("doctor", "--help").code == 0:
        assert again.doc("doctor")["ok"] is True


def test_into_an_existing_path_is_refused(tmp_path):
    runner = EscRunner(tmp_path / "never.db")
    taken = tmp_path / "taken.db"
    taken.write_text("mine")
    result = runner("demo", "--into", str(taken))
    assert result.code == 2
    assert result.err.startswith("error: ") and "already exists" in result.err
    assert taken.read_text() == "mine"
    assert runner("demo", "--into", str(tmp_path)).code == 2  # a directory exists too


def test_plain_output_in_a_pipe_and_a_fresh_temporary_directory(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    runner = EscRunner(tmp_path / "never.db")
    result = runner.ok("demo")
    created = [p for p in tmp_path.iterdir() if p.name.startswith("esc-demo-")]
    assert len(created) == 1 and (created[0] / "esc.db").exists()
    out = result.out
    sections = ["# queue:", "# open this store again"]
    sections += ["# overdue:"] if HAS_SWEEP else []
    sections += ["# report:"] if HAS_REPORT else []
    for section in sections:
        assert section in out
    assert f"esc --db {created[0] / 'esc.db'} queue\n" in out
    queue = out.split("# queue:", 1)[1].split("\n# ", 1)[0].splitlines()
    assert queue[1].startswith("id\tpriority\tstate") and len(queue) > 3
    assert "\x1b[" not in out and result.err == ""


def test_demo_as_a_process_ignores_esc_db(tmp_path):
    elsewhere = tmp_path / "mine.db"
    target = tmp_path / "demo.db"
    result = run_process("demo", "--into", str(target),
                         env={"ESC_DB": str(elsewhere), "ESC_NOW": "2030-01-01T00:00:00Z"})
    assert result.code == 0, result.err
    assert target.exists() and not elsewhere.exists()
    assert f"esc --db {target} queue" in result.out
    assert "Traceback" not in result.err


def test_the_generator_is_deterministic(tmp_path):
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name
        subprocess.run([sys.executable, str(SAMPLE / "generate.py"), "--out", str(out)],
                       check=True, capture_output=True, timeout=120)
        outputs.append({p.name: p.read_bytes() for p in out.iterdir()})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {"owners.csv", "cases.json", "demo.json"}


def test_the_shipped_sample_imports_with_esc_import(tmp_path):
    runner = EscRunner(tmp_path / "s.db", now=SAMPLE_NOW)
    runner.ok("init", "--policy", str(SAMPLE / "policy.toml"))
    assert runner.doc("import", str(SAMPLE / "owners.csv"))["owners"] >= 10
    summary = runner.doc("import", "--dry-run", str(SAMPLE / "cases.json"))
    cases = json.loads((SAMPLE / "cases.json").read_text())
    assert summary["cases"] == len(cases)
    kinds = {e["kind"] for c in cases for e in c["events"]}
    # the realistic mix the demo promises
    assert {"escalated", "pending", "resumed", "reopened", "feedback", "breached", "warned",
            "closed", "customer_update"} <= kinds
    escalations = [e for c in cases for e in c["events"] if e["kind"] == "escalated"]
    assert {e["field"] for e in escalations} == {"tier", "team"}  # hierarchical and functional
    assert {c["priority"] for c in cases} == {"urgent", "high", "medium", "low"}
    assert len({c["channel"] for c in cases}) == 5 and len({c["category"] for c in cases}) == 6


def test_a_demo_that_fails_half_way_leaves_nothing(tmp_path, monkeypatch):
    from esc_cli.errors import UsageError
    from esc_cli.services import data

    def broken(env, path, **kwargs):
        kwargs["on_error"]("line 2", ["unknown owner 'ghost'"])
        raise UsageError("1 bad row")

    monkeypatch.setattr(data, "import_file", broken)
    target = tmp_path / "sub" / "demo.db"
    result = EscRunner(tmp_path / "never.db")("demo", "--into", str(target))
    assert result.code == 5
    assert "the sample data does not import: owners.csv: line 2: unknown owner 'ghost'" in result.err
    assert not target.exists() and not list((tmp_path / "sub").iterdir())
