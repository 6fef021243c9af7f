"""Shared fixtures: a fresh store per test and a way to run `esc` as a user would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from tests import pgserver

ESC = str(Path(sys.executable).with_name("esc"))

# Property and state-machine budgets: "ci" (the default) is small and derandomized so a
# run is fast and repeatable; HYPOTHESIS_PROFILE=long explores far more, at random.
settings.register_profile("ci", max_examples=25, stateful_step_count=20, deadline=None,
                          derandomize=True, database=None)
settings.register_profile("long", max_examples=400, stateful_step_count=50, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self):
        return json.loads(self.out)


class EscRunner:
    """Runs esc in-process (fast) against one store, acting at a fixed `now`."""

    now_default = "2026-11-02T10:00:00Z"

    def __init__(self, db: Path | str, now: str = now_default, user: str = "alice"):
        self.db = db
        self.now = now
        self.user = user
        self.tz = "UTC"

    def __call__(self, *args: str, now: str | None = None, user: str | None = None,
                 env: dict | None = None) -> Result:
        from esc_cli.app import main

        argv = ["--db", str(self.db), "--now", now or self.now, "--as", user or self.user,
                "--tz", self.tz, *args]
        out, err = io.StringIO(), io.StringIO()
        old = sys.stdout, sys.stderr
        saved_env = {}
        for key, value in (env or {}).items():
            saved_env[key] = os.environ.get(key)
            os.environ[key] = value
        sys.stdout, sys.stderr = out, err
        code = 0
        try:
            main(argv)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        finally:
            sys.stdout, sys.stderr = old
            for key, value in saved_env.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        return Result(code, out.getvalue(), err.getvalue())

    def ok(self, *args: str, **kwargs) -> Result:
        result = self(*args, **kwargs)
        assert result.code == 0, f"esc {' '.join(args)} -> {result.code}: {result.err}"
        return result

    def doc(self, *args: str, **kwargs):
        return self.ok(*args, "--json", **kwargs).json()

    @property
    def is_pg(self) -> bool:
        return str(self.db).startswith(("postgresql://", "postgres://"))

    def exists(self) -> bool:
        """Whether anything of a store is there: the SQLite file, or any table in the
        PostgreSQL database (a refused `init` or a read of a missing store makes none)."""
        if self.is_pg:
            return self.rows("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()")[0][0] > 0
        return Path(self.db).exists()

    def rows(self, sql: str, params=()) -> list[tuple]:
        """A read straight from the store, on either backend (`?` placeholders; bytea as
        bytes): what a test checks must not depend on esc reading it back."""
        if str(self.db).startswith(("postgresql://", "postgres://")):
            import psycopg2

            conn = psycopg2.connect(str(self.db))
            try:
                with conn.cursor() as cur:
                    cur.execute(sql.replace("?", "%s"), params)
                    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                            for row in cur.fetchall()]
            finally:
                conn.close()
        import sqlite3

        conn = sqlite3.connect(str(self.db))
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def sql(self, *statements: str | tuple[str, tuple]) -> None:
        """Statements (or (statement, params) with `?` placeholders) run straight on the
        store in one transaction, on either backend: a test changing the store behind
        esc's back (damage doctor must find, a claim another host holds)."""
        pairs = [(s, ()) if isinstance(s, str) else s for s in statements]
        if str(self.db).startswith(("postgresql://", "postgres://")):
            import psycopg2

            conn = psycopg2.connect(str(self.db))
            try:
                with conn, conn.cursor() as cur:
                    for statement, params in pairs:
                        cur.execute(statement.replace("?", "%s") if params else statement, params)
            finally:
                conn.close()
            return
        import sqlite3

        conn = sqlite3.connect(str(self.db))
        try:
            with conn:
                for statement, params in pairs:
                    conn.execute(statement, params)
        finally:
            conn.close()


@pytest.fixture
def esc(backend, tmp_path, request) -> EscRunner:
    if backend == "postgres":
        # a clone of the run's template, which `esc init` built once
        return EscRunner(request.getfixturevalue("pg_store"))
    runner = EscRunner(tmp_path / "esc.db")
    runner.ok("init")
    return runner


