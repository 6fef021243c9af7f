"""The guard of issue 18's "every existing test passes on both backends": in a module
listed in PG_MODULES, a test runs on both stores when it takes the `backend` (directly,
or through a fixture such as `esc`, `bare_esc`, `new_store` or `new_place`). A test
there that makes a store of its own without it runs on SQLite alone, silently. So every
test in those modules must take the backend, or be marked `sqlite_only(why)` (it is
about the SQLite file itself, and its name says so), or be a PostgreSQL test (a `pg_*` fixture, or a
`test_pg_*` module), or keep no store at all: it takes no temporary directory, and its
code names no way to make or reach one. And a test that takes the backend makes its
other stores on it too (`new_store`, `new_place`), not as SQLite files in tmp_path."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import PG_MODULES

TESTS = Path(__file__).resolve().parent
# where a store can be made or reached: a directory to keep one in, or code that opens one
PLACES = {"tmp_path", "tmp_path_factory", "tmpdir", "tmpdir_factory"}
# a store made as a SQLite file in the test's directory, whatever the backend
OWN_FILE = re.compile(r"(EscRunner|type\(esc\))\(\s*tmp_path")
STORE_WORDS = ("EscRunner(", "run_process(", "stress.", "sqlite3.connect", "Store.", '"--db"',
               "ESC_DB", "ESC_TEST_PG")
PLUGIN = '''
import json, os

def pytest_collection_finish(session):
    found = []
    for item in session.items:
        marks = [m.name for m in item.iter_markers()]
        found.append([item.nodeid, item.module.__name__, getattr(item, "originalname", item.name),
                      sorted(getattr(item, "fixturenames", ())), "sqlite_only" in marks])
    with open(os.environ["ESC_GUARD_OUT"], "w") as out:
        json.dump(found, out)
'''


def _collected(tmp_path, modules: list[str]) -> list[list]:
    """Every test of `modules` as pytest collects it: (id, module, function, fixture
    closure, marked sqlite_only), from a `--collect-only` run (nothing runs)."""
    import json
    import os

    (tmp_path / "esc_guard_plugin.py").write_text(PLUGIN)
    out = tmp_path / "found.json"
    env = {**os.environ, "ESC_GUARD_OUT": str(out),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "esc_guard_plugin",
         "-p", "no:randomly", "-p", "no:cacheprovider", "-n", "0",
         *[str(TESTS / f"{m}.py") for m in modules]],
        cwd=TESTS.parent, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


def _source(module_name: str, function: str) -> str:
    import importlib

    module = importlib.import_module(module_name)
    target = getattr(module, function, None)
    if target is None:  # a method of a test class
        for value in vars(module).values():
            if inspect.isclass(value) and hasattr(value, function):
                target = getattr(value, function)
                break
    return inspect.getsource(inspect.unwrap(target)) if target is not None else ""


def unchecked(found: list[list]) -> list[str]:
    """The tests that keep a store (or may) on SQLite alone without saying why."""
    bad = []
    for nodeid, module, function, fixtures, sqlite_only in found:
        if sqlite_only:
            if "sqlite" not in function:
                bad.append(f"{nodeid}: sqlite_only, but its name does not say so")
            continue
        if module.rpartition(".")[2].startswith("test_pg_") or any(f.startswith("pg_") for f in fixtures):
            continue  # a PostgreSQL test
        source = _source(module, function)
        if OWN_FILE.search(source):
            bad.append(f"{nodeid}: makes a SQLite store in tmp_path (use new_store or new_place)")
        elif "backend" not in fixtures and (PLACES & set(fixtures) or any(w in source for w in STORE_WORDS)):
            bad.append(f"{nodeid}: takes no backend")
    return bad


def test_every_test_of_a_pg_module_runs_on_both_stores_or_says_why_not(tmp_path):
    modules = sorted(PG_MODULES)
    assert all((TESTS / f"{m}.py").exists() for m in modules), "PG_MODULES names a missing module"
    found = _collected(tmp_path, modules)
    assert len({row[1] for row in found}) == len(modules)  # every module was collected
    assert unchecked(found) == [], (
        "these tests in PG_MODULES run on SQLite alone: take the backend (e.g. through `esc`, "
        "`bare_esc`, `new_store` or `new_place`) or mark them sqlite_only(why)")


def test_the_guard_finds_a_store_test_without_the_backend():
    """The rule itself, on made-up collections: what it lets through and what it stops."""
    me = __name__
    rows = [
        ["a::takes_backend", me, "x", ["backend", "esc", "tmp_path"], False],
        ["a::sqlite_file", me, "test_the_sqlite_file", ["tmp_path"], True],
        ["a::unnamed_sqlite_file", me, "test_the_file", ["tmp_path"], True],
        ["a::pg_only", me, "x", ["pg_store", "tmp_path"], False],
        ["a::domain", me, "_domain_only", [], False],
        ["a::own_file", me, "x", ["tmp_path"], False],
        ["a::own_runner", me, "_makes_a_runner", [], False],
        ["a::other_store", me, "_makes_a_sqlite_store", ["backend", "esc", "tmp_path"], False],
        ["a::other_store_on_sqlite", me, "_makes_a_sqlite_store", ["tmp_path"], True],
    ]
    assert unchecked(rows) == ["a::unnamed_sqlite_file: sqlite_only, but its name does not say so",
                               "a::own_file: takes no backend", "a::own_runner: takes no backend",
                               "a::other_store: makes a SQLite store in tmp_path (use new_store "
                               "or new_place)"]


def _domain_only():
    return 2 + 2


def _makes_a_runner():
    from tests.conftest import EscRunner

    return EscRunner("/tmp/somewhere.db")


def _makes_a_sqlite_store(tmp_path):
    from tests.conftest import EscRunner

    return EscRunner(tmp_path / "fresh.db")
