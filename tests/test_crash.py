"""Crash safety: `esc import` and `esc sweep` killed with SIGKILL at seeded random
moments (SPEC §5: every write is one transaction; §3: a sweep killed half-way leaves
each case fully swept or untouched, and the next sweep finishes the job exactly once).

After every kill the store must pass `PRAGMA integrity_check`, an import must have
written all of its rows or none (and with none, not one byte of cases or events
changed), and every case must replay from its own history to exactly its stored row
(due times, warn times, sweep_at, counts: tests/stress.py). Sweeps are killed until the
budget of kills is spent; each time the backlog runs out the store is put back to its
pre-sweep copy, and every store a sweep finished is compared, case by case and event by
event, with one uninterrupted sweep of the same copy.

Also killed: `esc init` (init run again must finish the store) and `policy load
--recompute` over 1,500 cases (the old policy and due times, or all of the new). And
interrupted: an import sent SIGINT must say `error: interrupted`, exit 130, write nothing.

CI: 10 kills of a 10,000-row import (+3 Ctrl-C; on PostgreSQL a 2,500-row import, at
least 3 of whose kills land after it wrote rows), 12 of a sweep over 2,000 cases, 5 inits
and 6 recomputes; ESC_STRESS=long: 30 kills of a 40,000-row import (+10; PostgreSQL
10,000 rows), 40 of a sweep over 8,000 cases, 20 inits and 20 recomputes over 6,000 cases.
"""

from __future__ import annotations

import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

from esc_cli.domain.model import iso
from tests import stress
from tests.conftest import EscRunner

NOW = 1_793_613_600  # 2026-11-02T10:00:00Z


def _kill_at(proc: subprocess.Popen, delay: float) -> bool:
    """SIGKILL `proc` after `delay` seconds unless it ends first; True if it was killed."""
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return True


def _count(db: Path) -> int:
    return EscRunner(db).rows("SELECT count(*) FROM cases")[0][0]


def _tables(db: Path, *names: str) -> tuple:
    return tuple(tuple(EscRunner(db).rows(f"SELECT * FROM {name} ORDER BY 1")) for name in names)


def _written(db: Path) -> int:
    """On PostgreSQL, the size of the tables an import fills: rows written by a
    transaction that never committed stay in their files (as dead tuples) until a vacuum,
    so a kill that grew it landed after the import began writing."""
    return EscRunner(db).rows("SELECT pg_relation_size('cases') + pg_relation_size('events')")[0][0]


_copy = stress.copy_store