@pytest.fixture
def new_store(backend, tmp_path, pg_fresh):
    """Makes another initialised store on the test's backend, each call a new one: a
    test comparing two stores compares them on one backend."""
    made = iter(range(1, 1000))

    def make(**runner) -> EscRunner:
        if backend == "postgres":
            return EscRunner(pg_fresh("esc_template"), **runner)
        store = EscRunner(tmp_path / f"store{next(made)}.db", **runner)
        store.ok("init")
        return store

    return make


@pytest.fixture
def new_place(backend, tmp_path, pg_fresh):
    """Makes places for a store on the test's backend, each call a new one: a file path
    that does not exist yet (in a new directory), or an empty PostgreSQL database's URI."""
    made = iter(range(1, 1000))

    def make() -> Path | str:
        if backend == "postgres":
            return pg_fresh()
        return tmp_path / f"place{next(made)}" / "esc.db"

    return make


@pytest.fixture
def bare_esc(backend, tmp_path, request) -> EscRunner:
    """A runner whose store does not exist yet (on PostgreSQL: an empty database)."""
    if backend == "postgres":
        return EscRunner(request.getfixturevalue("pg_database"))
    return EscRunner(tmp_path / "esc.db")


# --- the backends -------------------------------------------------------------------
# Tests that take `backend` (the `esc` and `bare_esc` fixtures do) run once per backend:
# `sqlite` and `postgres`. A test about the SQLite file itself (its mode, WAL, query
# plans, a foreign file...) is marked @pytest.mark.sqlite_only and runs on SQLite alone.
# The PostgreSQL store lands module by module: until a module is in PG_MODULES its
# tests run on SQLite only (ESC_TEST_PG_ALL=1 runs them all on both: what is still
# missing). ESC_TEST_BACKENDS=sqlite (or postgres) narrows a local run.
BACKENDS = ("sqlite", "postgres")
# one module a line, in order: colleagues add theirs without touching each other's
PG_MODULES = {
    "test_routing",
    "test_routing_concurrency",
    "test_routing_docs",
    "test_routing_report",
    "test_routing_service",
    "test_bad_input",
    "test_clocks",
    "test_email",
    "test_explain",
    "test_fuzz_import",
    "test_fuzz_options",
    "test_fuzz_policy",
    "test_lifecycle",
    "test_model",
    "test_overdue",
    "test_pg_harness",
    "test_pg_import",
    "test_pg_sweep",
    "test_plan",
    "test_queue",
    "test_report",
    "test_report_cycles",
    "test_report_window",
    "test_rules",
    "test_screens",
    "test_secrets",
    "test_smoke",
    "test_store",
    "test_wallboard",
    "test_doctor",
    "test_import",
    "test_notify",
    "test_faults",
    "test_crash",
    "test_concurrency",
    "test_sweep",
    "test_sweep_batches",
    "test_import_deferred",
    "test_import_one_pass",
    "test_output",
    "test_policy_documents",
    "test_search",
    "test_backup",
    "test_export",
    "test_import_workers",
    "test_sweep_parallel",
    "test_owner_times",
    "test_report_pair",
    "test_policy_try_replay",
    "test_import_audit",
}
# Tests that fail on PostgreSQL for a product gap still open, by test id: a strict xfail,
# so the run goes red the day it passes (then remove the entry).
PG_GAPS = {
}
RUN_DIR = "ESC_TEST_PG_RUN"      # the run's shared state (made by the controller)
RUN_OWNER = "ESC_TEST_PG_OWNER"  # the pid whose death stops the private server


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(why): a test about the SQLite store "
                            "itself; it does not run on PostgreSQL")
    # A non-interactive shell starts a background job (`make test &`, a CI step, a land
    # script) with SIGINT ignored, as POSIX says, and an ignored signal is inherited: every
    # esc the tests start and send Ctrl-C to would ignore it too (the wallboard that "did
    # not exit" after Ctrl-C, SigIgn 0x...6 in its /proc status). The tests play a person
    # at a terminal, whose shell starts esc with SIGINT at its default.
    import signal

    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # The controller (or a run without xdist) owns the run: xdist workers inherit these.
    if not hasattr(config, "workerinput") and RUN_DIR not in os.environ:
        os.environ[RUN_DIR] = tempfile.mkdtemp(prefix="esc-pgrun-")
        os.environ[RUN_OWNER] = str(os.getpid())
        config.esc_pg_run = os.environ[RUN_DIR]


