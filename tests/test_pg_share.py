"""Many machines on one PostgreSQL store, as real processes: two sweeps at once do
what one sweep does (no case escalated twice, no notification delivered twice, the
summaries add up), and writers racing on the same cases lose nothing and never fork a
hash chain."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import EscRunner

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
OPENED = "2026-11-02T06:00:00Z"
SWEEP_AT = "2026-11-02T08:00:00Z"
CASES = 150
ESC = str(Path(sys.executable).with_name("esc"))


def _spawn(db: str, *args: str, now: str, user: str = "sweeper", notify: Path | None = None):
    env = {"ESC_DB": db, "ESC_NOW": now, "ESC_USER": user, "ESC_TZ": "UTC"}
    if notify is not None:
        env["ESC_DEMO_NOTIFY"] = str(notify)
    import os

    full = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")} | env
    return subprocess.Popen([ESC, *args], env=full, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _opened_store(runner: EscRunner) -> EscRunner:
    runner.ok("init", "--policy", str(SAMPLE / "policy.toml"))
    runner.ok("import", str(SAMPLE / "owners.csv"))
    for i in range(CASES):
        runner.ok("open", f"Outage {i}", "-c", f"Customer {i % 7}", "-p", "urgent", now=OPENED)
    return runner


def test_two_sweeps_at_once_do_what_one_sweep_does(pg_fresh, tmp_path):
    pg = _opened_store(EscRunner(pg_fresh(), now=OPENED))
    # the same store on SQLite, moved there by export | import, swept once
    lite = EscRunner(tmp_path / "lite.db", now=OPENED)
    lite.ok("init", "--policy", str(SAMPLE / "policy.toml"))
    dump = tmp_path / "dump.json"
    dump.write_text(pg.ok("export").out)
    lite.ok("import", str(dump))
    assert lite.ok("export").out == pg.ok("export").out
    one = lite.doc("sweep", now=SWEEP_AT, env={"ESC_DEMO_NOTIFY": str(tmp_path / "lite.jsonl")})

    notify = tmp_path / "pg.jsonl"
    sweeps = [_spawn(str(pg.db), "sweep", "--json", now=SWEEP_AT, notify=notify)
              for _ in range(2)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in sweeps]
    assert [p.returncode for p in sweeps] == [0, 0]
    def entries(documents, key):
        # `delivered` says whether this sweep saw it delivered: the other sweep may be
        # the one sending it at that moment
        return sorted(json.dumps({k: v for k, v in x.items() if k != "delivered"}, sort_keys=True)
                      for document in documents for x in document[key])

    for key in ("warned", "breached", "escalated", "closed", "notified"):
        assert entries(results, key) == entries([one], key), key
    assert one["escalated"], "the sweep had work to share"
    assert pg.ok("export").out == lite.ok("export").out
    sent = [payload["id"] for payload in _payloads(notify.read_text())]
    assert len(sent) == len(set(sent)) == len(one["notified"])


def _payloads(text: str) -> list[dict]:
    """The JSON documents appended to the channel's file (two senders' newlines may
    land out of order; each payload is one write)."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at == len(text):
            return found
        payload, at = decoder.raw_decode(text, at)
        found.append(payload)


def test_racing_writers_lose_nothing_and_never_fork_a_chain(pg_fresh):
    from esc_cli.domain.model import event_hash
    from esc_cli.store import cases
    from esc_cli.store.pg import PgLocation, PgStore

    pg = EscRunner(pg_fresh(), now=OPENED)
    pg.ok("init")
    for i in range(3):
        pg.ok("open", f"Shared {i}", "-c", "Acme", "-p", "high")
    procs = []
    for worker in range(8):
        for case in (1, 2, 3):
            procs.append((worker, case, _spawn(str(pg.db), "note", str(case), f"w{worker} c{case}",
                                               now=SWEEP_AT, user=f"user{worker}")))
    sweep = _spawn(str(pg.db), "sweep", "--json", now=SWEEP_AT)
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda p: (p[0], p[1], p[2].wait(timeout=120), p[2].stderr.read()),
                              procs))
    assert sweep.wait(timeout=120) == 0, sweep.stderr.read()
    assert all(code == 0 for _, _, code, _ in codes), [c for c in codes if c[2]]
    store = PgStore.open(PgLocation(str(pg.db)))
    try:
        with store.read() as conn:
            for case in (1, 2, 3):
                chained = cases.get_events_with_hashes(conn, case)
                notes = sorted(e.reason for e, _ in chained if e.kind == "note")
                assert notes == sorted(f"w{w} c{case}" for w in range(8))
                previous = b""
                for event, stored in chained:
                    previous = event_hash(previous, case, event)
                    assert stored == previous, (case, event)
    finally:
        store.close()


def _shared_queue_block() -> list[str]:
    """The commands of docs/postgres.md's "A shared queue" block, in order: one a
    process (`&&` runs the next only if the first worked), a crontab line's command
    without its schedule."""
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "postgres.md").read_text()
    section = text.split("## A shared queue", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)[1]
    commands = []
    for line in block.splitlines():
        line = line.split(" # ")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("*/"):
            line = line.split(None, 5)[5]
        commands += [part.strip() for part in line.split("&&")]
    return commands


def test_the_docs_shared_queue_two_people_and_a_cron_sweep(pg_database):
    """A new team's first hour, exactly as docs/postgres.md writes it: the owners added
    once, alice opens and lists from her shell, bob takes it and notes from his, a third
    machine's cron sweeps; each line a process with its own environment."""
    import shlex

    from tests.conftest import run_process

    opened, swept = "2026-11-02T09:00:00Z", "2026-11-02T09:20:00Z"  # urgent: respond in 15m
    assert run_process("init", env={"ESC_DB": pg_database, "ESC_NOW": opened}).code == 0
    ran = []
    for command in _shared_queue_block():
        words = shlex.split(command)
        env = {"ESC_DB": pg_database, "ESC_NOW": opened, "ESC_TZ": "UTC", "ESC_USER": "setup"}
        while "=" in words[0]:
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        assert words[0] == "esc", command
        if env["ESC_DB"] != pg_database:  # the crontab line names the docs' server
            env.update(ESC_DB=pg_database, ESC_NOW=swept)
        result = run_process(*words[1:], env=env)
        assert result.code == 0 and result.err == "", (command, result.err)
        ran.append((env.get("ESC_USER"), words[1], result.out))
    assert [(user, verb) for user, verb, _ in ran] == [
        ("setup", "owner"), ("setup", "owner"), ("alice", "open"), ("alice", "queue"),
        ("bob", "take"), ("bob", "note"), ("bob", "queue"), ("setup", "sweep")]
    assert "VPN down for all of Acme" in ran[3][2]  # alice's queue
    assert ran[6][2].splitlines()[1].startswith("1\t")  # bob's own queue holds #1
    assert ran[7][2].startswith("sweep: ") and "1 breached" in ran[7][2]

    store = EscRunner(pg_database, now=swept)
    case = store.doc("show", "1")
    assert case["owner"] == "bob" and case["breached"] == ["response"]
    assert [(e["actor"], e["kind"]) for e in case["events"]] == [
        ("alice", "opened"), ("bob", "assigned"), ("bob", "note"), ("sweep", "breached"),
        ("sweep", "escalated")]
    assert store.doc("doctor")["ok"] is True
