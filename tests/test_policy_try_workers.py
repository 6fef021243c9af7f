"""`esc policy try` over a large window: two processes, one snapshot, the same document.

The sample data (327 cases) stands in for a large store: the threshold for a second
process is lowered so that its cases are split between two."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from esc_cli.services import policy_try
from tests.conftest import EscRunner

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
NOW = "2026-11-02T15:00:00Z"


@pytest.fixture
def sample(tmp_path):
    esc = EscRunner(tmp_path / "esc.db", now=NOW)
    esc.ok("init", "--policy", str(SAMPLE / "policy.toml"))
    esc.ok("import", str(SAMPLE / "owners.csv"))
    esc.ok("import", str(SAMPLE / "cases.json"))
    text = (SAMPLE / "policy.toml").read_text()
    files = {}
    for name, changed in (("tighter", text.replace('resolve = "4h"', 'resolve = "2h"')),
                          ("every", text.replace('resolve = "', 'resolve = "1').replace(
                              'respond = "', 'respond = "2'))):
        assert changed != text
        files[name] = tmp_path / f"{name}.toml"
        files[name].write_text(changed)
    return esc, files


def _split(monkeypatch):
    """Count the second processes started (and make every window large enough)."""
    started = []
    start = policy_try._Second.start

    def counted(store, replay):
        second = start(store, replay)
        started.append(second is not None)
        return second

    monkeypatch.setattr(policy_try, "WORKERS_FROM", 2)
    monkeypatch.setattr(policy_try._Second, "start", staticmethod(counted))
    return started


@pytest.mark.parametrize("name", ["tighter", "every"])
@pytest.mark.parametrize("by", ["priority", "tier", "team", "category"])
def test_two_processes_make_the_document_of_one(sample, monkeypatch, name, by):
    esc, files = sample
    args = ("policy", "try", str(files[name]), "--since", "60d", "--by", by, "--json")
    alone = esc.ok(*args).out
    started = _split(monkeypatch)
    assert esc.ok(*args).out == alone
    assert started == [True]
    assert '"candidate": "breached"' in alone or name == "every"


def _files(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.name.startswith("esc.db")}


def test_two_processes_write_nothing(sample, monkeypatch):
    esc, files = sample
    esc.ok("queue")  # settle any checkpoint a first read would do
    before = _files(esc.db.parent)
    started = _split(monkeypatch)
    esc.ok("policy", "try", str(files["tighter"]), "--since", "60d")
    assert started == [True]
    assert _files(esc.db.parent) == before


def test_a_writer_mid_transaction_means_one_process(sample, monkeypatch):
    # the second process must read the first one's snapshot: with a commit able to land
    # between their first reads (the write lock cannot be had at once), one replays all
    import sqlite3

    esc, files = sample
    args = ("policy", "try", str(files["tighter"]), "--since", "60d", "--json")
    alone = esc.ok(*args).out
    started = _split(monkeypatch)
    writer = sqlite3.connect(esc.db, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        assert esc.ok(*args).out == alone
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert started == []


def test_a_second_process_that_fails_leaves_its_cases_to_the_first(sample, monkeypatch):
    esc, files = sample
    args = ("policy", "try", str(files["every"]), "--since", "60d", "--json")
    alone = esc.ok(*args).out
    started = _split(monkeypatch)
    monkeypatch.setattr(policy_try._Second, "result", lambda self: None)
    assert esc.ok(*args).out == alone
    assert started == [True]