def test_import_killed_at_random_moments_is_all_or_nothing(esc, tmp_path, new_store):
    rng = random.Random(stress.seed())
    # On PostgreSQL an import spends most of its time in the server's round trips, so a
    # smaller file keeps the test in seconds; its rows are still written in the middle of
    # the run (after reading and checking them), which the kills below must hit.
    rows = stress.budget(2_500, 10_000) if esc.is_pg else stress.budget(10_000, 40_000)
    wanted_kills = stress.budget(10, 30)
    wanted_mid_write = 3 if esc.is_pg else 0
    big = stress.write_cases_csv(tmp_path / "big.csv", rows, NOW, rng)
    env = stress.process_env(esc.db, ESC_NOW=iso(NOW), ESC_USER="importer", ESC_TZ="UTC")
    # a store with some history of its own, kept as it was before any import
    small = stress.write_cases_csv(tmp_path / "small.csv", 50, NOW, rng)
    done = subprocess.run([stress.ESC, "import", str(small)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    base = _count(esc.db)
    pristine = new_store().db  # a store's place, filled by the copy
    _copy(esc.db, pristine)
    snapshot = stress.digest(esc.db, "cases", "events", "notifications")

    def complete(started: float) -> float:
        """An import ran to its end: all its rows are in, every case replays. Then back
        to the pristine store, so every attempt starts from the same place."""
        took = time.monotonic() - started
        assert _count(esc.db) == base + rows
        assert stress.replay_problems(esc.db) == []
        _copy(pristine, esc.db)
        return took

    # one complete import: the "all" outcome, and how long an import takes here
    started = time.monotonic()
    done = subprocess.run([stress.ESC, "import", str(big)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    duration = complete(started)

    kills = finished = mid_write = 0
    while kills < wanted_kills or mid_write < wanted_mid_write:
        written = _written(esc.db) if esc.is_pg else 0
        started = time.monotonic()
        proc = stress.popen(["import", str(big)], env)
        # anywhere from start-up to just past the commit (on PostgreSQL, whose small
        # import is mostly start-up, from about when its transaction begins)
        killed = _kill_at(proc, rng.uniform(0.4 if esc.is_pg else 0.05, 1.05) * duration)
        out, err = proc.communicate()
        assert stress.integrity(esc.db) == [], f"kill {kills}"
        if killed and _count(esc.db) == base:
            kills += 1
            mid_write += esc.is_pg and _written(esc.db) > written
            assert stress.digest(esc.db, "cases", "events", "notifications") == snapshot
            continue
        # it finished (or was killed after its commit): all of it, and a fresh timing,
        # since how long an import takes drifts with the machine's load
        assert killed or (proc.returncode == 0 and "Traceback" not in err), err
        finished += 1
        duration = complete(started)
    print(f"import: {rows} rows, {kills} kills ({mid_write} after it wrote rows), "
          f"{finished} finished, last took {duration:.1f}s")

    # Ctrl-C: the same all-or-nothing, and one `error: interrupted` line, exit 130 (from
    # half-way on: a Ctrl-C while Python is still importing esc is Python's business)
    for _ in range(stress.budget(3, 10)):
        started = time.monotonic()
        proc = stress.popen(["import", str(big)], env)
        try:
            proc.wait(timeout=rng.uniform(0.5, 1.0) * duration)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert "Traceback" not in err, err
        if proc.returncode == -signal.SIGINT:
            # interrupted while Python was still starting: nothing of esc had run yet
            assert err == "", err
        elif proc.returncode != 0:
            assert proc.returncode == 130 and err == "error: interrupted\n", (proc.returncode, err)
        assert stress.integrity(esc.db) == []
        if proc.returncode == 0:
            duration = complete(started)
        else:
            assert stress.digest(esc.db, "cases", "events", "notifications") == snapshot

    # the store is not left locked or half-recovered: the next import works
    before = _count(esc.db)
    done = subprocess.run([stress.ESC, "import", str(small)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _count(esc.db) == before + 50
    assert stress.replay_problems(esc.db) == []


def _sweep_outcome(db: Path) -> tuple:
    """What a sweep leaves, independent of the order it visited cases in: every case
    row, every case's events in order (hashes included), every notification."""
    store = EscRunner(db)
    cases = store.rows("SELECT * FROM cases ORDER BY id")
    events = store.rows("SELECT case_id, at, actor, kind, field, from_value, to_value, reason, "
                        "hash FROM events ORDER BY case_id, id")
    notes = store.rows("SELECT id, case_id, kind, recipient, created_at, payload "
                       "FROM notifications ORDER BY id")
    deliveries = store.rows("SELECT * FROM deliveries ORDER BY 1, 2")
    return cases, events, notes, deliveries


def _sweep_marks_once(db: Path) -> None:
    """However often a sweep was killed and restarted: one warning and one breach per
    (case, clock, due), at most one sweep escalation per case (they all ran at one
    "now", so a case can climb once), one close per case."""
    rows = EscRunner(db).rows("SELECT case_id, kind, field, to_value FROM events "
                              "WHERE actor = 'sweep'")
    marks = Counter((case, kind, field, to) for case, kind, field, to in rows
                    if kind in ("warned", "breached"))
    assert [m for m, c in marks.items() if c > 1] == []
    climbs = Counter(case for case, kind, _, _ in rows if kind in ("escalated", "closed"))
    assert [c for c, n in climbs.items() if n > 1] == []


def test_sweep_killed_at_random_moments_finishes_the_job_exactly_once(esc, tmp_path, new_store):
    rng = random.Random(stress.seed() + 1)
    cases = stress.budget(2_000, 8_000)
    wanted_kills = stress.budget(12, 40)
    csv = stress.write_cases_csv(tmp_path / "due.csv", cases, NOW, rng)
    env = stress.process_env(esc.db, ESC_NOW=iso(NOW), ESC_USER="cron", ESC_TZ="UTC")
    done = subprocess.run([stress.ESC, "import", str(csv)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr

    pristine, reference = new_store().db, new_store().db  # places, filled by the copies
    _copy(esc.db, pristine)
    _copy(esc.db, reference)
    started = time.monotonic()
    ref = subprocess.run([stress.ESC, "--db", str(reference), "sweep", "--json"], env=env,
                         capture_output=True, text=True, timeout=600)
    duration = time.monotonic() - started  # how long a whole sweep takes on this machine
    assert ref.returncode == 0, ref.stderr
    expected = _sweep_outcome(reference)
    _sweep_marks_once(reference)
    # the work is real: most cases were due for something at NOW
    assert len(expected[2]) > cases // 4
    assert any(r[2] == "sweep" and r[3] == "closed" for r in expected[1])

    kills = rounds = 0
    while kills < wanted_kills:
        proc = stress.popen(["sweep"], env)
        killed = _kill_at(proc, rng.uniform(0.05, 1.05) * duration)
        out, err = proc.communicate()
        assert stress.integrity(esc.db) == [], f"kill {kills}"
        assert stress.replay_problems(esc.db) == [], f"kill {kills}"
        _sweep_marks_once(esc.db)
        if killed:
            kills += 1
            continue
        assert proc.returncode == 0 and err == "", err
        # the backlog ran out: this store must be what one uninterrupted sweep made
        assert _sweep_outcome(esc.db) == expected, f"round {rounds}"
        rounds += 1
        _copy(pristine, esc.db)
    print(f"sweep: {cases} cases, {kills} kills, {rounds} rounds finished")

    # finish the job: then exactly the uninterrupted outcome, and a second sweep at the
    # same "now" changes nothing
    done = subprocess.run([stress.ESC, "sweep"], env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert _sweep_outcome(esc.db) == expected
    again = subprocess.run([stress.ESC, "sweep"], env=env, capture_output=True, text=True,
                           timeout=600)
    assert again.returncode == 0 and again.stdout == "" and again.stderr == ""
    assert _sweep_outcome(esc.db) == expected


def test_init_killed_at_random_moments_leaves_a_store_init_can_finish(backend, new_place, request):
    rng = random.Random(stress.seed() + 2)
    kills = 0
    whole = stress.schema(request.getfixturevalue("pg_store")) if backend == "postgres" else None
    for _ in range(stress.budget(5, 20)):
        db = new_place()  # a file not there yet, or an empty database
        env = stress.process_env(db, ESC_NOW=iso(NOW), ESC_TZ="UTC")
        proc = stress.popen(["init"], env)
        kills += _kill_at(proc, rng.uniform(0.02, 0.6))
        proc.communicate()
        if backend == "postgres":
            # the schema is made in one transaction: all of it or none
            assert stress.schema(db) in ([], whole)
        elif db.exists() and db.stat().st_size:
            assert stress.integrity(db) == []
        # whatever was left, init finishes the job and the store is whole
        done = subprocess.run([stress.ESC, "init"], env=env, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0 and done.stderr == "", done.stderr
        doctor = EscRunner(db)("doctor")  # in-process: the store is what is checked here
        assert doctor.code == 0, doctor.out + doctor.err
        if backend == "postgres":
            assert stress.schema(db) == whole
    print(f"init: {kills} kills")


def test_policy_recompute_killed_at_random_moments_is_all_or_nothing(esc, tmp_path):
    """`policy load --recompute` moves the due times of every unresolved case in one
    transaction: killed, either no case moved and the old policy is current, or all of
    them did under the new one. Either way every case replays to its stored row."""
    rng = random.Random(stress.seed() + 3)
    csv = stress.write_cases_csv(tmp_path / "cases.csv", stress.budget(1_500, 6_000), NOW, rng)
    env = stress.process_env(esc.db, ESC_NOW=iso(NOW), ESC_USER="lead", ESC_TZ="UTC")
    done = subprocess.run([stress.ESC, "import", str(csv)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    policies = []
    for number, (respond, resolve) in enumerate((("10m", "3h"), ("20m", "5h"), ("5m", "2h"))):
        path = tmp_path / f"policy{number}.toml"
        exported = subprocess.run([stress.ESC, "policy", "export"], env=env, capture_output=True,
                                  text=True, timeout=120).stdout
        path.write_text(exported.replace('respond = "15m"', f'respond = "{respond}"')
                        .replace('resolve = "4h"', f'resolve = "{resolve}"'))
        assert path.read_text() != exported
        policies.append(path)
    started = time.monotonic()
    first = subprocess.run([stress.ESC, "policy", "load", str(policies[0]), "--recompute"],
                           env=env, capture_output=True, text=True, timeout=600)
    duration = time.monotonic() - started
    assert first.returncode == 0, first.stderr
    kills = 0
    for attempt in range(stress.budget(6, 20)):
        versions_before = _tables(esc.db, "policy_versions")[0]
        cases_before = stress.digest(esc.db, "cases")
        proc = stress.popen(["policy", "load", str(policies[1 + attempt % 2]), "--recompute"], env)
        killed = _kill_at(proc, rng.uniform(0.1, 1.1) * duration)
        kills += killed
        proc.communicate()
        assert stress.integrity(esc.db) == []
        versions_after = _tables(esc.db, "policy_versions")[0]
        if versions_after == versions_before:
            assert killed and stress.digest(esc.db, "cases") == cases_before
        else:
            assert len(versions_after) == len(versions_before) + 1
        assert stress.replay_problems(esc.db, requeued_at=NOW) == []
    print(f"policy load --recompute: {kills} kills")


def test_a_ctrl_c_after_the_import_committed_does_not_say_interrupted(esc, tmp_path,
                                                                       monkeypatch):
    """The race seen under load: a SIGINT after the import's COMMIT but before esc exits
    reported 130 "interrupted" for an import that had committed. From the commit on,
    SIGINT is deferred until the process exits. The hook sends the signal at exactly
    that point: after the import returned, while esc prints its summary."""
    import os

    from esc_cli.commands import data as data_commands

    rows = tmp_path / "cases.csv"
    rows.write_text("title,customer,priority\n" + "".join(
        f"printer {n},Acme,high\n" for n in range(5)))
    line = data_commands._import_line
    sent: list[int] = []

    def interrupted_while_printing(summary):
        sent.append(1)
        os.kill(os.getpid(), signal.SIGINT)  # delivered at the next bytecode boundary
        return line(summary)

    monkeypatch.setattr(data_commands, "_import_line", interrupted_while_printing)
    before = signal.getsignal(signal.SIGINT)
    result = esc("import", str(rows))
    assert sent == [1]
    assert (result.code, result.err) == (0, ""), result.err
    assert result.out.startswith("imported 5 cases")
    assert len(esc.doc("queue")) == 5
    # an in-process run leaves the caller's Ctrl-C as it found it
    assert signal.getsignal(signal.SIGINT) is before
