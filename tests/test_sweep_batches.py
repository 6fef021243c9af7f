"""The sweep's transactions of several cases (services/sweep.py TXN_CASES, read
LOAD_CASES at a time): where the batches end changes nothing, and a case that fails is undone alone while the cases
swept before it stay swept, exactly as with one transaction per case."""

from __future__ import annotations

from esc_cli.domain import sweep as sweep_domain
from esc_cli.errors import Conflict
from esc_cli.services import sweep as sweep_service

CASES = 8


def open_cases(esc) -> None:
    for number in range(CASES):
        esc.ok("open", f"Outage {number}", "--customer", "Globex", "--priority", "urgent",
               now=f"2026-11-02T10:0{number}:00Z")


def rows(esc) -> dict:
    return {table: esc.rows(f"SELECT * FROM {table} ORDER BY 1, 2")
            for table in ("cases", "events", "notifications")}


def escalations(esc) -> list[tuple[int, int]]:
    return esc.rows("SELECT case_id, count(*) FROM events WHERE kind = 'escalated' "
                    "GROUP BY case_id ORDER BY case_id")


def test_batch_boundaries_do_not_change_what_the_sweep_does(esc, new_store, monkeypatch):
    other = new_store()
    open_cases(esc)
    open_cases(other)
    # transactions of 5 cases, each reading them 2 at a time
    monkeypatch.setattr(sweep_service, "TXN_CASES", 5)
    monkeypatch.setattr(sweep_service, "LOAD_CASES", 2)
    small = esc.doc("sweep", now="2026-11-02T10:30:00Z")
    monkeypatch.setattr(sweep_service, "LOAD_CASES", 25)
    monkeypatch.setattr(sweep_service, "TXN_CASES", 100)
    large = other.doc("sweep", now="2026-11-02T10:30:00Z")
    assert small == large
    assert len(small["escalated"]) == CASES
    assert rows(esc) == rows(other)


def test_a_failing_case_is_undone_alone_and_the_rerun_finishes_the_job(esc, monkeypatch):
    open_cases(esc)
    monkeypatch.setattr(sweep_service, "TXN_CASES", 100)
    real_apply = sweep_domain.apply

    def apply(case, *args, **kwargs):
        if case.id == 5:
            raise Conflict("case 5 cannot be swept")
        return real_apply(case, *args, **kwargs)

    monkeypatch.setattr(sweep_domain, "apply", apply)
    failed = esc("sweep", now="2026-11-02T10:30:00Z")
    assert failed.code == 4
    assert "case 5 cannot be swept" in failed.err
    # the four cases swept before it are committed; it and the later ones are untouched
    assert escalations(esc) == [(1, 1), (2, 1), (3, 1), (4, 1)]

    monkeypatch.setattr(sweep_domain, "apply", real_apply)
    rerun = esc.doc("sweep", now="2026-11-02T10:30:00Z")
    assert [e["case"] for e in rerun["escalated"]] == [5, 6, 7, 8]
    assert escalations(esc) == [(i, 1) for i in range(1, CASES + 1)]
