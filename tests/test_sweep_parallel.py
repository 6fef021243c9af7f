"""Sweeps started together, as real processes: never a double escalation, never a
double notification, never a double delivery."""

from __future__ import annotations

import json
import os
import subprocess
import tomllib

from esc_cli.domain.policy import DEFAULT_POLICY_TOML, dump_policy
from tests.conftest import ESC

CASES = 50
SWEEPS = 4


def test_four_sweeps_at_once_escalate_and_notify_each_case_once(esc, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    policy = tomllib.loads(DEFAULT_POLICY_TOML)
    # a real program per delivery; each writes its payload to a file of its own
    policy["channels"] = [{"type": "command", "timeout": "10s",
                           "argv": ["/bin/sh", "-c", 'cat > "$(mktemp -p "$0")"', str(inbox)]}]
    path = tmp_path / "policy.toml"
    path.write_text(dump_policy(policy))
    esc.ok("policy", "load", str(path))
    # 50 cases through the service layer: the CLI's parsing is not what is tested here
    from esc_cli import services
    from esc_cli.env import Env

    env = Env.build(str(esc.db), "alice", "2026-11-02T10:00:00Z", "UTC")
    try:
        for number in range(CASES):
            services.open_case(env, title=f"Outage {number}", customer="Globex",
                               priority="urgent", category=None, description=None, channel=None,
                               owner=None, tier=None, team=None, tags=None)
    finally:
        env.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update({"ESC_DB": str(esc.db), "ESC_NOW": "2026-11-02T10:20:00Z", "ESC_USER": "cron"})
    procs = [subprocess.Popen([ESC, "sweep", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(SWEEPS)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [(code, err) for code, _, err in results] == [(0, "")] * SWEEPS
    docs = [json.loads(out) for _, out, _ in results]

    # between them the sweeps escalated every case exactly once
    escalated = sorted(e["case"] for doc in docs for e in doc["escalated"])
    assert escalated == list(range(1, CASES + 1))
    per_case = esc.rows(
        "SELECT case_id, count(*) FROM events WHERE kind = 'escalated' GROUP BY case_id")
    assert sorted(per_case) == [(i, 1) for i in range(1, CASES + 1)]
    assert esc.rows("SELECT count(*) FROM events WHERE kind = 'breached'") == [(CASES,)]
    notes = esc.rows("SELECT case_id, count(*) FROM notifications GROUP BY case_id")
    assert sorted(notes) == [(i, 1) for i in range(1, CASES + 1)]
    states = esc.rows("SELECT state, attempts, count(*) FROM deliveries GROUP BY state, attempts")
    assert states == [("delivered", 1, CASES)]
    ids = sorted(r[0] for r in esc.rows("SELECT id FROM notifications"))
    # and every notification reached the channel exactly once
    received = sorted(json.loads(f.read_text())["id"] for f in inbox.iterdir())
    assert received == ids
    assert sum(len(doc["notified"]) for doc in docs) == CASES
    # (a notification one sweep wrote may have been sent by another: still no failure)
    assert [doc["failed"] for doc in docs] == [0] * SWEEPS
