"""Many machines on one PostgreSQL store, as real `esc` processes (issue 18): eight
writers on one case lose no write and never fork its hash chain; two sweeps started
together over 1,000 due cases escalate and deliver each case once, and between them do
exactly what one sweep does alone.

The store is checked through the driver, not through esc (a bug in esc must not hide a
bug in esc). CI runs the budgets below; ESC_STRESS=long runs 8 x 50 writes.
"""

from __future__ import annotations

import json
import subprocess
import threading
import tomllib
from collections import Counter

import psycopg2
import pytest

from esc_cli.domain.model import Event, chain_breaks
from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy
from tests import pgserver, stress
from tests.conftest import ESC, EscRunner, _fresh_database

WRITERS = 8
WRITES_EACH = stress.budget(8, 50)
DUE_CASES = 1000
OPENED = "2026-11-02T10:00:00Z"
LATER = "2026-11-02T12:00:00Z"  # two hours on: every urgent case has breached


def _rows(uri: str, sql: str, params=()) -> list[tuple]:
    conn = psycopg2.connect(uri)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def _chain_problems(uri: str) -> list[str]:
    """Every case's events, in id order, must verify as one unbroken hash chain."""
    problems = []
    events = _rows(uri, "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash "
                        "FROM events ORDER BY case_id, id")
    by_case: dict[int, list] = {}
    for row in events:
        by_case.setdefault(row[0], []).append((Event(*row[1:8]), bytes(row[8])))
    for case_id, chain in by_case.items():
        broken = chain_breaks(case_id, chain)
        if broken is not None:
            problems.append(f"#{case_id}: chain breaks at {broken}")
    return problems


def _env(uri: str, **extra: str) -> dict:
    return stress.process_env(uri, **extra)


def test_eight_writers_on_one_case_lose_nothing_and_never_fork_its_chain(pg_store):
    esc = EscRunner(pg_store)
    case = esc.doc("open", "Shared outage", "--customer", "Globex", "--priority", "urgent")["id"]
    env = _env(pg_store, ESC_NOW=LATER)
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        for i in range(WRITES_EACH):
            text = f"note w{w}-{i}"
            proc = subprocess.run([ESC, "--as", f"w{w}", "note", str(case), text], env=env,
                                  capture_output=True, text=True, timeout=120)
            with lock:
                results.append((text, proc.returncode, proc.stderr))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # every write waited for the case's row lock and succeeded: none was lost or refused
    assert len(results) == WRITERS * WRITES_EACH
    assert [(t, c, e) for t, c, e in results if c != 0 or e] == []
    notes = Counter(r for (r,) in _rows(pg_store, "SELECT reason FROM events WHERE case_id = %s "
                                                  "AND kind = 'note'", (case,)))
    assert notes == Counter(text for text, _, _ in results)
    # one chain, never forked: every event's hash covers the one before it
    assert _chain_problems(pg_store) == []
    count, stored = _rows(pg_store, "SELECT (SELECT count(*) FROM events WHERE case_id = %s), "
                                    "event_count FROM cases WHERE id = %s", (case, case))[0]
    assert count == stored == 1 + WRITERS * WRITES_EACH


