"""`esc demo` against the shipped sample data, and the generator that wrote it."""

from __future__ import annotations

import os
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EscRunner, run_process

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data"
PACKAGED = REPO / "src" / "esc_cli" / "sample_data"
SAMPLE_NOW = json.loads((SAMPLE / "demo.json").read_text())["now"]
# The demo moves the sample to its "now": Monday 7 December 2026, 09:00 in New York.
DEMO_NOW = "2026-12-07T14:00:00Z"


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
    runner = EscRunner(base / "never.db", now=DEMO_NOW)
    target = base / "store" / "demo.db"
    result = runner("demo", "--into", str(target), "--json")
    assert result.code == 0, result.err
    return runner, target, result.json()


def test_demo_loads_the_sample_into_a_new_store_and_shows_everything(demo_run):
    runner, target, document = demo_run
    assert document["db"] == str(target) and target.exists()
    assert document["now"] == DEMO_NOW  # the sample moved to --now
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
    assert sweep["now"] == DEMO_NOW and sweep["escalated"] and sweep["notified"]
    lines = Path(document["notifications_file"]).read_text().splitlines()
    delivered = [n for n in sweep["notified"] if n["delivered"]]
    assert len(lines) == len(delivered) > 0
    assert {json.loads(line)["case"] for line in lines} == {n["case"] for n in delivered}


def test_the_printed_command_opens_the_same_store(demo_run):
    _, target, document = demo_run
    again = EscRunner(target, now=DEMO_NOW)
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


def test_into_a_path_whose_notification_log_exists_is_refused(tmp_path):
    """The demo's sweep appends to PATH-notifications.jsonl and a failed demo removes
    it: a file already there is not the demo's to add to or remove."""
    runner = EscRunner(tmp_path / "never.db")
    log = tmp_path / "desk-notifications.jsonl"
    log.write_text("mine\n")
    result = runner("demo", "--into", str(tmp_path / "desk.db"))
    assert result.code == 2
    assert result.err.startswith(f"error: {log} already exists") and result.err.count("error:") == 1
    assert log.read_text() == "mine\n" and not (tmp_path / "desk.db").exists()


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
    assert "--now" not in out  # the store is live: nothing to pin
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
    from esc_cli.services import demo

    def broken(env, path, **kwargs):
        kwargs["on_error"]("line 2", ["unknown owner 'ghost'"])
        raise UsageError("1 bad row")

    monkeypatch.setattr(demo, "import_file", broken)
    target = tmp_path / "sub" / "demo.db"
    result = EscRunner(tmp_path / "never.db")("demo", "--into", str(target))
    assert result.code == 5
    assert "the sample data does not import: owners.csv: line 2: unknown owner 'ghost'" in result.err
    assert not target.exists() and not list((tmp_path / "sub").iterdir())


# -- the installed copy ----------------------------------------------------------------------

def _generator():
    import importlib.util

    spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_package_carries_the_same_sample_as_sample_data():
    import gzip

    expected = _generator().package_copy(SAMPLE)
    shipped = {p.name: p.read_bytes() for p in PACKAGED.iterdir() if p.is_file()}
    assert set(shipped) == set(expected), "run python sample_data/generate.py"
    for name, data in expected.items():
        if name.endswith(".gz"):  # the same JSON; the compressed bytes may differ by zlib build
            same = gzip.decompress(shipped[name]) == gzip.decompress(data)
        else:
            same = shipped[name] == data
        assert same, f"src/esc_cli/sample_data/{name} differs from sample_data/: run python sample_data/generate.py"


def test_pyproject_ships_the_sample_as_package_data():
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "sample_data/*" in config["tool"]["setuptools"]["package-data"]["esc_cli"]


def _build_wheel(tmp_path: Path) -> Path:
    """A wheel built from a copy of the checkout (so the build leaves nothing in it)."""
    import shutil

    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-c", "import sys, setuptools.build_meta as b; "
                    "print(b.build_wheel(sys.argv[1]))", str(out)],
                   cwd=source, check=True, capture_output=True, timeout=120)
    (wheel,) = out.glob("*.whl")
    return wheel


