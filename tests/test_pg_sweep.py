"""The sweep and the single-case writes on both stores, for what PostgreSQL does to wait
less on the server (services/sweep.py, store/pg.py): the sweep claims its cases inside
its transactions in (sweep_at, id) order, LOAD_CASES at a time, and statements whose
answer nobody reads go with the next one that needs an answer. Where the batches end
changes nothing; a failing case is undone alone; a write costs a handful of round
trips."""

from __future__ import annotations

import json

import pytest

from esc_cli.domain import sweep as sweep_domain
from esc_cli.errors import Conflict
from esc_cli.services import sweep as sweep_service
from tests.conftest import EscRunner

CASES = 12
OPENED = "2026-11-02T10:00:00Z"
SWEEP_AT = "2026-11-02T10:30:00Z"


def _open(esc, same_instant: bool = True) -> None:
    for number in range(CASES):
        at = OPENED if same_instant else f"2026-11-02T10:{number:02d}:00Z"
        esc.ok("open", f"Outage {number}", "--customer", "Globex", "--priority", "urgent", now=at)


def _cases(esc) -> list:
    return json.loads(esc.ok("export").out)["cases"]


def _state(esc) -> dict:
    return {table: esc.rows(f"SELECT * FROM {table} ORDER BY 1, 2")
            for table in ("cases", "events", "notifications")}


def _escalations(esc) -> list[tuple[int, int]]:
    return esc.rows("SELECT case_id, count(*) FROM events WHERE kind = 'escalated' "
                    "GROUP BY case_id ORDER BY case_id")


@pytest.mark.parametrize("same_instant", [True, False])
def test_where_the_claims_end_changes_nothing(esc, tmp_path, monkeypatch, same_instant):
    # the reference: the same cases on a SQLite store, swept in one transaction
    other = EscRunner(tmp_path / "other.db")
    other.ok("init")
    _open(esc, same_instant)
    _open(other, same_instant)
    monkeypatch.setattr(sweep_service, "TXN_CASES", 5)  # transactions of 5 cases,
    monkeypatch.setattr(sweep_service, "LOAD_CASES", 2)  # claimed 2 at a time
    small = esc.doc("sweep", now=SWEEP_AT)
    monkeypatch.setattr(sweep_service, "TXN_CASES", 100)
    monkeypatch.setattr(sweep_service, "LOAD_CASES", 25)
    large = other.doc("sweep", now=SWEEP_AT)
    assert small == large
    assert len(small["escalated"]) == CASES and small["checked"] == CASES
    # the same cases and histories (the policy's author differs: the PostgreSQL store is
    # a clone of a template made by another `esc init`)
    assert _cases(esc) == _cases(other)
    # swept once: nothing is due at the same instant any more
    assert esc.doc("sweep", now=SWEEP_AT)["checked"] == 0
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), doctor


def test_a_failing_case_is_undone_alone_and_the_rerun_finishes_the_job(esc, monkeypatch):
    _open(esc, same_instant=False)
    monkeypatch.setattr(sweep_service, "LOAD_CASES", 3)
    real_apply = sweep_domain.apply

    def apply(case, *args, **kwargs):
        if case.id == 5:
            raise Conflict("case 5 cannot be swept")
        return real_apply(case, *args, **kwargs)

    monkeypatch.setattr(sweep_domain, "apply", apply)
    failed = esc("sweep", now=SWEEP_AT)
    assert failed.code == 4
    assert "case 5 cannot be swept" in failed.err
    # the four cases swept before it are committed; it and the later ones are untouched
    assert _escalations(esc) == [(1, 1), (2, 1), (3, 1), (4, 1)]
    monkeypatch.setattr(sweep_domain, "apply", real_apply)
    rerun = esc.doc("sweep", now=SWEEP_AT)
    assert [e["case"] for e in rerun["escalated"]] == list(range(5, CASES + 1))
    assert _escalations(esc) == [(i, 1) for i in range(1, CASES + 1)]
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), doctor


def test_a_dry_run_writes_nothing_and_says_what_the_sweep_does(esc):
    _open(esc)
    before = _state(esc)
    dry = esc.doc("sweep", "--dry-run", now=SWEEP_AT)
    assert _state(esc) == before
    real = esc.doc("sweep", now=SWEEP_AT)
    assert [e["case"] for e in dry["escalated"]] == [e["case"] for e in real["escalated"]]


def _round_trips(esc, monkeypatch, *args) -> int:
    """How many times esc waited on the PostgreSQL server for `esc ARGS`."""
    from esc_cli.store import pg

    sent = []
    with monkeypatch.context() as patch:
        for name in ("execute", "executemany", "copy_in"):
            real = getattr(pg.PgConnection, name)

            def counted(self, *a, _real=real, **k):
                sent.append(a[0] if a else "")
                return _real(self, *a, **k)

            patch.setattr(pg.PgConnection, name, counted)
        esc.ok(*args)
    return len(sent)


def test_single_case_writes_wait_on_the_server_a_handful_of_times(pg_store, monkeypatch):
    esc = EscRunner(pg_store)
    esc.ok("owner", "add", "bob", "--tier", "2", "--email", "bob@example.com")
    esc.ok("open", "Printer on fire", "--customer", "Acme", "--priority", "high", now=OPENED)
    # the version; BEGIN with the case (FOR UPDATE); its history; the policy; the
    # notification (the UPDATE and the events go with it); COMMIT
    assert _round_trips(esc, monkeypatch, "escalate", "1", "--reason", "needs bob") <= 6
    # without a notification the UPDATE and the events go with the COMMIT
    assert _round_trips(esc, monkeypatch, "note", "1", "toner everywhere") <= 5
    assert _round_trips(esc, monkeypatch, "show", "1") <= 5
    # the writes are all there, chained
    assert [kind for (kind,) in esc.rows("SELECT kind FROM events WHERE case_id = 1 ORDER BY id")] \
        == ["opened", "escalated", "note"]
    doctor = esc.doc("doctor")
    assert all(check["ok"] for check in doctor["checks"]), doctor
    assert [c["id"] for c in esc.doc("search", "toner")] == [1]