def test_doctor_is_clean_after_concurrent_writers(pg_store):
    esc = EscRunner(pg_store)
    case = esc.doc("open", "Shared outage", "--customer", "Globex", "--priority", "urgent")["id"]
    env = _env(pg_store, ESC_NOW=LATER)
    procs = [stress.popen(["--as", f"w{w}", "note", str(case), f"note w{w}"], env)
             for w in range(WRITERS)]
    assert [p.wait(timeout=120) for p in procs] == [0] * WRITERS
    doctor = subprocess.run([ESC, "doctor", "--json"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


def _due_store(server: dict, tmp_path) -> str:
    """A template database: 1,000 urgent cases opened at OPENED (all breached by LATER)
    and a command channel that drops each notification into $INBOX, one file each."""
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    policy["channels"] = [{"type": "command", "timeout": "20s",
                           "argv": ["/bin/sh", "-c", 'cat > "$(mktemp -p "$INBOX")"']}]
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(policy))
    name, uri = _fresh_database(server, "template0")
    EscRunner(uri, now=OPENED).ok("init")
    EscRunner(uri, now=OPENED).ok("policy", "load", str(path))
    # the cases through the service layer: the CLI's parsing is not what is tested here
    from esc_cli import services
    from esc_cli.env import Env

    env = Env.build(uri, "alice", OPENED, "UTC")
    try:
        for number in range(DUE_CASES):
            services.open_case(env, title=f"Outage {number}", customer="Globex",
                               priority="urgent", category=None, description=None, channel=None,
                               owner=None, tier=None, team=None, tags=None)
    finally:
        env.close()
    pgserver.psql(server["uri"], f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true')
    return name


def _sweeps(uri: str, inbox, count: int) -> list[dict]:
    inbox.mkdir()
    env = _env(uri, ESC_NOW=LATER, ESC_USER="cron", INBOX=str(inbox))
    procs = [subprocess.Popen([ESC, "sweep", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(count)]
    # communicate, not wait: a sweep's JSON over 1,000 cases overflows a pipe's buffer
    outputs = [p.communicate(timeout=300) for p in procs]
    done = [(p.returncode, *output) for p, output in zip(procs, outputs)]
    assert [(code, err) for code, _, err in done] == [(0, "")] * count
    return [json.loads(out) for _, out, _ in done]


def _store_state(uri: str) -> tuple:
    """What the sweeps left, without the row ids that differ between two runs."""
    cases = _rows(uri, "SELECT * FROM cases ORDER BY id")
    events = _rows(uri, "SELECT case_id, at, actor, kind, field, from_value, to_value, reason, hash "
                        "FROM events ORDER BY case_id, id")
    notifications = _rows(uri, "SELECT case_id, count(*) FROM notifications GROUP BY case_id ORDER BY 1")
    return cases, [(*e[:8], bytes(e[8])) for e in events], notifications


LISTS = ("warned", "breached", "escalated", "closed", "notified")


def _items(doc: dict, key: str) -> list[str]:
    return [json.dumps({k: v for k, v in item.items() if k != "delivered"}, sort_keys=True)
            for item in doc[key]]


@pytest.fixture(scope="module")
def swept(pg_server, tmp_path_factory):
    """1,000 due cases swept twice from one template: once by one sweep alone ("one"),
    once by two sweeps started together ("two")."""
    tmp_path = tmp_path_factory.mktemp("swept")
    template = _due_store(pg_server, tmp_path)
    one_name, one = _fresh_database(pg_server, template)
    two_name, two = _fresh_database(pg_server, template)
    try:
        [alone] = _sweeps(one, tmp_path / "inbox-one", 1)
        pair = _sweeps(two, tmp_path / "inbox-two", 2)
        yield {"alone": alone, "pair": pair, "one": one, "two": two, "inbox": tmp_path / "inbox-two"}
    finally:
        for name in (one_name, two_name):
            pgserver.drop(pg_server["uri"], name)
        pgserver.psql(pg_server["uri"], f'ALTER DATABASE "{template}" WITH IS_TEMPLATE false')
        pgserver.drop(pg_server["uri"], template)


def test_two_sweeps_at_once_share_1000_due_cases_and_add_up_to_one(swept):
    alone, pair, one, two = swept["alone"], swept["pair"], swept["one"], swept["two"]
    # one sweep alone did the whole job
    assert len(alone["escalated"]) == DUE_CASES and alone["failed"] == 0
    # the pair shared it: no case escalated twice, and together exactly what one did (a
    # notification one sweep wrote may have been sent by the other: `delivered` aside)
    for key in LISTS:
        together = sorted(item for doc in pair for item in _items(doc, key))
        assert together == sorted(_items(alone, key)), key
    assert sum(doc["checked"] for doc in pair) == alone["checked"]
    assert [doc["failed"] for doc in pair] == [0, 0]

    per_case = _rows(two, "SELECT case_id, count(*) FROM events WHERE kind = 'escalated' "
                          "GROUP BY case_id ORDER BY 1")
    assert per_case == [(i, 1) for i in range(1, DUE_CASES + 1)]
    # and the store the pair left is the one a single sweep leaves, chains included
    assert _store_state(two) == _store_state(one)
    assert _chain_problems(two) == []


def test_two_sweeps_at_once_deliver_each_notification_once(swept):
    two = swept["two"]
    states = _rows(two, "SELECT state, attempts, count(*) FROM deliveries GROUP BY state, attempts")
    assert states == [("delivered", 1, DUE_CASES)]
    # every notification reached the channel exactly once: 0 double deliveries
    ids = sorted(i for (i,) in _rows(two, "SELECT id FROM notifications"))
    received = sorted(json.loads(f.read_text())["id"] for f in swept["inbox"].iterdir())
    assert received == ids
