"""Routing under real concurrent processes (SQLite): two sweeps and several people
escalating at once never assign a case twice, and round-robin keeps its order."""

from __future__ import annotations

import os
import subprocess

from tests.conftest import ESC
from tests.test_routing_service import policy


def test_two_sweeps_and_escalations_at_once_route_each_case_once_in_turn(esc, tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text(policy(tier2='assign = "round-robin"\n'))
    esc.ok("policy", "load", str(path))
    for handle in ("bob", "carol", "dave"):
        esc.ok("owner", "add", handle, "--tier", "2")
    # 20 urgent cases breach their 15m response at 10:15; 8 more opened later are not
    # due and are escalated by hand while the sweeps run
    for _ in range(20):
        esc.ok("open", "due", "--customer", "Acme", "--priority", "urgent")
    for _ in range(8):
        esc.ok("open", "later", "--customer", "Acme", "--priority", "urgent", now="2026-11-02T10:10:00Z")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    env.update(ESC_DB=str(esc.db), ESC_NOW="2026-11-02T10:20:00Z", ESC_TZ="UTC", ESC_USER="lead")
    procs = [subprocess.Popen([ESC, "sweep", "--json"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    procs += [subprocess.Popen([ESC, "escalate", str(case), "--reason", "by hand"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
              for case in range(21, 29)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err

    rows = esc.rows("SELECT case_id, to_value, reason FROM events WHERE actor = 'routing' "
                    "ORDER BY id")
    turns = esc.rows("SELECT turns, last_handle FROM routing_state WHERE scope = 'tier:2'")[0]
    escalations = esc.rows("SELECT count(*) FROM events WHERE kind = 'escalated'")[0][0]
    # every case escalated once and routed once
    assert escalations == 28
    assert sorted(case for case, _, _ in rows) == list(range(1, 29))
    # in commit order, the owners take turns: bob, carol, dave, bob, ...
    assert [handle for _, handle, _ in rows] == [("bob", "carol", "dave")[i % 3] for i in range(28)]
    assert turns == (28, rows[-1][1])