def pytest_unconfigure(config):
    run_dir = getattr(config, "esc_pg_run", None)
    if run_dir:
        pgserver.finish(Path(run_dir))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.name in PG_GAPS:
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"issue 18: {PG_GAPS[item.name]}"))


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    module = metafunc.module.__name__.rpartition(".")[2]
    if metafunc.definition.get_closest_marker("sqlite_only") or (module not in PG_MODULES and not os.environ.get("ESC_TEST_PG_ALL")):
        backends = ["sqlite"]
    else:
        wanted = os.environ.get("ESC_TEST_BACKENDS", ",".join(BACKENDS)).split(",")
        backends = [b for b in BACKENDS if b in wanted] or ["sqlite"]
    metafunc.parametrize("backend", backends)


@pytest.fixture(scope="session")
def pg_server() -> dict:
    """The run's PostgreSQL: {"uri": admin URI, "private": started for this run}. Without
    a server the PostgreSQL tests skip, except under CI where they fail."""
    try:
        return pgserver.server(Path(os.environ[RUN_DIR]), int(os.environ[RUN_OWNER]))
    except pgserver.Unavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test PostgreSQL: {exc}")
        pytest.skip(str(exc))
    except pgserver.Failed as exc:
        pytest.fail(str(exc))


def _db_names():
    # unique on a shared ESC_TEST_PG server too: the run directory's name, the worker, a count
    run = Path(os.environ[RUN_DIR]).name.rpartition("-")[2].lower()
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    n = 0
    while True:
        n += 1
        yield f"t_{run}_{worker}_{n}"


_names = None


def _fresh_database(server: dict, template: str):
    global _names
    _names = _names or _db_names()
    name = next(_names)
    uri = pgserver.clone(server["uri"], template, name)
    return name, uri


def _template_name(server: dict, kind: str) -> str:
    if server["private"]:
        return kind
    return f"{kind}_{Path(os.environ[RUN_DIR]).name.rpartition('-')[2].lower()}"


@pytest.fixture
def pg_database(pg_fresh):
    """A fresh, empty PostgreSQL database (its URI), dropped after the test."""
    return pg_fresh()


def _esc_init(uri: str) -> None:
    result = run_process("--db", uri, "--now", EscRunner.now_default, "init")
    if result.code:
        raise pgserver.Failed(f"esc init on the template failed ({result.code}): {result.err}")


@pytest.fixture
def pg_fresh(request):
    """Makes fresh PostgreSQL databases, each dropped after the test: `pg_fresh()` an
    empty one, `pg_fresh("esc_template")` an initialised esc store (a clone of the run's
    template, which `esc init` built once)."""
    made: list[str] = []
    server: dict = {}

    def make(kind: str = "template0") -> str:
        server.update(request.getfixturevalue("pg_server"))
        template = kind
        if kind == "esc_template":
            template = _template_name(server, kind)
            try:
                pgserver.template(Path(os.environ[RUN_DIR]), server["uri"], template, _esc_init)
            except pgserver.Failed as exc:
                pytest.fail(str(exc))
        name, uri = _fresh_database(server, template)
        made.append(name)
        return uri

    yield make
    for name in made:
        pgserver.drop(server["uri"], name)


@pytest.fixture
def pg_store(pg_fresh):
    """A fresh PostgreSQL database holding an initialised esc store, dropped after the test."""
    return pg_fresh("esc_template")


def run_process(*args: str, env: dict | None = None, input: str | None = None,
                timeout: float = 60, stdout=None) -> Result:
    """The installed `esc` as a real process (pipes, exit codes, concurrency). `stdout`:
    a file it writes to instead of a pipe (then `out` is empty)."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ESC_")}
    full_env.update(env or {})
    proc = subprocess.run([ESC, *args], stdout=stdout or subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, env=full_env, input=input,
                          timeout=timeout)
    return Result(proc.returncode, proc.stdout or "", proc.stderr)