def test_a_wheel_installed_outside_the_checkout_runs_the_demo(tmp_path):
    """What a newcomer does: pip install (not editable) into a fresh venv, then esc demo.
    The venv gets esc from the wheel alone; its dependencies are borrowed from the test
    venv through a .pth line, which keeps the test offline and fast (a path line adds a
    directory but does not run its .pth files, so this checkout's editable install stays
    out)."""
    import sysconfig
    import zipfile

    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("policy.toml", "owners.csv", "demo.json", "cases.json.gz"):
        assert f"esc_cli/sample_data/{name}" in names
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "--quiet", str(wheel)], check=True, capture_output=True, timeout=120)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    (Path(site) / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_") and k != "PYTHONPATH"}
    env.update({"ESC_NOW": DEMO_NOW, "HOME": str(tmp_path)})
    where = subprocess.run([str(python), "-c", "import esc_cli; print(esc_cli.__file__)"], cwd=tmp_path,
                           env=env, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(venv), where  # the installed copy, not the checkout's

    target = tmp_path / "demo" / "esc.db"
    result = subprocess.run([str(venv / "bin" / "esc"), "demo", "--into", str(target)], cwd=tmp_path,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and "# queue:" in result.stdout and target.exists()
    assert f"esc --db {target} queue" in result.stdout
    listed = subprocess.run([str(venv / "bin" / "esc"), "--db", str(target), "queue", "--json"],
                            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and len(json.loads(listed.stdout)) > 10


# -- a live desk whenever it is run ----------------------------------------------------------

def _relative(runner: EscRunner, now: str) -> dict:
    """The store as seen from its "now": every instant as seconds before it."""
    from esc_cli.render.output import parse_iso

    base = parse_iso(now)
    document = runner.ok("export").json()
    cases = {}
    for case in document["cases"]:
        # the demo's own sweep acts at now, and what it does depends on the calendar
        history = [(parse_iso(e["at"]) - base, e["kind"], e["field"], e["actor"])
                   for e in case["events"] if parse_iso(e["at"]) < base]
        cases[case["id"]] = (case["title"], case["priority"], case["customer"],
                             parse_iso(case["opened_at"]) - base, history)
    return cases


def _live(runner: EscRunner, document: dict) -> None:
    """What a newcomer should see: a sweep with work, a few breaches, a few at risk,
    something due soon."""
    sweep = document["sweep"]
    assert sweep["warned"] and sweep["breached"] and sweep["escalated"] and sweep["notified"]
    breached = [c for c in document["overdue"] if c["breached"]]
    assert 3 <= len(breached) < document["unresolved"]
    at_risk = [c for c in document["overdue"] if c["at_risk"] and not c["breached"]]
    assert len(at_risk) >= 3  # the sample's AT_RISK_NOW, whatever the day
    soon = runner.doc("overdue", "--within", "2h")
    assert [c for c in soon if not c["breached"]], "nothing falls due in the next two hours"
    assert runner.doc("doctor")["ok"] is True


def test_two_demos_at_different_times_show_the_same_desk(demo_run, tmp_path):
    first_runner, first_db, first = demo_run
    later = "2027-03-13T07:41:00Z"  # a Saturday night in New York, months on
    second_db = tmp_path / "later.db"
    second = EscRunner(tmp_path / "never.db", now=later).doc("demo", "--into", str(second_db))
    assert second["now"] == later
    assert second["unresolved"] == first["unresolved"]
    one, two = EscRunner(first_db, now=DEMO_NOW), EscRunner(second_db, now=later)
    assert _relative(one, DEMO_NOW) == _relative(two, later)
    _live(one, first)
    _live(two, second)


def test_without_now_the_demo_acts_at_the_real_time(tmp_path):
    # The one place a test reads the clock: to bracket what the demo took as "now".
    import time

    from esc_cli.render.output import parse_iso

    before = int(time.time()) // 60 * 60
    result = run_process("demo", "--json", "--into", str(tmp_path / "d.db"))
    after = time.time()
    assert result.code == 0, result.err
    document = result.json()
    assert before <= parse_iso(document["now"]) <= after
    listed = run_process("--db", str(tmp_path / "d.db"), "queue", "--limit", "0", "--json")
    opened = [parse_iso(c["opened_at"]) for c in listed.json()]
    assert max(opened) <= after and max(opened) > before - 3 * 3600  # the freshest inbox


def test_its_sentences_fit_80_columns_without_wrapping(tmp_path):
    """The demo's first line, the report's heading and the closing note are whole lines
    at 80 columns (Rich would otherwise wrap them mid-phrase)."""
    from tests.test_output import on_terminal, strip_sgr

    runner = EscRunner(tmp_path / "never.db", now=DEMO_NOW)
    code, out, err = on_terminal(runner, "demo", "--into", str(tmp_path / "d" / "demo.db"),
                                 env={"COLUMNS": "80"})
    assert code == 0, err
    lines = strip_sgr(out).splitlines()
    assert all(len(line) <= 80 for line in lines)
    intro = lines[0]
    assert intro.startswith("esc demo: ") and intro.endswith(" owners as of Mon 07 Dec 2026 "
                                                             "14:00 UTC"), intro
    heading = next(i for i, line in enumerate(lines) if "→" in line)
    # (79 columns in UTC: one line; a longer zone splits it, test_report_views)
    assert lines[heading] == ("Sat 07 Nov 2026 14:00 → Mon 07 Dec 2026 14:00 (UTC) · ▲/▼ "
                              "against the 30d before")
    assert lines[-2:] == [
        "  (the sample's timeline was moved to end now: its cases age in real",
        "  time from here on, and a sweep picks up what falls due)"]


def test_into_a_directory_esc_cannot_write_exits_2(tmp_path, monkeypatch):
    # a read-only directory or mount (root ignores the mode bits: the refusal is faked
    # where the demo asks): SQLite said only "unable to open database file", exit 5
    import errno
    import tempfile

    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    target = tmp_path / "ro" / "desk.db"
    result = EscRunner(tmp_path / "unused.db")("demo", "--into", str(target))
    assert result.code == 2, result
    assert result.err == f"error: cannot write {target}: Read-only file system\n"
    assert not target.exists()
